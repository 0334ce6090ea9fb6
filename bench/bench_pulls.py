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
import os
import resource
import tempfile
import time
from pathlib import Path

from _common import load_average, rss_mib, simulator_process


async def _run(base_url: str, pulls: int, concurrency: int, data: Path) -> dict[str, float]:
    from walleo_desktop.api import WalleoClient
    from walleo_desktop.engine import PullEngine
    from walleo_desktop.engine.datakey import load_data_key
    from walleo_desktop.simulator import DEMO_CREDENTIALS
    from walleo_desktop.store import Store

    # As the app opens a history: its key first (a thread: the keyring may block), then the
    # async store, whose database threads do every write the engine awaits.
    path = data / "history.sqlite3"
    key = await asyncio.to_thread(load_data_key, path)
    store = await Store.open_sqlite(path, cipher=key.cipher())
    client = WalleoClient(base_url, DEMO_CREDENTIALS, max_connections=concurrency)
    engine = PullEngine(client, store, concurrency=concurrency, agent="bench")
    await engine.start()  # leases renewed, changes followed: as in the window and the CLI
    gift = await client.get_gift_card("GOOGLE-PLAY")
    rss_before = rss_mib()
    cpu0 = time.process_time()
    t0 = time.time()
    ids: list[int] = []
    remaining = pulls
    while remaining:
        batch = min(remaining, 1000)
        ids += [p.id for p in await engine.submit(gift, 15, count=batch)]
        remaining -= batch
    final = await engine.wait(ids)
    wall_end = time.time()
    cpu = time.process_time() - cpu0
    ok = sum(1 for p in final if p.state.value == "success")
    await engine.close()
    await client.aclose()
    await store.close()
    return {"t0": t0, "end": wall_end, "cpu": cpu, "ok": ok, "rss_before": rss_before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--delay-scale", type=float, default=1.0)
    args = parser.parse_args()

    # A throw-away history: its key must not land in the user's keyring (the file beside it).
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=simulator_process, args=(child, args.delay_scale), daemon=True)
    proc.start()
    base_url = parent.recv()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(_run(base_url, args.pulls, args.concurrency, Path(tmp)))
    parent.send("stats")
    stats = parent.recv()
    proc.join(10)

    wall = r["end"] - r["t0"]
    ready = stats["last_ready"] - r["t0"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average             {load_before} before, {load_average()} after")
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
