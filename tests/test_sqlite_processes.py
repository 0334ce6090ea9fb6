"""Several processes on one SQLite history, as users start them: real `walleo-desktop`
processes, one real file, the simulator over real HTTP.

- two `resume` started at once on the pulls a killed batch left: each pull claimed by one of
  them, one create per intent, Walleo's 5 s between two GETs of a pull, no "database is locked";
- a `resume` killed while it drives its claimed pulls: the next one takes them over and
  finishes them, one create each;
- a writer and readers at once: `history` and `export` while a batch journals and records
  cards never wait for a lock nor fail, and never see a pull go backwards.
"""

from __future__ import annotations

import csv
import itertools
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from test_cli import cli_env, fixed_card

from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store import HistoryFilter
from walleo_desktop.store.sqlite import open_core

pytestmark = pytest.mark.timeout(240)

ORDER = {"queued": 0, "sending": 1, "waiting": 2, "processing": 2, "in_doubt": 2}


def _cli(data: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _get_gaps(sim: Simulator) -> list[float]:
    times: dict[str, list[float]] = defaultdict(list)
    for r in sim.records:
        if r.method == "GET" and r.request_id:
            times[r.request_id].append(r.at)
    return [b - a for t in times.values() for a, b in itertools.pairwise(sorted(t))]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _killed_batch(sim: Simulator, data: Path, env: dict[str, str], count: int) -> None:
    """A `pull --count N` SIGKILLed once Walleo has every create and a first GET of each."""
    code, amount = fixed_card(sim)
    proc = _cli(data, env, "pull", code, str(amount), "--count", str(count), "--json")
    try:

        def polled_each() -> bool:
            asked = {r.request_id for r in sim.records if r.method == "GET" and r.request_id}
            return sim.pull_request_creates == count and len(asked) == count

        _wait_for(polled_each, 60, "the batch never sent its creates")
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with open_core(data / "history.sqlite3") as store:
        assert len(store.unfinished_pulls()) == count  # cards not ready yet: all left behind


def _all_issued(data: Path, sim: Simulator, count: int) -> None:
    with open_core(data / "history.sqlite3") as store:
        rows = store.history(HistoryFilter(), limit=1000).rows
        assert store.unfinished_pulls() == []
    assert len(rows) == count
    assert [r.pull.state.value for r in rows] == ["success"] * count
    assert all(r.card_code_last4 for r in rows)
    assert {r.pull.request_id for r in rows} == set(sim.pull_requests)
    assert len({r.pull.card_id for r in rows}) == count
    assert sim.pull_request_creates == count  # one create per intent


def test_two_resumes_at_once_share_the_killed_pulls_and_keep_walleos_cadence(tmp_path):
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=4.0, seed=21))
    sim.config.async_error_rate = 0.0
    data = tmp_path / "data"
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        env = cli_env(server.base_url, tmp_path)
        env["WALLEO_LEASE_SECONDS"] = "3"
        _killed_batch(sim, data, env, 10)
        first, second = _cli(data, env, "resume", "--json"), _cli(data, env, "resume", "--json")
        outs = [p.communicate(timeout=180) for p in (first, second)]
    for proc, (_out, err) in zip((first, second), outs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err, err
    finished = [json.loads(line) for out, _err in outs for line in out.splitlines()]
    # Each pull was finished by exactly one of them: the other left it alone.
    assert sorted(o["request_id"] for o in finished) == sorted(sim.pull_requests)
    _all_issued(data, sim, 10)
    gaps = _get_gaps(sim)
    assert len(gaps) >= 10
    assert min(gaps) >= 5.0, sorted(gaps)[:5]


def test_a_resume_killed_while_it_drives_is_taken_over_by_the_next(tmp_path):
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=5.0, seed=22))
    sim.config.async_error_rate = 0.0
    data = tmp_path / "data"
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        env = cli_env(server.base_url, tmp_path)
        env["WALLEO_LEASE_SECONDS"] = "3"
        _killed_batch(sim, data, env, 6)
        gets_before = sum(1 for r in sim.records if r.method == "GET" and r.request_id)
        driver = _cli(data, env, "resume", "--json")
        try:
            _wait_for(  # it has claimed them and polls them: a GET of each since it started
                lambda: (
                    sum(1 for r in sim.records if r.method == "GET" and r.request_id)
                    >= gets_before + 6
                ),
                60,
                "the first resume never polled",
            )
            with open_core(data / "history.sqlite3") as store:
                held = [p for p in store.unfinished_pulls() if p.lease_owner]
            assert held, "the first resume holds no lease on the pulls it drives"
        finally:
            driver.kill()
            driver.communicate(timeout=10)
        taker = _cli(data, env, "resume", "--json")
        out, err = taker.communicate(timeout=180)
    assert taker.returncode == 0, err
    assert "Traceback" not in err
    assert 1 <= len(out.splitlines()) <= 6  # what the killed one had not finished
    _all_issued(data, sim, 6)
    assert min(_get_gaps(sim)) >= 5.0


def test_readers_while_a_batch_writes_never_wait_for_a_lock_nor_see_a_pull_go_back(tmp_path):
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.3, seed=23))
    sim.config.async_error_rate = 0.0
    data = tmp_path / "data"
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        env = cli_env(server.base_url, tmp_path)
        code, amount = fixed_card(sim)
        writer = _cli(
            data, env, "pull", code, str(amount), "--count", "40", "--concurrency", "8", "--json"
        )
        seen: dict[str, int] = {}
        reads = exports = 0
        try:
            _wait_for(lambda: (data / "history.sqlite3").exists(), 30, "no history was made")
            while writer.poll() is None or reads < 3:
                history = subprocess.run(
                    [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data),
                     "history", "--json", "--limit", "1000"],
                    env=env, capture_output=True, text=True, timeout=60,
                )  # fmt: skip
                assert history.returncode == 0, history.stderr
                assert "locked" not in history.stderr
                for line in history.stdout.splitlines():
                    pull = json.loads(line)
                    rank = 3 if pull["status"] in ("success", "error", "rejected") else 0
                    rank = rank or ORDER.get(pull["status"], 0)
                    assert rank >= seen.get(pull["request_id"], 0), pull
                    seen[pull["request_id"]] = rank
                reads += 1
                if reads % 3 == 0:
                    out = tmp_path / f"export-{reads}.csv"
                    export = subprocess.run(
                        [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data),
                         "export", str(out)],
                        env=env, capture_output=True, text=True, timeout=60,
                    )  # fmt: skip
                    assert export.returncode == 0, export.stderr
                    with out.open(encoding="utf-8-sig", newline="") as fh:
                        assert len(list(csv.reader(fh))) >= 1
                    exports += 1
            out_w, err_w = writer.communicate(timeout=120)
        finally:
            if writer.poll() is None:
                writer.kill()
    assert writer.returncode == 0, err_w
    assert len(out_w.splitlines()) == 40
    assert reads >= 3 and exports >= 1
    _all_issued(data, sim, 40)
