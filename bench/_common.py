"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Every benchmark's filled history is the same one: same seed, same present (the 90 days of
# bench_history's cases end here), shared through one cache folder.
FILL_SEED = 1
FILL_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def rss_mib() -> float:
    """This process's resident set size now, in MiB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other engineers share the machine: figures are
    skewed when it is busy)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def simulator_process(conn: Any, delay_scale: float) -> None:
    """A Walleo stand-in over real HTTP, in a process of its own (``multiprocessing`` spawn):
    sends its base URL, then, when asked ``"stats"``, what it saw."""
    from walleo_desktop.simulator import (
        DEMO_CREDENTIALS,
        Simulator,
        SimulatorConfig,
        serve_in_thread,
    )

    sim = Simulator(
        SimulatorConfig(
            credentials=DEMO_CREDENTIALS, delay_scale=delay_scale, async_error_rate=0.0, seed=1
        )
    )
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        conn.send(server.base_url)
        conn.recv()  # "stats"
        ready = [p.created_at + p.delay for p in sim.pull_requests.values()]
        conn.send(
            {
                "creates": sim.pull_request_creates,
                "connections": sim.connections_opened,
                "requests": len(sim.records),
                "last_ready": max(ready) if ready else 0.0,
            }
        )


def gc_pauses() -> dict[str, list[float]]:
    """Every collection of Python's cyclic garbage collector from now on, its milliseconds by
    generation: a collection stops every thread, the GUI's included."""
    import gc

    pauses: dict[str, list[float]] = {"0": [], "1": [], "2": []}
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            now = time.perf_counter()
            ms = (now - started[0]) * 1000
            pauses[str(info["generation"])].append(ms)
            if ms > 10:
                pauses.setdefault("long", []).append((now, ms, info["generation"]))  # type: ignore[arg-type]

    gc.callbacks.append(timed)
    return pauses


def cache_dir(arg: Path | None) -> Path:
    """Where filled histories are kept: ``arg``, else ``$XDG_CACHE_HOME/walleo-desktop-bench``."""
    if arg is not None:
        return arg
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "walleo-desktop-bench"


def filled_history(cache: Path, rows: int) -> Path:
    """``cache/history-ROWS/history.sqlite3`` with ``rows`` pulls, filled once by
    ``scripts/fill_history.py`` (``FILL_SEED``, ``FILL_NOW``; the key in ``history.key`` beside
    it, no keyring) and reused while its schema is today's and its count right."""
    sys.path.insert(0, str(ROOT))
    from walleo_desktop.store.sqlite.schema import SCHEMA_VERSION

    data = cache / f"history-{rows}"
    path = data / "history.sqlite3"
    if path.exists() and (data / "history.key").exists():
        conn = sqlite3.connect(path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM pulls").fetchone()[0]
        finally:
            conn.close()
        if version == SCHEMA_VERSION and count == rows:
            print(f"reusing {path} ({rows:,} pulls, schema v{version})", flush=True)
            return path
        print(f"{path}: schema v{version}, {count:,} pulls: filling it again", flush=True)
    for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)  # its key (history.key), if any, stays and fits
    data.mkdir(parents=True, exist_ok=True)
    print(f"filling {path} with {rows:,} pulls (once; kept for later runs)…", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fill_history.py"), "--rows", str(rows),
         "--data-dir", str(data), "--seed", str(FILL_SEED), "--now", FILL_NOW.isoformat()],
        check=True,
        env=dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"),
    )  # fmt: skip
    return path
