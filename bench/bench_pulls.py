"""1,000 concurrent pulls against the simulator over real HTTP on 127.0.0.1.

The simulator runs in its own process so that the figures below are the engine's alone. Prints
wall time beside the baseline measured in the same run (when the slowest card was ready on the
simulator's side: no client could finish sooner), CPU seconds, peak RSS (beside RSS before the
batch) and the TCP connections the simulator saw opened.

    .venv/bin/python bench/bench_pulls.py [--pulls 1000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

from _common import rss_mib


def _simulator_process(conn, delay_scale: float) -> None:
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


async def _run(base_url: str, pulls: int, concurrency: int, data: Path) -> dict[str, float]:
    from walleo_desktop.api import WalleoClient
    from walleo_desktop.engine import PullEngine
    from walleo_desktop.engine.datakey import open_history
    from walleo_desktop.simulator import DEMO_CREDENTIALS

    store, _key = open_history(data / "history.sqlite3")
    client = WalleoClient(base_url, DEMO_CREDENTIALS, max_connections=concurrency)
    engine = PullEngine(client, store, concurrency=concurrency, agent="bench")
    gift = await client.get_gift_card("GOOGLE-PLAY")
    rss_before = rss_mib()
    cpu0 = time.process_time()
    t0 = time.time()
    ids: list[int] = []
    remaining = pulls
    while remaining:
        batch = min(remaining, 1000)
        ids += [p.id for p in engine.submit(gift, 15, count=batch)]
        remaining -= batch
    final = await engine.wait(ids)
    wall_end = time.time()
    cpu = time.process_time() - cpu0
    ok = sum(1 for p in final if p.state.value == "success")
    await engine.close()
    await client.aclose()
    store.close()
    return {"t0": t0, "end": wall_end, "cpu": cpu, "ok": ok, "rss_before": rss_before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--delay-scale", type=float, default=1.0)
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_simulator_process, args=(child, args.delay_scale), daemon=True)
    proc.start()
    base_url = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(_run(base_url, args.pulls, args.concurrency, Path(tmp)))
    parent.send("stats")
    stats = parent.recv()
    proc.join(10)

    wall = r["end"] - r["t0"]
    ready = stats["last_ready"] - r["t0"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pulls                    {args.pulls} ({r['ok']:.0f} succeeded)")
    print(f"concurrency              {args.concurrency}")
    print(f"creates on the simulator {stats['creates']} (requests {stats['requests']})")
    print(f"wall time                {wall:8.2f} s")
    print(f"  baseline: slowest card ready on the simulator {ready:.2f} s")
    print(f"  overhead beyond the baseline {wall - ready:+.2f} s (Walleo's 5-10 s poll cadence)")
    per_pull = r["cpu"] / args.pulls * 1000
    print(f"CPU time (engine process) {r['cpu']:7.2f} s  ({per_pull:.2f} ms per pull)")
    print(f"peak RSS                 {peak:8.1f} MiB")
    print(f"  baseline: RSS before the batch {r['rss_before']:.1f} MiB")
    print(f"TCP connections opened   {stats['connections']:8d}  (pool limit {args.concurrency})")


if __name__ == "__main__":
    main()
