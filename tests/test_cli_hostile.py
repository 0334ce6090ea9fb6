"""The CLI when the world is hostile: a full disk, a read-only data dir, an empty history file,
values that do not fit, another profile's pulls. Real processes, real file systems (a small
tmpfs mounted for the test), the simulator over real HTTP on 127.0.0.1.

Each case must end in bounded time with a plain sentence (never a traceback), its documented
exit code, and nothing lost: whatever was journaled finishes later with one create per intent.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import cli_env, run_cli

from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store import HistoryFilter, NewPull, PullState
from walleo_desktop.store.sqlite import open_core as open_store


@pytest.fixture
def server():
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.05, seed=11))
    sim.config.async_error_rate = 0.0
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield sim, srv


@contextlib.contextmanager
def small_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    """A real, small file system (tmpfs) mounted at ``where``: writes fail with ENOSPC once it
    is full, and it can be remounted read-only. Mounting needs root, which CI is."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


def fill(where: Path, leave: int) -> Path:
    """Fill the file system at ``where`` until about ``leave`` bytes are free."""
    filler = where / f"filler-{uuid.uuid4().hex}"
    free = shutil.disk_usage(where).free
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def assert_plain(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    assert r.stderr.strip(), "a failure must say something"


def history(data: Path) -> list:
    with open_store(data / "history.sqlite3") as store:
        return [row.pull for row in store.history(HistoryFilter(), limit=10_000).rows]


def test_a_full_disk_before_journaling_sends_nothing_and_says_so(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    with small_disk(tmp_path / "disk") as disk:
        data = disk / "data"
        r = run_cli(["--data-dir", str(data), "catalog"], env)
        assert r.returncode == 0, r.stderr
        fill(disk, leave=0)
        r = run_cli(["--data-dir", str(data), "pull", "FNAC", "50", "--count", "5"], env)
        assert r.returncode == 2
        assert_plain(r)
        assert "full" in r.stderr and "Nothing was sent" in r.stderr
    assert sim.pull_request_creates == 0


def test_a_disk_that_fills_mid_batch_ends_the_run_and_loses_nothing(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    with small_disk(tmp_path / "disk", size="8m") as disk:
        data = disk / "data"
        assert run_cli(["--data-dir", str(data), "catalog"], env).returncode == 0
        # Room to journal the batch and a few steps, not for every step of 60 pulls.
        filler = fill(disk, leave=1000 * 1024)
        r = run_cli(
            ["--data-dir", str(data), "pull", "FNAC", "50", "--count", "60", "--json"],
            env,
            timeout=120,
        )
        assert "Traceback" not in r.stderr, r.stderr
        if r.returncode == 2:  # the batch itself did not fit: nothing was sent
            assert "Nothing was" in r.stderr and sim.pull_request_creates == 0
            return
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert "could not be finished" in r.stderr and "resume" in r.stderr
        filler.unlink()  # room again: everything journaled finishes, once each
        r = run_cli(["--data-dir", str(data), "resume", "--json"], env, timeout=120)
        assert r.returncode == 0, r.stderr
        pulls = history(data)
    assert len(pulls) == 60
    assert all(p.state is PullState.SUCCESS for p in pulls)
    assert sim.pull_request_creates == 60
    assert {p.request_id for p in pulls} == set(sim.pull_requests)


def test_a_read_only_data_dir_is_said_plainly_then_resume_works(server, tmp_path):
    """A history left by a crash (its WAL and shared-memory files beside it) on a disk that is
    now read-only: `pull` and `resume` end at once with a sentence, then `resume` finishes the
    unfinished intents once the disk is writable again."""
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    work = tmp_path / "work"
    assert run_cli(["--data-dir", str(work), "catalog"], env).returncode == 0
    with small_disk(tmp_path / "disk", size="16m") as disk:
        data = disk / "data"
        data.mkdir(mode=0o700)
        with open_store(work / "history.sqlite3") as store:  # two unfinished intents
            store.add_pulls(
                [
                    NewPull(
                        request_id=f"ro-{i}",
                        gift_card_code="FNAC",
                        amount=50,
                        profile="environment",
                    )
                    for i in range(2)
                ]
            )
            for file in work.iterdir():  # copied while open, as a crash leaves them
                shutil.copy2(file, data / file.name)
        assert (data / "history.sqlite3-wal").exists()
        remount(disk, "ro")
        for args in (["pull", "FNAC", "50"], ["resume"]):
            r = run_cli(["--data-dir", str(data), *args], env, timeout=60)
            assert r.returncode in (2, 3), (args, r.returncode, r.stderr)
            assert_plain(r)
            assert "read-only" in r.stderr
        assert sim.pull_request_creates == 0
        remount(disk, "rw")
        r = run_cli(["--data-dir", str(data), "resume", "--json"], env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert [json.loads(line)["status"] for line in r.stdout.splitlines()] == ["success"] * 2
    assert sim.pull_request_creates == 2


def test_an_empty_history_file_is_refused_and_kept(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "history.sqlite3").touch()
    for args in (["resume"], ["history"], ["pull", "FNAC", "50"]):
        r = run_cli(["--data-dir", str(data), *args], env)
        assert r.returncode == 2, (args, r.stderr)
        assert_plain(r)
        assert "empty" in r.stderr
    assert (data / "history.sqlite3").stat().st_size == 0
    assert not (data / "history.key").exists()
    assert sim.pull_request_creates == 0


@pytest.mark.parametrize("amount", ["99999999999999999999", str(2**63), "1000001"])
def test_an_amount_that_does_not_fit_is_refused_in_words(server, tmp_path, amount):
    sim, srv = server
    r = run_cli(
        ["--data-dir", str(tmp_path / "data"), "pull", "FNAC", amount],
        cli_env(srv.base_url, tmp_path),
    )
    assert r.returncode == 2
    assert_plain(r)
    assert "amount" in r.stderr.lower()
    assert sim.pull_request_creates == 0


def test_a_line_break_in_a_reference_cannot_forge_history_lines(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    data = tmp_path / "data"
    forged = "T-1\n2026-01-01 00:00  success    FNAC             500 EUR  FORGED"
    r = run_cli(["--data-dir", str(data), "pull", "FNAC", "50", "--reference", forged], env)
    assert r.returncode == 2 and "one line" in r.stderr
    assert sim.pull_request_creates == 0
    # A value already in a history (an older version, another tool) is shown escaped.
    with open_store(data / "history.sqlite3") as store:
        store.add_pulls(
            [NewPull(request_id="old", gift_card_code="FNAC", amount=5, reference=forged)]
        )
    r = run_cli(["--data-dir", str(data), "history"], env)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1
    assert "FORGED" in r.stdout and "\\n" in r.stdout


def test_resume_says_where_the_other_profiles_pulls_are(tmp_path, server):
    sim, srv = server
    data = tmp_path / "data"
    env = cli_env(srv.base_url, tmp_path)
    assert run_cli(["--data-dir", str(data), "catalog"], env).returncode == 0
    with open_store(data / "history.sqlite3") as store:
        store.add_pulls(
            [
                NewPull(request_id=f"other-{i}", gift_card_code="FNAC", amount=50, profile="shop")
                for i in range(3)
            ]
        )
    r = run_cli(["--data-dir", str(data), "resume"], env)
    assert r.returncode == 0
    assert "every pull in the journal is finished" not in r.stderr
    assert "shop (3)" in r.stderr and "--profile" in r.stderr
    assert sim.pull_request_creates == 0


def test_history_and_export_without_the_key_still_read_the_rest(server, tmp_path):
    _sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # key goes to history.key
    data = tmp_path / "data"
    r = run_cli(["--data-dir", str(data), "pull", "FNAC", "50", "--json"], env)
    assert r.returncode == 0, r.stderr
    (data / "history.key").unlink()  # the key is lost (a copy without it, a reset)
    r = run_cli(["--data-dir", str(data), "history", "--json"], env)
    assert r.returncode == 0, r.stderr
    [row] = [json.loads(line) for line in r.stdout.splitlines()]
    assert row["status"] == "success" and row["card_last4"]
    assert "cannot be read" in r.stderr
    out = tmp_path / "out.csv"
    r = run_cli(["--data-dir", str(data), "export", str(out)], env)
    assert r.returncode == 0, r.stderr
    assert out.read_text().count("\n") == 2
    r = run_cli(["--data-dir", str(data), "export", str(out), "--with-codes", "--yes"], env)
    assert r.returncode == 2 and "key" in r.stderr
    assert not (data / "history.key").exists()  # no new key was made for it


def test_the_same_customer_card_twice_asks_first(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "pull", "FNAC", "50", "--reference", "TCK-77"]
    assert run_cli(args, env).returncode == 0
    again = run_cli(args, env)
    assert again.returncode == 2
    assert_plain(again)
    assert "last 24 hours" in again.stderr and "--allow-duplicate" in again.stderr
    assert sim.pull_request_creates == 1
    assert run_cli([*args, "--allow-duplicate"], env).returncode == 0
    assert sim.pull_request_creates == 2
