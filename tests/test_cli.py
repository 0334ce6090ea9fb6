"""The headless CLI, as a user runs it: real subprocesses, real HTTP to a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.simulator._catalog import load_catalog
from walleo_desktop.store.sqlite import open_core as open_store


def cli_env(base_url: str | None, tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    for k in ("WALLEO_BASE_URL", "WALLEO_API_KEY", "WALLEO_IDENTIFIER", "WALLEO_SHARED_KEY"):
        env.pop(k, None)
    if base_url:
        env.update(
            WALLEO_BASE_URL=base_url,
            WALLEO_API_KEY=DEMO_CREDENTIALS.api_key,
            WALLEO_IDENTIFIER=DEMO_CREDENTIALS.identifier,
            WALLEO_SHARED_KEY=DEMO_CREDENTIALS.shared_key,
        )
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return env


def run_cli(args, env, timeout=60, **kw):
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


@pytest.fixture
def server():
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.05, seed=3))
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield sim, srv


def fixed_card(sim: Simulator) -> tuple[str, int]:
    """A brand with fixed amounts that never fails on its own."""
    for brand in load_catalog():
        fv = brand.facial_values
        if fv["type"] == "fixed" and brand.async_error_rate == 0:
            return brand.code, fv["amounts"][0]
    raise AssertionError("no fixed gift card")


def test_pull_json_output_and_exit_code(server, tmp_path):
    sim, srv = server
    code, amount = fixed_card(sim)
    data = tmp_path / "data"
    r = run_cli(
        [
            "--data-dir",
            str(data),
            "pull",
            code,
            str(amount),
            "--count",
            "3",
            "--reference",
            "T-9",
            "--agent",
            "desk-7",
            "--json",
        ],
        cli_env(srv.base_url, tmp_path),
    )
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 3
    for obj in lines:
        assert set(obj) == {"request_id", "status", "gift_card_code", "amount", "card", "error"}
        assert obj["status"] == "success" and obj["error"] is None
        assert set(obj["card"]) == {"id", "code", "pin_code", "expire_at", "pdf_url"}
        # as Walleo sent it: midnight in its own offset, so the date reads as Walleo's day
        assert obj["card"]["expire_at"].endswith(("T00:00:00+01:00", "T00:00:00+02:00"))
        assert obj["gift_card_code"] == code and obj["amount"] == amount
    assert sim.pull_request_creates == 3
    h = run_cli(["--data-dir", str(data), "history", "--json"], cli_env(srv.base_url, tmp_path))
    assert h.returncode == 0, h.stderr
    rows = [json.loads(line) for line in h.stdout.splitlines()]
    assert {row["request_id"] for row in rows} == {o["request_id"] for o in lines}
    assert all(row["reference"] == "T-9" and row["agent"] == "desk-7" for row in rows)
    # history never prints a full code
    for obj in lines:
        assert obj["card"]["code"] not in h.stdout


def test_usage_and_configuration_errors_exit_2(server, tmp_path):
    sim, srv = server
    env = cli_env(srv.base_url, tmp_path)
    code, _ = fixed_card(sim)
    bad_amount = run_cli(["--data-dir", str(tmp_path), "pull", code, "7"], env)
    assert bad_amount.returncode == 2 and "Amount must be" in bad_amount.stderr
    assert sim.pull_request_creates == 0
    unknown = run_cli(["--data-dir", str(tmp_path), "pull", "NO-SUCH-CARD", "50"], env)
    assert unknown.returncode == 2 and "NO-SUCH-CARD" in unknown.stderr
    env.pop("WALLEO_SHARED_KEY")
    partial = run_cli(["--data-dir", str(tmp_path), "catalog"], env)
    assert partial.returncode == 2 and "WALLEO_SHARED_KEY" in partial.stderr
    no_args = run_cli(["pull"], env)
    assert no_args.returncode == 2


def test_rejected_pull_exits_1_with_walleos_reason(tmp_path):
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.05, balance=1))
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        code, amount = fixed_card(sim)
        r = run_cli(
            ["--data-dir", str(tmp_path), "pull", code, str(amount), "--json"],
            cli_env(srv.base_url, tmp_path),
        )
    assert r.returncode == 1
    obj = json.loads(r.stdout)
    assert obj["status"] == "rejected" and obj["error"]["code"] == "not_enough_funds"


def test_demo_mode_without_configuration(tmp_path):
    r = run_cli(["--data-dir", str(tmp_path), "catalog", "--json"], cli_env(None, tmp_path))
    assert r.returncode == 0, r.stderr
    assert "simulator" in r.stderr
    assert len(r.stdout.splitlines()) >= 10
    assert (tmp_path / "demo-history.sqlite3").exists()


@pytest.mark.slow
def test_sigkill_mid_batch_then_resume_loses_nothing_and_duplicates_nothing(tmp_path):
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.3, seed=5))
    sim.faults.drop = 0.1
    sim.faults.error_500 = 0.05
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        code, amount = fixed_card(sim)
        env = cli_env(srv.base_url, tmp_path)
        data = tmp_path / "data"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "walleo_desktop",
                "--data-dir",
                str(data),
                "pull",
                code,
                str(amount),
                "--count",
                "30",
                "--concurrency",
                "2",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while sim.pull_request_creates < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        creates_at_kill = sim.pull_request_creates
        assert 0 < creates_at_kill < 30  # killed mid-batch

        store = open_store(data / "history.sqlite3")
        try:
            unfinished = store.unfinished_pulls()
        finally:
            store.close()
        assert unfinished  # the kill left work behind

        r = run_cli(["--data-dir", str(data), "resume", "--json"], env, timeout=120)
        assert r.returncode == 0, r.stderr
        resumed = [json.loads(line) for line in r.stdout.splitlines()]
        assert len(resumed) == len(unfinished)

    store = open_store(data / "history.sqlite3")
    try:
        from walleo_desktop.store import HistoryFilter

        page = store.history(HistoryFilter(), limit=1000)
        assert store.unfinished_pulls() == []
    finally:
        store.close()
    pulls = [row.pull for row in page.rows]
    assert len(pulls) == 30
    assert all(p.state.value == "success" for p in pulls)
    assert {p.request_id for p in pulls} == set(sim.pull_requests)
    assert sim.pull_request_creates == 30  # every intent created exactly once
    assert all(row.card_code_last4 for row in page.rows)


@pytest.mark.slow
def test_demo_pulls_killed_mid_flight_resume_to_their_cards(tmp_path):
    """Demo mode's simulator remembers like Walleo: a pull it was asked for before a SIGKILL is
    found, and ready, after the restart (it used to stay "processing" for good)."""
    env = cli_env(None, tmp_path)  # no credentials: demo mode, the simulator in-process
    data = tmp_path / "data"
    code, amount = "LEROY-MERLIN", "50"  # 4 to 6 s to issue, never fails: time to be killed
    proc = subprocess.Popen(
        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), "pull", code, amount,
         "--count", "2", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    state = data / "demo-simulator.json"
    try:
        deadline = time.monotonic() + 60
        while True:  # until the journal shows both creates answered by the simulator
            assert proc.poll() is None, "the pull finished before it could be killed"
            assert time.monotonic() < deadline, "the creates were never answered"
            if state.exists():  # the first create is in: the history exists and is migrated
                store = open_store(data / "demo-history.sqlite3")
                try:
                    pulls = store.unfinished_pulls()
                finally:
                    store.close()
                if len(pulls) == 2 and {p.state.value for p in pulls} <= {"waiting", "processing"}:
                    break
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    remembered = Simulator(SimulatorConfig(state_path=state))
    assert set(remembered.pull_requests) == {p.request_id for p in pulls}
    assert remembered.cards == {}  # not issued yet when it was killed

    r = run_cli(["--data-dir", str(data), "resume", "--json"], env, timeout=90)
    assert r.returncode == 0, r.stderr
    resumed = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(o["request_id"] for o in resumed) == sorted(p.request_id for p in pulls)
    assert all(o["status"] == "success" and o["card"]["code"] for o in resumed)
    after = Simulator(SimulatorConfig(state_path=state))
    assert after.pull_request_creates == 2  # exactly one create per intent, across the kill
    assert {c.id for c in after.cards.values()} == {o["card"]["id"] for o in resumed}


def test_the_team_command_parses_as_before_without_team_mode_loaded(tmp_path, capsys):
    """`walleo-desktop` parses its commands with a stand-in for `team` (team mode's imports
    are half a second the window never needs); a `team` command gets the real parser."""
    from walleo_desktop import cli

    real = cli.build_parser()
    stand_in = cli.build_parser(team=False)
    helps = [
        {a.dest: a.help for a in p._subparsers._group_actions[0]._choices_actions}  # type: ignore[union-attr]
        for p in (real, stand_in)
    ]
    assert helps[0] == helps[1]  # `walleo-desktop --help` says the same
    assert helps[0]["team"] == cli.TEAM_HELP
    args = stand_in.parse_args(["--data-dir", "d", "team", "invite", "sam", "--role", "agent"])
    assert args.command == "team" and args.data_dir is not None
    with pytest.raises(SystemExit) as exit_:
        cli.main(["team", "--help"])  # the real parser's help, with its actions
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "invite" in out and "approve" in out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["team", "invite"])  # and its errors
    assert exit_.value.code == 2
    assert "--role" in capsys.readouterr().err
    env = cli_env(None, tmp_path)
    r = run_cli(["--data-dir", str(tmp_path), "team", "status"], env)
    assert "Traceback" not in r.stderr and r.returncode != 0
    assert "team" in r.stderr.lower()
