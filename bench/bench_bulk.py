"""Bulk orders: the preview of a 50,000-row order, and the window's event-loop lag meanwhile.

    .venv/bin/python bench/bench_bulk.py [--rows 50000] [--issue 2000]

1. Preview (``engine.bulk.read_order``: read, parse, check every row against the catalog) of a
   CSV and an XLSX of ``--rows`` rows, beside the baseline asked for: the ``csv`` module
   reading the same file plus one ``CatalogService.find`` per row (goal: at most 2x). The
   two alternate, best of 7 each, so that a change of the machine's load hits both alike.
   ``check_history`` (the 24-hour duplicate guard for every row, on a reader thread) apart.
2. The GUI event loop's lag, sampled by a 5 ms QTimer in a real window offscreen (the real
   dialog, on the window's own session), while the dialog previews the 50,000-row file and
   while it issues ``--issue`` cards to the simulator, which runs in another process and is
   reached over HTTP on 127.0.0.1 as Walleo would be (goal: no gap past 50 ms). Baseline: the
   same sampler with the window idle, in the same run. Each line says the load average when
   it started: other processes on the machine lengthen the gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BRANDS = [("FNAC", 50), ("SEPHORA", 25), ("IKEA", 20), ("Leroy Merlin", 100)]


def write_order(folder: Path, rows: int) -> tuple[Path, Path]:
    import openpyxl

    lines = [(BRANDS[i % 4][0], BRANDS[i % 4][1], 1 + i % 3, f"TCK-{i:06d}", f"note {i}")
             for i in range(rows)]  # fmt: skip
    path = folder / "order.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Marque", "Montant", "Quantité", "Référence", "Note"])
        w.writerows(lines)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["Brand", "Amount", "Quantity", "Reference", "Note"])
    for line in lines:
        ws.append(list(line))
    xlsx = folder / "order.xlsx"
    wb.save(xlsx)
    return path, xlsx


def best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _simulator_process(conn, delay_scale: float) -> None:
    """The simulator in its own process (spawned): its work is not the window's."""
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
        while conn.recv() == "creates":
            conn.send(sim.pull_request_creates)


def preview_figures(csv_path: Path, xlsx_path: Path, cards: list) -> None:
    from walleo_desktop.engine.bulk import read_order
    from walleo_desktop.engine.catalog import CatalogService

    catalog = CatalogService(None, None, "bench")  # type: ignore[arg-type]
    catalog._cards = {g.code: g for g in cards}

    def baseline() -> None:
        with csv_path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f, delimiter=";"):
                catalog.find(row[0])

    print(f"preview figures ({load()})")
    bases, ours = [], []
    for _ in range(7):
        bases.append(best(baseline, runs=1))
        ours.append(best(lambda: read_order(csv_path, cards), runs=1))
    base, our = min(bases), min(ours)
    xlsx = best(lambda: read_order(xlsx_path, cards), runs=3)
    print(f"preview, CSV:   {our * 1000:7.1f} ms   baseline csv + find per row: "
          f"{base * 1000:6.1f} ms   ratio {our / base:4.2f}x (goal <= 2x)")  # fmt: skip
    print(f"preview, XLSX:  {xlsx * 1000:7.1f} ms   (calamine parse included)")


