"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import time
from typing import Any


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
