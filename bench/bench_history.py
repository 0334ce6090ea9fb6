"""The history tab at scale (issue 14): each figure beside a baseline measured in the same run,
on SQLite and on PostgreSQL (team mode).

    .venv/bin/python bench/bench_history.py [--rows 1000000] [--cache DIR]
        [--backend sqlite|postgresql|both] [--repeats 5]

SQLite: the history is filled once by ``scripts/fill_history.py`` (``fill``, seed 1, ``NOW``)
and kept in the cache dir (default ``$XDG_CACHE_HOME/walleo-desktop-bench``); it is reused
while its schema version (``PRAGMA user_version``) and row count match. PostgreSQL: a
temporary cluster (``PgServer.temporary()``) made for the run, the team made by
``create_team``, filled by ``fill_postgres`` (same rows, COPY), ``VACUUM ANALYZE``d, removed at
the end. The view is built as the app builds it: ``HistoryView(Store.wrap(backend))`` (what
``Session`` hands the History tab; team mode wraps a ``PostgresBackend``).

Every GUI figure is taken in a fresh child process (offscreen Qt). Times end when the paint
that shows the rows has finished (the paint event is timed to its end):

1. filter/sort to first screen: from ``model.set_filter`` / the header click to the end of the
   first viewport paint after the model reset, vs raw + bare: the exact statements the store
   sends for that first page (recorded from a ``StoreCore`` as tests/test_query_plans.py does)
   run with the driver alone (``sqlite3`` on the same file / psycopg on the same database,
   ``fetchall``), plus a bare ``QTableView`` (minimal model, same rows, same column count, same
   size) from ``setModel`` to the end of its first paint. Caching: one unmeasured warm-up round,
   then ``--repeats`` rounds, each the 4 view transitions in a cycle (each a new query: the
   model caches nothing across a filter/sort change) and then the 4 raw+bare; medians. The view
   is left idle (count, totals and chart in) before anything else is timed;
2. typing ``TCK-12`` in the real search box, one ``QTest.keyClick`` every ``KEY_GAP_MS`` (longer
   than the debounce: every prefix is searched, the worst case), while a 5 ms precise QTimer
   measures the GUI event loop's lag (bench_gui_lag's ``Sampler``); then the final screen
   after the last key (with and without the 250 ms debounce) vs its raw page query;
3. tab first paint: from ``HistoryView(store)`` to the end of its first rows paint, N pulls vs
   an empty history (median of 3 fresh processes each);
4. sizes: the SQLite file per million pulls beside issue 14's 2,025 MiB; ``pg_database_size``;
5. CSV export (standard preset, whole history) vs ``sqlite3 -csv`` running the statement the
   export streams, and on PostgreSQL vs ``COPY (that statement) TO STDOUT WITH CSV``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from _common import FILL_NOW, FILL_SEED, cache_dir, filled_history, load_average, rss_mib

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW, SEED = FILL_NOW, FILL_SEED  # the fill's present (the 90 days end here) and seed
OLD_MIB_PER_MILLION = 2025  # issue 14: before catalog snapshots were deduplicated
SEARCH = "TCK-12"
KEY_GAP_MS = 400
PG_KEY = bytes(range(32))  # the team history's key (as tests/test_query_plans.py)
CASES = (
    "brand + 90 days, by date",
    "brand + 90 days, by amount",
    "no filter, by amount",
    "search 'TCK-12', by amount",
)


def _case_query(name: str) -> tuple[Any, str]:
    from walleo_desktop.store import HistoryFilter

    brand = HistoryFilter(since=NOW - timedelta(days=90), gift_card_codes=("FNAC",))
    return {
        CASES[0]: (brand, "created_at"),
        CASES[1]: (brand, "amount"),
        CASES[2]: (HistoryFilter(), "amount"),
        CASES[3]: (HistoryFilter(search=SEARCH), "amount"),
    }[name]


# -- the histories ------------------------------------------------------------------------


def _fill_module() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import fill_history
    finally:
        sys.path.pop(0)
    return fill_history


def _sqlite_empty(tmp: Path) -> Path:
    from walleo_desktop.engine.datakey import open_history

    path = tmp / "empty" / "history.sqlite3"
    path.parent.mkdir()
    open_history(path)[0].close()
    return path


class PgTeams:
    """A temporary PostgreSQL cluster with a filled team history and an empty one."""

    def __init__(self, rows: int) -> None:
        from walleo_desktop.devtools.pgserver import PgServer

        self.server = PgServer.temporary()
        self.server.start()
        self.rows = rows
        self.urls: dict[str, str] = {}

    def make(self, name: str, rows: int) -> str:
        from walleo_desktop.store.crypto import CardCipher
        from walleo_desktop.store.postgres.admin import create_team

        database = self.server.create_database(name, template="template0")
        with self.server.admin_connect(name) as admin:
            create_team(admin)
            if rows:
                started = time.perf_counter()
                print(f"filling PostgreSQL {name} with {rows:,} pulls (COPY)…", flush=True)
                _fill_module().fill_postgres(admin, rows, CardCipher(PG_KEY), seed=SEED, now=NOW)
                admin.execute("VACUUM ANALYZE")  # what autovacuum does on a server
                print(f"  filled in {time.perf_counter() - started:.1f} s", flush=True)
        self.urls[name] = database.url
        return database.url

    def size_mib(self, name: str) -> float:
        with self.server.admin_connect(name) as admin:
            row = admin.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        return float(row[0]) / 2**20

    def remove(self) -> None:
        self.server.remove()


# -- opening a history as the app does ------------------------------------------------------


def _open_store(kind: str, where: str) -> Any:
    """The ``Store`` the History tab gets: ``Store.wrap`` of the backend (Session does the
    same for a team, ``Store.open_sqlite`` for a desktop history)."""
    from walleo_desktop.store import Store

    if kind == "sqlite":
        from walleo_desktop.engine.datakey import load_data_key
        from walleo_desktop.store.sqlite import SqliteBackend

        key = load_data_key(Path(where))
        return Store.wrap(SqliteBackend.open(Path(where), cipher=key.cipher()))
    from walleo_desktop.store.crypto import CardCipher
    from walleo_desktop.store.postgres.backend import PostgresBackend

    return Store.wrap(PostgresBackend.open(where, cipher=CardCipher(PG_KEY)))


def _open_core(kind: str, where: str) -> Any:
    if kind == "sqlite":
        from walleo_desktop.engine.datakey import open_history

        return open_history(Path(where))[0]
    from walleo_desktop.store import StoreCore
    from walleo_desktop.store.crypto import CardCipher
    from walleo_desktop.store.postgres.backend import PostgresBackend

    cipher = CardCipher(PG_KEY)
    backend = PostgresBackend.open(where, cipher=cipher)
    return StoreCore(backend.main, cipher, on_close=backend.close)


class Recorder:
    """Wraps a connection's ``query``/``rows``/``stream`` (``value`` and ``one`` go through
    them) and keeps each statement with its parameters (tests/test_query_plans.py's)."""

    def __init__(self, conn: Any) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []
        for name in ("query", "rows", "stream"):
            original = getattr(conn, name)

            def recording(sql: str, params: Any = None, *rest: Any, original: Any = original):
                self.statements.append((sql, dict(params or {})))
                return original(sql, params, *rest)

            setattr(conn, name, recording)

    def run(self, call: Callable[[], Any]) -> list[tuple[str, dict[str, Any]]]:
        self.statements.clear()
        call()
        return list(self.statements)


class RawDriver:
    """The driver alone on the same history: the statements as the store sent them."""

    def __init__(self, kind: str, where: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            from walleo_desktop.store.sqlite.backend import _casefold

            self.conn: Any = sqlite3.connect(where)
            self.conn.create_function("wd_casefold", 1, _casefold, deterministic=True)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the schema
        else:
            import psycopg

            self.conn = psycopg.connect(where, autocommit=True)
            self.conn.execute("SET search_path = walleo, public")

    def run(self, statements: list[tuple[str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for sql, params in statements:
            if self.kind == "sqlite":
                rows = self.conn.execute(sql, params).fetchall()
            else:
                from walleo_desktop.store.dialect import POSTGRES

                with self.conn.cursor() as cur:
                    cur.execute(POSTGRES.sql(sql), params or None)
                    rows = cur.fetchall()
        return rows

    def timed(self, statements: list[tuple[str, dict[str, Any]]]) -> tuple[float, list[Any]]:
        start = time.perf_counter()
        rows = self.run(statements)
        return time.perf_counter() - start, rows

    def close(self) -> None:
        self.conn.close()


def _page_statements(core: Any, flt: Any, sort: str, descending: bool = True) -> list[Any]:
    """What ``HistoryQueries`` sends for a first screen: ``history(..., limit=PAGE_SIZE)``."""
    from walleo_desktop.ui.history_model import PAGE_SIZE

    recorder = Recorder(core.conn)
    return recorder.run(
        lambda: core.history(flt, sort=sort, descending=descending, limit=PAGE_SIZE)
    )


# -- Qt helpers (child processes) ------------------------------------------------------------


class _Qt:
    """The application, a paint clock on some viewports, and waiting without spinning."""

    def __init__(self) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QCoreApplication, QEvent, QObject
        from PySide6.QtWidgets import QApplication

        self.app = QApplication.instance() or QApplication([])
        self.paints: list[tuple[Any, float, float]] = []  # (widget, start, end)
        paints = self.paints

        class PaintClock(QObject):
            """Times each paint event to its end: the event is delivered from here, inside
            the repaint that sent it (the painter's redirection is still in place)."""

            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() != QEvent.Type.Paint:
                    return False
                start = time.perf_counter()
                obj.removeEventFilter(self)
                try:
                    QCoreApplication.sendEvent(obj, event)
                finally:
                    obj.installEventFilter(self)
                paints.append((obj, start, time.perf_counter()))
                return True

        self.clock = PaintClock()

    def watch(self, widget: Any) -> None:
        widget.installEventFilter(self.clock)

    def wait(self, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
        """Run the event loop until ``predicate()`` (checked every 2 ms, no busy loop)."""
        from PySide6.QtCore import QEventLoop, QTimer

        if predicate():
            return
        loop = QEventLoop()
        deadline = time.perf_counter() + timeout
        failed: list[bool] = []

        def check() -> None:
            if predicate():
                loop.quit()
            elif time.perf_counter() > deadline:
                failed.append(True)
                loop.quit()

        timer = QTimer()
        timer.setInterval(2)
        timer.timeout.connect(check)
        timer.start()
        loop.exec()
        timer.stop()
        if failed:
            raise SystemExit("timed out waiting")

    def paint_after(self, widget: Any, moment: float) -> float | None:
        """The end of the first paint of ``widget`` that started after ``moment``."""
        for obj, start, end in self.paints:
            if obj is widget and start >= moment:
                return end
        return None

    def settle(self, ms: int = 50) -> None:
        end = time.perf_counter() + ms / 1000
        self.wait(lambda: time.perf_counter() >= end)


class _Watched:
    """A HistoryView with the moments its model resets and its summary arrives."""

    def __init__(self, qt: _Qt, store: Any) -> None:
        from walleo_desktop.ui.history_view import HistoryView

        self.qt = qt
        self.resets: list[float] = []
        self.dailies: list[float] = []
        self.starts: list[float] = []
        self.start = time.perf_counter()
        self.view = HistoryView(store)
        model = self.view.model
        model.modelReset.connect(lambda: self.resets.append(time.perf_counter()))
        model.daily_ready.connect(lambda _d: self.dailies.append(time.perf_counter()))
        model.query_started.connect(lambda: self.starts.append(time.perf_counter()))
        qt.watch(self.view.table.viewport())
        self.view.resize(1400, 860)
        self.view.show()

    def first_screen(self, since: float, query_since: float | None = None) -> float:
        """Seconds from ``since`` to the end of the first table paint after a reset that
        came after ``since`` (after ``query_since``: the reset of a query started then)."""
        viewport = self.view.table.viewport()
        after = since if query_since is None else query_since

        def painted() -> float | None:
            reset = next((t for t in self.resets if t >= after), None)
            return None if reset is None else self.qt.paint_after(viewport, reset)

        self.qt.wait(lambda: painted() is not None)
        end = painted()
        assert end is not None
        return end - since

    def idle(self, since: float) -> None:
        """The count, the totals and the chart of the query started after ``since`` are in."""
        model = self.view.model
        self.qt.wait(lambda: not model.busy and any(t >= since for t in self.dailies))
        self.qt.settle(30)


def _bare_table(qt: _Qt, size: Any) -> Any:
    from PySide6.QtWidgets import QTableView

    bare = QTableView()
    bare.setObjectName("bareTable")
    bare.resize(size)
    bare.show()
    qt.watch(bare.viewport())
    return bare


def _bare_paint(qt: _Qt, bare: Any, rows: list[tuple[Any, ...]], columns: int) -> float:
    """Seconds from ``setModel`` (a minimal model of ``rows``) to the end of its first paint."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

    texts = [tuple("" if v is None else str(v) for v in r[:columns]) for r in rows]
    texts = [t + ("",) * (columns - len(t)) for t in texts]

    class Bare(QAbstractTableModel):
        def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(texts)

        def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else columns

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role == Qt.ItemDataRole.DisplayRole:
                return texts[index.row()][index.column()]
            return None

    model = Bare()
    start = time.perf_counter()
    bare.setModel(model)
    viewport = bare.viewport()
    qt.wait(lambda: qt.paint_after(viewport, start) is not None)
    end = qt.paint_after(viewport, start)
    assert end is not None
    bare.setModel(None)
    model.deleteLater()
    return end - start


# -- child: filter and sort cases -------------------------------------------------------------


def child_cases(kind: str, where: str, repeats: int) -> dict[str, Any]:
    qt = _Qt()
    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.ui.history_model import Columns

    store = _open_store(kind, where)
    watched = _Watched(qt, store)
    view = watched.view
    watched.first_screen(watched.start)
    watched.idle(watched.start)
    header = view.table.horizontalHeader()
    bare = _bare_table(qt, view.table.size())
    columns = view.model.columnCount()
    core = _open_core(kind, where)
    raw = RawDriver(kind, where)
    statements = {name: _page_statements(core, *_case_query(name)) for name in CASES}

    def transition(name: str) -> None:
        flt, sort = _case_query(name)
        if name == CASES[1]:
            header.sectionClicked.emit(Columns.AMOUNT)
        else:
            view.model.set_filter(flt)
        assert view.model.query.flt == flt and view.model.query.sort == sort, name

    def back_to_start() -> None:  # no filter, by date: where case 1 starts from
        since = time.perf_counter()
        view.model.set_filter(HistoryFilter())
        if view.model.query.sort != "created_at":
            header.sectionClicked.emit(Columns.DATE)
        if any(t >= since for t in watched.starts):  # else it shows that already
            watched.first_screen(since)
            watched.idle(since)

    view_ms: dict[str, list[float]] = {n: [] for n in CASES}
    raw_ms: dict[str, list[float]] = {n: [] for n in CASES}
    bare_ms: dict[str, list[float]] = {n: [] for n in CASES}
    shown: dict[str, int] = {}
    for round_ in range(repeats + 1):  # round 0: warm-up, not kept
        back_to_start()
        for name in CASES:
            since = time.perf_counter()
            transition(name)
            took = watched.first_screen(since)
            watched.idle(since)
            shown[name] = min(view.model.rowCount(), 200)
            if round_:
                view_ms[name].append(took * 1000)
        for name in CASES:
            seconds, rows = raw.timed(statements[name])
            painted = _bare_paint(qt, bare, rows, columns)
            if round_:
                raw_ms[name].append(seconds * 1000)
                bare_ms[name].append(painted * 1000)
            shown[name + " raw rows"] = len(rows)
    view.shutdown()
    raw.close()
    core.close()
    store.close_blocking()
    return {
        "view_ms": view_ms,
        "raw_ms": raw_ms,
        "bare_ms": bare_ms,
        "rows": shown,
        "rss_mib": rss_mib(),
    }


# -- child: typing in the search box ----------------------------------------------------------


def child_typing(kind: str, where: str, repeats: int) -> dict[str, Any]:
    qt = _Qt()
    from bench_gui_lag import Sampler  # type: ignore[import-not-found]
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest

    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.ui.history_filters import SEARCH_DEBOUNCE_MS

    store = _open_store(kind, where)
    watched = _Watched(qt, store)
    view = watched.view
    watched.first_screen(watched.start)
    watched.idle(watched.start)
    box = view.filters.search
    box.setFocus()
    sampler = Sampler()
    keys: list[tuple[float, float]] = []  # (sent, handled) of each key

    def press(ch: str) -> None:
        sent = time.perf_counter()
        QTest.keyClick(box, ch)
        keys.append((sent, time.perf_counter()))

    qt.settle(200)
    sampler.start()
    for i, ch in enumerate(SEARCH):
        QTimer.singleShot(i * KEY_GAP_MS, lambda ch=ch: press(ch))
    qt.wait(lambda: len(keys) == len(SEARCH))
    last_key = keys[-1][1]
    assert box.text() == SEARCH, box.text()
    # The final query starts when the debounce fires; a reset before it is the previous
    # prefix's (its query started before the last key).
    qt.wait(lambda: any(t >= last_key for t in watched.starts))
    started = next(t for t in watched.starts if t >= last_key)
    after_key = watched.first_screen(last_key, query_since=started)
    watched.idle(last_key)
    lags = sampler.stop()
    assert view.model.query.flt == HistoryFilter(search=SEARCH), view.model.query
    core = _open_core(kind, where)
    raw = RawDriver(kind, where)
    statements = _page_statements(core, HistoryFilter(search=SEARCH), "created_at")
    bare = _bare_table(qt, view.table.size())
    columns = view.model.columnCount()
    raw_ms, bare_ms = [], []
    for _ in range(repeats):
        seconds, rows = raw.timed(statements)
        raw_ms.append(seconds * 1000)
        bare_ms.append(_bare_paint(qt, bare, rows, columns) * 1000)
    view.shutdown()
    raw.close()
    core.close()
    store.close_blocking()
    ordered = sorted(lags)
    return {
        "lag_max_ms": ordered[-1] if ordered else 0.0,
        "lag_p99_ms": statistics.quantiles(ordered, n=100)[98] if len(ordered) > 2 else 0.0,
        "ticks": len(ordered),
        "key_max_ms": max((b - a) * 1000 for a, b in keys),
        "after_last_key_ms": after_key * 1000,
        "after_debounce_ms": (after_key - (started - last_key)) * 1000,
        "debounce_ms": SEARCH_DEBOUNCE_MS,
        "raw_ms": statistics.median(raw_ms),
        "bare_ms": statistics.median(bare_ms),
    }


# -- child: tab first paint -------------------------------------------------------------------


def child_first_paint(kind: str, where: str) -> dict[str, Any]:
    qt = _Qt()
    store = _open_store(kind, where)
    from walleo_desktop.ui.history_view import HistoryView  # noqa: F401 - imported first

    watched = _Watched(qt, store)
    took = watched.first_screen(watched.start)
    result = {"ms": took * 1000, "rows": watched.view.model.rowCount()}
    watched.idle(watched.start)
    result["rss_mib"] = rss_mib()
    watched.view.shutdown()
    store.close_blocking()
    return result


# -- child: CSV export -----------------------------------------------------------------------


def child_export(kind: str, where: str, out: str) -> dict[str, Any]:
    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.store.export import export_csv

    core = _open_core(kind, where)
    recorder = Recorder(core.conn)
    start = time.perf_counter()
    result = export_csv(core, HistoryFilter(), Path(out))
    seconds = time.perf_counter() - start
    streamed = [(s, p) for s, p in recorder.statements if "FROM pulls p" in s]
    core.close()
    return {
        "rows": result.rows,
        "seconds": seconds,
        "sql": streamed[-1][0],
        "params": streamed[-1][1],
    }


def _run_child(*args: str) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _child(args: list[str]) -> dict[str, Any]:
    what, kind, where, *rest = args
    if what == "cases":
        return child_cases(kind, where, int(rest[0]))
    if what == "typing":
        return child_typing(kind, where, int(rest[0]))
    if what == "firstpaint":
        return child_first_paint(kind, where)
    return child_export(kind, where, rest[0])


# -- baselines for the export -------------------------------------------------------------


def _sqlite_cli_export(
    path: Path, sql: str, params: dict[str, Any], out: Path
) -> tuple[float, str]:
    cli = shutil.which("sqlite3")
    start = time.perf_counter()
    if cli is not None and not params:
        with out.open("wb") as fh:
            subprocess.run([cli, "-csv", "-header", str(path), sql + ";"], stdout=fh, check=True)
        return time.perf_counter() - start, f"{cli} -csv"
    import csv

    conn = sqlite3.connect(path)
    try:
        cursor = conn.execute(sql, params)
        with out.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([d[0] for d in cursor.description])
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
    finally:
        conn.close()
    return time.perf_counter() - start, "python sqlite3 + csv (no sqlite3 CLI)"


def _pg_copy_export(url: str, sql: str, params: dict[str, Any], out: Path) -> float:
    import psycopg

    from walleo_desktop.store.dialect import POSTGRES

    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET search_path = walleo, public")
        text = POSTGRES.sql(sql) if params else sql
        with (
            cur.copy(f"COPY ({text}) TO STDOUT WITH (FORMAT csv, HEADER)", params or None) as copy,
            out.open("wb") as fh,
        ):
            for data in copy:
                fh.write(data)
    return time.perf_counter() - start


# -- the report -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@contextmanager
def _section(title: str) -> Iterator[None]:
    print(f"\n== {title} (load {load_average()})", flush=True)
    yield
    sys.stdout.flush()


def _report_backend(
    label: str, kind: str, full: str, empty: str, rows: int, repeats: int, tmp: Path
) -> None:
    with _section(f"{label}: filter/sort to first screen, median of {repeats} (warm)"):
        cases = _run_child("cases", kind, full, str(repeats))
        print(
            f"  {'case':<28} {'view':>9} {'raw page':>9} {'bare view':>9} {'raw+bare':>9} "
            f"{'ratio':>6}  goal <= 1.5x"
        )
        for name in CASES:
            v = _median(cases["view_ms"][name])
            r = _median(cases["raw_ms"][name])
            b = _median(cases["bare_ms"][name])
            ratio = v / (r + b)
            print(
                f"  {name:<28} {v:7.1f}ms {r:7.1f}ms {b:7.1f}ms {r + b:7.1f}ms {ratio:5.2f}x  "
                f"{_verdict(ratio <= 1.5)}  (view runs: "
                f"{', '.join(f'{x:.0f}' for x in cases['view_ms'][name])} ms; "
                f"{cases['rows'][name + ' raw rows']} rows)"
            )
    with _section(f"{label}: typing '{SEARCH}', one key every {KEY_GAP_MS} ms"):
        t = _run_child("typing", kind, full, str(repeats))
        print(
            f"  GUI event-loop lag while typing (5 ms timer, {t['ticks']} ticks): max "
            f"{t['lag_max_ms']:.1f} ms, p99 {t['lag_p99_ms']:.1f} ms  goal max <= 50 ms  "
            f"{_verdict(t['lag_max_ms'] <= 50)}; longest key handling {t['key_max_ms']:.1f} ms"
        )
        raw_bare = t["raw_ms"] + t["bare_ms"]
        ratio = t["after_debounce_ms"] / raw_bare
        print(
            f"  final screen after the last key {t['after_last_key_ms']:.1f} ms (of which the "
            f"{t['debounce_ms']} ms debounce); after the debounce {t['after_debounce_ms']:.1f} "
            f"ms vs raw page {t['raw_ms']:.1f} ms + bare view {t['bare_ms']:.1f} ms = "
            f"{ratio:.2f}x (vs the raw query alone {t['after_debounce_ms'] / t['raw_ms']:.1f}x)"
            f"  goal <= 1.5x  {_verdict(ratio <= 1.5)}"
        )
    with _section(f"{label}: tab first paint, median of 3 fresh processes each"):
        big, small = [], []
        for _ in range(3):
            big.append(_run_child("firstpaint", kind, full))
            small.append(_run_child("firstpaint", kind, empty))
        b = _median([x["ms"] for x in big])
        s = _median([x["ms"] for x in small])
        print(
            f"  {rows:,} pulls {b:.1f} ms  empty history {s:.1f} ms  {b / s:.2f}x  goal <= 1.2x  "
            f"{_verdict(b / s <= 1.2)}  (runs {', '.join(f'{x["ms"]:.0f}' for x in big)} / "
            f"{', '.join(f'{x["ms"]:.0f}' for x in small)} ms; RSS with totals and chart in "
            f"{_median([x['rss_mib'] for x in big]):.0f} / "
            f"{_median([x['rss_mib'] for x in small]):.0f} MiB)"
        )
    with _section(f"{label}: CSV export, standard preset, whole history"):
        ours = _run_child("export", kind, full, str(tmp / f"{kind}-ours.csv"))
        if kind == "sqlite":
            base, what = _sqlite_cli_export(
                Path(full), ours["sql"], ours["params"], tmp / f"{kind}-raw.csv"
            )
        else:
            base = _pg_copy_export(full, ours["sql"], ours["params"], tmp / f"{kind}-raw.csv")
            what = "COPY (same SELECT) TO STDOUT WITH CSV, psycopg"
        ours_mib = (tmp / f"{kind}-ours.csv").stat().st_size / 2**20
        raw_mib = (tmp / f"{kind}-raw.csv").stat().st_size / 2**20
        ratio = ours["seconds"] / base
        print(
            f"  export_csv {ours['seconds']:.2f} s ({ours['rows']:,} rows, {ours_mib:,.0f} MiB)  "
            f"{what}: {base:.2f} s ({raw_mib:,.0f} MiB)  {ratio:.2f}x  goal <= 2x (issue 11)  "
            f"{_verdict(ratio <= 2)}"
        )
        for name in (f"{kind}-ours.csv", f"{kind}-raw.csv"):
            (tmp / name).unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, help="where the filled SQLite history is kept")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0

    rows = args.rows
    print(f"bench_history: {rows:,} pulls, backend {args.backend}, load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="walleo-bench-history-") as tmp_dir:
        tmp = Path(tmp_dir)
        if args.backend in ("sqlite", "both"):
            path = filled_history(cache_dir(args.cache), rows)
            empty = _sqlite_empty(tmp)
            _report_backend("SQLite", "sqlite", str(path), str(empty), rows, args.repeats, tmp)
            with _section("SQLite: history file size"):
                size = (
                    sum(
                        p.stat().st_size
                        for p in path.parent.glob("history.sqlite3*")
                        if p.suffix != ".key"
                    )
                    / 2**20
                )
                per_million = size / rows * 1_000_000
                print(
                    f"  {size:,.0f} MiB for {rows:,} pulls = {per_million:,.0f} MiB per million "
                    f"pulls  (issue 14, before deduplicating the catalog snapshots: "
                    f"{OLD_MIB_PER_MILLION:,} MiB per million; now "
                    f"{per_million / OLD_MIB_PER_MILLION:.0%} of it)"
                )
        if args.backend in ("postgresql", "both"):
            teams = PgTeams(rows)
            try:
                full = teams.make("bench_history", rows)
                empty_url = teams.make("bench_empty", 0)
                _report_backend(
                    "PostgreSQL", "postgresql", full, empty_url, rows, args.repeats, tmp
                )
                with _section("PostgreSQL: database size (information)"):
                    size = teams.size_mib("bench_history")
                    print(
                        f"  pg_database_size {size:,.0f} MiB for {rows:,} pulls = "
                        f"{size / rows * 1_000_000:,.0f} MiB per million pulls (empty team "
                        f"database: {teams.size_mib('bench_empty'):,.0f} MiB)"
                    )
            finally:
                teams.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
