"""The history tab at scale: each figure beside a baseline measured in the same run.

    .venv/bin/python bench/bench_history.py [--rows 1000000] [--cache DIR]

The filled history is made once by ``scripts/fill_history.py`` and kept in the cache dir
(default ``$XDG_CACHE_HOME/walleo-desktop-bench``, i.e. ``~/.cache/...``; about 1.9 GB for 1M
pulls, ~50 s to make); later runs reuse it. Each GUI figure is taken in a fresh process
(offscreen Qt), so RSS is the view's own:

- first paint: from ``HistoryView(...)`` to the first paint of the table's viewport that shows
  rows (the count and the first page are in), 1M pulls vs an empty history;
- filter + sort to first screen: from setting the filter (or clicking a header) to the first
  paint of the new rows, vs the same page fetched with the sqlite3 module directly (same
  file, same WHERE/ORDER BY/LIMIT, no count, no Python objects);
- CSV export (standard preset, whole history) vs the sqlite3 command-line shell writing the
  same columns with ``-csv``; with the export's peak RSS;
- RSS after the view is shown and its totals and chart are in, 1M pulls vs empty.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import rss_mib

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS_SQL = (
    "p.created_at, p.agent, p.reference, p.note, p.gift_card_code, p.gift_card_name, p.amount, "
    "p.currency, p.cost_cents / 100.0, p.state, p.request_id, p.card_id, c.code_last4, "
    "c.expire_at, p.error_code, p.error_message"
)
JOIN = "FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id"


def _cache_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "walleo-desktop-bench"


def _filled(cache: Path, rows: int) -> Path:
    from walleo_desktop.store.schema import SCHEMA_VERSION

    data = cache / f"history-{rows}"
    path = data / "history.sqlite3"
    if path.exists():
        conn = sqlite3.connect(path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM pulls").fetchone()[0]
        finally:
            conn.close()
        if version == SCHEMA_VERSION and count == rows:
            print(f"reusing {path} ({rows:,} pulls)")
            return path
        for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
            (data / name).unlink(missing_ok=True)
    print(f"filling {path} with {rows:,} pulls (once; kept for later runs)…", flush=True)
    sys.path.insert(0, str(ROOT / "scripts"))
    from fill_history import fill

    seconds = fill(path, rows)
    print(f"  filled in {seconds:.1f} s ({path.stat().st_size / 2**20:,.0f} MiB)")
    return path


# -- child processes -----------------------------------------------------------------------


def _child_view(path: Path, scenarios: bool) -> dict[str, object]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QEventLoop, QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from walleo_desktop.engine.datakey import open_history
    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.ui.history_model import Columns
    from walleo_desktop.ui.history_view import HistoryView

    store, _key = open_history(path)
    painted: list[float] = []

    class Paints(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    def spin_until(predicate, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                view.shutdown()
                raise SystemExit("timed out")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)

    def first_screen(start: float, view: HistoryView) -> float:
        """Seconds from ``start`` to the first viewport paint after the query finished."""
        spin_until(lambda: not view.model.loading)
        done = time.perf_counter()
        painted.clear()
        view.table.viewport().update()
        spin_until(lambda: bool(painted))
        return max(painted[0], done) - start

    paints = Paints()
    started = time.perf_counter()
    view = HistoryView(store)
    got = {"totals": False, "daily": False}
    view.model.totals_ready.connect(lambda _t: got.__setitem__("totals", True))
    view.model.daily_ready.connect(lambda _d: got.__setitem__("daily", True))
    view.table.viewport().installEventFilter(paints)
    view.resize(1400, 860)
    view.show()
    first_paint = first_screen(started, view)
    spin_until(lambda: all(got.values()) and not view.model.busy, timeout=120)
    for _ in range(20):
        app.processEvents()
    result: dict[str, object] = {
        "rows": view.model.rowCount(),
        "first_paint_ms": first_paint * 1000,
        "rss_mib": rss_mib(),
        "pages_fetched": view.model.pages_fetched,
    }
    if scenarios:
        timings = {}
        since = time.time() - 90 * 86400
        from datetime import UTC, datetime

        flt = HistoryFilter(since=datetime.fromtimestamp(since, UTC), gift_card_codes=("FNAC",))
        start = time.perf_counter()
        view.model.set_filter(flt)
        timings["brand+90 days, by date"] = first_screen(start, view)
        start = time.perf_counter()
        view.table.horizontalHeader().sectionClicked.emit(Columns.AMOUNT)
        timings["brand+90 days, by amount"] = first_screen(start, view)
        start = time.perf_counter()
        view.model.set_filter(HistoryFilter())
        timings["no filter, by amount"] = first_screen(start, view)
        start = time.perf_counter()
        view.model.set_filter(HistoryFilter(search="TCK-12"))
        timings["search 'TCK-12', by amount"] = first_screen(start, view)
        spin_until(lambda: not view.model.busy)  # the count, for the scroll bar
        start = time.perf_counter()
        view.table.scrollToBottom()
        last = view.model.rowCount() - 1
        spin_until(lambda: view.model.row_at(last) is not None)
        timings["search, scroll to the last row"] = time.perf_counter() - start
        result["scenarios_ms"] = {k: v * 1000 for k, v in timings.items()}
        result["since"] = since
    view.shutdown()
    store.close()
    return result


def _child_export(path: Path, out: Path) -> dict[str, object]:
    from walleo_desktop.engine.datakey import open_history
    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.store.export import export_csv

    before = rss_mib()
    with open_history(path)[0] as store:
        start = time.perf_counter()
        result = export_csv(store, HistoryFilter(), out)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": result.rows, "seconds": seconds, "rss_before": before, "peak_rss": peak}


def _run_child(*args: str) -> dict[str, object]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- baselines ------------------------------------------------------------------------------


def _raw_page(path: Path, flt: object, sort: str) -> float:
    """The same page with the sqlite3 module directly: the WHERE and ORDER BY the store builds
    (so the same indexes), one SELECT of the shown columns, no count, no records, no Qt."""
    from walleo_desktop.store.history import HistoryFilter, filter_sql, order_sql

    assert isinstance(flt, HistoryFilter)
    where, params = filter_sql(flt)
    conn = sqlite3.connect(path)
    conn.create_function(
        "wd_casefold", 1, lambda v: v.casefold() if isinstance(v, str) else None, deterministic=True
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # open + read the schema
        order = order_sql(sort, True)
        sql = f"SELECT p.id, {COLUMNS_SQL} {JOIN} {where} {order} LIMIT 200"
        start = time.perf_counter()
        conn.execute(sql, params).fetchall()
        return time.perf_counter() - start
    finally:
        conn.close()


def _raw_cli_export(path: Path, out: Path) -> float:
    sql = f"SELECT {COLUMNS_SQL} {JOIN} ORDER BY p.created_at DESC, p.id DESC;"
    start = time.perf_counter()
    with out.open("wb") as fh:
        subprocess.run(
            ["/usr/bin/sqlite3", "-csv", "-header", str(path), sql], stdout=fh, check=True
        )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, help="where the filled history is kept")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "view":
            print(json.dumps(_child_view(Path(rest[0]), rest[1] == "1")))
        else:
            print(json.dumps(_child_export(Path(rest[0]), Path(rest[1]))))
        return 0

    path = _filled(_cache_dir(args.cache), args.rows)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        from walleo_desktop.store import Store

        empty = tmp / "empty.sqlite3"
        Store.open(empty).close()
        cold = _run_child("view", str(path), "0")  # warms the page cache for what follows
        big = _run_child("view", str(path), "1")
        small = _run_child("view", str(empty), "0")
        print()
        print(f"History of {args.rows:,} pulls, {path.stat().st_size / 2**20:,.0f} MiB")
        print(
            f"first paint (rows shown)       {big['first_paint_ms']:8.1f} ms   empty history: "
            f"{small['first_paint_ms']:.1f} ms   (first run, cold cache: "
            f"{cold['first_paint_ms']:.1f} ms; pages read: {big['pages_fetched']})"
        )
        print(
            f"RSS, view shown + totals/chart {big['rss_mib']:8.1f} MiB  empty history: "
            f"{small['rss_mib']:.1f} MiB"
        )
        since = float(big["since"])  # type: ignore[arg-type]
        from datetime import UTC, datetime

        from walleo_desktop.store import HistoryFilter

        since_at = datetime.fromtimestamp(since, UTC)
        brand = HistoryFilter(since=since_at, gift_card_codes=("FNAC",))
        baselines = {
            "brand+90 days, by date": (brand, "created_at"),
            "brand+90 days, by amount": (brand, "amount"),
            "no filter, by amount": (HistoryFilter(), "amount"),
            "search 'TCK-12', by amount": (HistoryFilter(search="TCK-12"), "amount"),
        }
        print("filter + sort to first screen (view: first page + thread hop + paint; raw: SELECT):")
        scenarios = big["scenarios_ms"]
        assert isinstance(scenarios, dict)
        for name, ms in scenarios.items():
            if name in baselines:
                raw = _raw_page(path, *baselines[name]) * 1000
                print(f"  {name:<32} {ms:8.1f} ms   raw sqlite3 page: {raw:.1f} ms")
            else:
                print(f"  {name:<32} {ms:8.1f} ms")
        ours = _run_child("export", str(path), str(tmp / "ours.csv"))
        raw_seconds = _raw_cli_export(path, tmp / "raw.csv")
        size = (tmp / "ours.csv").stat().st_size / 2**20
        print(
            f"CSV export, standard           {ours['seconds']:8.1f} s    sqlite3 -csv CLI: "
            f"{raw_seconds:.1f} s   ({ours['rows']:,} rows, {size:,.0f} MiB; export peak RSS "
            f"{ours['peak_rss']:.0f} MiB, {ours['rss_before']:.0f} MiB before)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
