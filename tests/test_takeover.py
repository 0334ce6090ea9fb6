"""A desktop that stops without dying (a laptop lid closed, a frozen VM, a starved machine):
its leases expire, another process takes its pulls over, then it wakes up with every timer
overdue. It must ask its lease before it asks Walleo: no GET of one pull closer than Walleo's
5 s, one create per intent. Real processes (SIGSTOP / SIGCONT), a real SQLite file, the
simulator over real HTTP.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest
from test_cli import cli_env

from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store.sqlite import open_core

pytestmark = pytest.mark.timeout(180)


@contextlib.contextmanager
def desktop(tmp_path, delay_scale: float, seed: int):
    """A simulator over HTTP, and how to run `walleo-desktop` on one data dir with 3 s leases."""
    sim = Simulator(
        SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=delay_scale, seed=seed)
    )
    sim.config.async_error_rate = 0.0
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        env = cli_env(server.base_url, tmp_path)
        env["WALLEO_LEASE_SECONDS"] = "3"
        cmd = [sys.executable, "-m", "walleo_desktop", "--data-dir", str(tmp_path / "data")]

        def start(*args: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [*cmd, *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        yield sim, start


def test_a_desktop_that_wakes_after_a_takeover_asks_its_lease_before_walleo(tmp_path):
    data = tmp_path / "data"
    with desktop(tmp_path, delay_scale=6.0, seed=9) as (sim, start):
        sleeper = start("pull", "CARREFOUR", "10", "--count", "5", "--json")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # every create sent, first checks made
                gets = [r for r in sim.records if r.method == "GET" and r.request_id]
                if sim.pull_request_creates == 5 and len({r.request_id for r in gets}) == 5:
                    break
                time.sleep(0.05)
            assert sim.pull_request_creates == 5
            os.kill(sleeper.pid, signal.SIGSTOP)  # the lid closes
            time.sleep(4.0)  # its 3 s leases run out
            other = start("resume", "--json")
            time.sleep(6.0)  # the other process polls them now
            os.kill(sleeper.pid, signal.SIGCONT)  # the lid opens: every timer is overdue
            _out, err = other.communicate(timeout=120)
            assert other.returncode == 0, err
            # It does not wait for ever for pulls it no longer drives: it reports them as the
            # journal has them (issued by the other, or still in its hands: exit 3, said).
            _out, err = sleeper.communicate(timeout=60)
            assert sleeper.returncode in (0, 3), err
            assert sleeper.returncode == 0 or "another process" in err
            assert "Traceback" not in err
        finally:
            for proc in (sleeper,):
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGCONT)
                    proc.kill()
    assert sim.pull_request_creates == 5
    times: dict[str, list[float]] = defaultdict(list)
    for r in sim.records:
        if r.method == "GET" and r.request_id:
            times[r.request_id].append(r.at)
    gaps = [b - a for t in times.values() for a, b in itertools.pairwise(sorted(t))]
    assert len(gaps) >= 5
    assert min(gaps) >= 5.0, sorted(gaps)[:5]
    with open_core(data / "history.sqlite3") as store:
        states = [p.state.value for p in store.recent_pulls(10)]
    assert states == ["success"] * 5


def test_a_running_pull_keeps_its_leases_longer_than_one_lease(tmp_path):
    """`pull` drives its own cards without being `start()`ed: it must renew their leases all
    the same, or a `resume` (or a window) started meanwhile takes over pulls a live process
    is polling."""
    with desktop(tmp_path, delay_scale=5.0, seed=4) as (sim, start):
        puller = start("pull", "CARREFOUR", "10", "--count", "3", "--json")
        try:
            deadline = time.monotonic() + 60
            while sim.pull_request_creates < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(5.0)  # longer than one lease, cards not ready yet
            resumer = start("resume", "--json")
            resumed, err = resumer.communicate(timeout=60)
            assert resumer.returncode == 0, err
            assert resumed == ""  # nothing to resume: every pull has its live driver
            out, err = puller.communicate(timeout=120)
            assert puller.returncode == 0, err
        finally:
            if puller.poll() is None:
                puller.kill()
    assert sim.pull_request_creates == 3 and len(out.splitlines()) == 3