async def gui_figures(csv_path: Path, issue: int, folder: Path, simulator) -> None:
    from _common import gc_pauses
    from PySide6.QtCore import QSettings, QTimer

    from walleo_desktop.engine import Connection, PollPolicy, Session
    from walleo_desktop.simulator import DEMO_CREDENTIALS
    from walleo_desktop.ui.app import settle_garbage_collector
    from walleo_desktop.ui.main_window import MainWindow

    base_url, pipe = simulator
    gaps: list[float] = []
    long_at: list[float] = []  # when each gap over 50 ms ended
    last = [time.perf_counter()]
    pauses = gc_pauses()

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        if now - last[0] > 0.05:
            long_at.append(now)
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    idle: list[float] = []

    def stats(values: list[float]) -> tuple[float, float, int]:
        worst = max(values) * 1000 if values else 0.0
        p99 = statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 100 else worst
        return worst, p99, sum(1 for g in values if g > 0.05)

    def figures(label: str, since: float) -> None:
        worst, p99, over = stats(gaps)
        line = f"{label:<40} worst gap {worst:6.1f} ms   p99 {p99:5.1f} ms   gaps > 50 ms: {over}"
        if idle:
            idle_worst, idle_p99, _ = stats(idle)
            line += f"   (idle: worst {idle_worst:.1f} ms, p99 {idle_p99:.1f} ms)"
        print(line, flush=True)
        collections = [(at, ms, g) for at, ms, g in pauses.get("long", []) if at >= since]
        if long_at or collections:
            print(
                "    gaps over 50 ms ended at "
                + (", ".join(f"{at - since:.1f} s" for at in long_at) or "-")
                + "; collections over 10 ms: "
                + (
                    ", ".join(
                        f"gen {g} {ms:.0f} ms at {at - since:.1f} s" for at, ms, g in collections
                    )
                    or "-"
                ),
                flush=True,
            )

    policy = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
    connection = Connection(
        profile="bench", base_url=base_url, credentials=DEMO_CREDENTIALS, source="environment"
    )
    session = await Session.open(connection, folder / "data", policy=policy)
    await session.catalog.refresh()
    window = MainWindow(
        session, settings=QSettings(str(folder / "w.ini"), QSettings.Format.IniFormat)
    )
    window.show()
    settle_garbage_collector()  # as the app does once its window is up
    await window.start()

    async def sample(label: str, work) -> None:
        started = load()
        gaps.clear()
        long_at.clear()
        last[0] = time.perf_counter()
        timer.start()
        t = time.perf_counter()
        await work()
        elapsed = time.perf_counter() - t
        timer.stop()
        figures(f"{label} ({elapsed:.1f} s, {started})", t)

    await sample("idle window (baseline)", lambda: asyncio.sleep(2.0))
    idle.extend(gaps)
    dialog = window.open_bulk_order()

    async def preview() -> None:
        dialog.load(csv_path)
        while dialog.preview is None or dialog.model.rowCount() == 0:
            await asyncio.sleep(0.01)

    await sample(f"dialog preview of {dialog_rows(csv_path):,} rows", preview)
    small = folder / "issue.csv"
    small.write_text(
        "brand,amount,reference\n" + "".join(f"IKEA,20,B-{i}\n" for i in range(issue)),
        encoding="utf-8",
    )
    await preview_of(dialog, small)

    async def issue_all() -> None:
        dialog.start(include_duplicates=False)
        async with asyncio.timeout(900):
            while dialog.results_path is None:
                await asyncio.sleep(0.05)

    await sample(f"dialog issuing {issue:,} cards", issue_all)
    pipe.send("creates")
    creates = pipe.recv()
    print(f"cards created by the simulator: {creates:,} (one per card: {creates == issue})")
    print(f"dialog says: {dialog.message.text()}")
    window.close()
    await window.shutdown()
    await session.close()


def dialog_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


async def preview_of(dialog, path: Path) -> None:
    dialog.preview = None
    dialog.load(path)
    async with asyncio.timeout(120):
        while dialog.preview is None:
            await asyncio.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--issue", type=int, default=2_000)
    args = parser.parse_args()
    from walleo_desktop.api.models import GiftCard
    from walleo_desktop.simulator._catalog import load_catalog

    cards = [GiftCard.from_json(b.to_api("http://127.0.0.1")) for b in load_catalog()]
    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    simulator = ctx.Process(target=_simulator_process, args=(child, 0.01), daemon=True)
    simulator.start()
    try:
        base_url = pipe.recv()
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            csv_path, xlsx_path = write_order(folder, args.rows)
            preview_figures(csv_path, xlsx_path, cards)
            import qasync
            from PySide6.QtWidgets import QApplication

            app = QApplication.instance() or QApplication([])
            app.setQuitOnLastWindowClosed(False)
            loop = qasync.QEventLoop(app)
            with loop:
                loop.run_until_complete(gui_figures(csv_path, args.issue, folder, (base_url, pipe)))
    finally:
        pipe.send("stop")
        simulator.join(10)
        if simulator.is_alive():
            simulator.terminate()


if __name__ == "__main__":
    main()
