"""Every query of the history view, read through its plan: each filter, each sort key both ways,
the count, the totals and the per-day sums, on SQLite (``EXPLAIN QUERY PLAN``) and PostgreSQL
(``EXPLAIN (FORMAT JSON)``), exactly as ``StoreCore`` sends them.

What the plans must show, at a million pulls as at a few thousand:

- never a full scan of the table (SQLite ``SCAN p`` without an index, PostgreSQL ``Seq Scan``
  on pulls or cards): reading every row costs a second at 1M;
- the first screen of the whole history, for every sort key, and of one brand, one agent,
  one status or a period (alone or together) in date order, is one index walk in the order
  shown: no sort at all (SQLite ``USE TEMP B-TREE FOR ORDER BY``, PostgreSQL ``Sort``);
- any other page (a filter sorted by another column, several brands or statuses, a search)
  sorts only the rows an index search found: the filter's or the search's own index bounds
  them (SQLite ``SEARCH``, PostgreSQL an index condition), never a walk of every row.

Why a sort is allowed there: the alternative is an index per (filter, sort key) pair (3 filter
columns x 10 sort keys: ~1 GiB more per million pulls, and 30 more indexes on every write) or
walking the sort key's index and testing the filter row by row, 10-100x slower for a narrow
filter (agent + 30 days by amount at 1M: 263 ms walking against 8 ms sorting, measured).

Left out of "never a full scan", on purpose: a search of 1 or 2 characters (no index finds
substrings that short; its first screen still walks the sort's index and stops at 200 rows,
only its count and totals read every row), and on PostgreSQL the count and sums of the whole
history, which read every row whatever the plan.

SQLite runs without statistics (the app never runs ANALYZE: plans do not change under a user
as their history grows, and this test pins them). PostgreSQL keeps its own (autovacuum): the
team history is filled with some thousands of rows and analysed, as a server would have it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from walleo_desktop.engine.datakey import open_history
from walleo_desktop.store import HistoryFilter, PullState, StoreCore
from walleo_desktop.store.columns import SORT_KEYS
from walleo_desktop.store.crypto import CardCipher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
try:
    import fill_history
finally:
    sys.path.pop(0)

ROWS = 20_000
CIPHER = CardCipher(bytes(range(32)))
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# -- capturing what the store sends -------------------------------------------------------------


class Recorder:
    """Wraps a connection's ``query``/``rows`` (``value`` and ``one`` go through them) and
    keeps each statement with its parameters."""

    def __init__(self, conn: Any) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []
        for name in ("query", "rows"):
            original = getattr(conn, name)

            def recording(sql: str, params: Any = None, original: Any = original) -> Any:
                self.statements.append((sql, dict(params or {})))
                return original(sql, params)

            setattr(conn, name, recording)

    def run(self, call: Any) -> list[tuple[str, dict[str, Any]]]:
        self.statements.clear()
        call()
        return list(self.statements)


# -- the cases ----------------------------------------------------------------------------------


def filters(core: StoreCore) -> dict[str, HistoryFilter]:
    """Every kind of filter the view (and the CLI) sends, with values from the history."""
    month = NOW - timedelta(days=30)
    some = core.history(HistoryFilter(states=(PullState.SUCCESS,)), limit=50).rows
    with_card = next(r for r in some if r.card_code_last4)
    card = core.card_for_pull(with_card.pull.id)
    assert card is not None
    rid = some[0].pull.request_id
    return {
        "everything": HistoryFilter(),
        "brand": HistoryFilter(gift_card_codes=("FNAC",)),
        "brands": HistoryFilter(gift_card_codes=("FNAC", "IKEA")),
        "status": HistoryFilter(states=(PullState.ERROR,)),
        "statuses": HistoryFilter(states=(PullState.ERROR, PullState.REJECTED)),
        "agent": HistoryFilter(agents=("marie.martin",)),
        "period": HistoryFilter(since=month, until=NOW),
        "since": HistoryFilter(since=month),
        "brand+period": HistoryFilter(since=month, until=NOW, gift_card_codes=("FNAC",)),
        "agent+period": HistoryFilter(since=month, agents=("marie.martin",)),
        "status+period": HistoryFilter(since=month, states=(PullState.ERROR,)),
        "search reference": HistoryFilter(search="TCK-12"),
        "search note": HistoryFilter(search="fidélité"),
        "search brand": HistoryFilter(search="Leroy Mer"),
        "search request id": HistoryFilter(search=rid[:11]),
        "search last 4": HistoryFilter(search=card.code[-4:]),
        "search code": HistoryFilter(search=card.code),
        "search+brand+period": HistoryFilter(
            search="TCK-1", since=month, gift_card_codes=("FNAC",)
        ),
        "short search": HistoryFilter(search="TC"),
    }


# The first screens that must be one index walk in the order shown.
ONE_WALK_FILTERS = ("brand", "status", "agent", "period", "since", "brand+period")
ONE_WALK_FILTERS += ("agent+period", "status+period")
# What no index can bound: these may read every row for their count and sums.
READS_EVERYTHING = {"short search"}


@dataclass(frozen=True)
class Case:
    filter: str
    sort: str
    descending: bool

    @property
    def one_walk(self) -> bool:
        return self.filter == "everything" or (
            self.filter in ONE_WALK_FILTERS and self.sort == "created_at"
        )

    def __str__(self) -> str:
        return f"{self.filter}, by {self.sort} {'desc' if self.descending else 'asc'}"


FILTER_NAMES = [
    "everything", "brand", "brands", "status", "statuses", "agent", "period", "since",
    "brand+period", "agent+period", "status+period", "search reference", "search note",
    "search brand", "search request id", "search last 4", "search code", "search+brand+period",
    "short search",
]  # fmt: skip
PAGE_CASES = [Case(f, s, d) for f in FILTER_NAMES for s in SORT_KEYS for d in (True, False)]


def test_the_cases_cover_every_sort_key_and_filter_field() -> None:
    assert {c.sort for c in PAGE_CASES} == set(SORT_KEYS)
    assert {c.sort for c in PAGE_CASES if c.one_walk} == set(SORT_KEYS)
    fields = set(HistoryFilter.__dataclass_fields__)
    assert fields == {"since", "until", "states", "gift_card_codes", "agents", "search"}


# -- SQLite -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StoreCore, Recorder]]:
    path = tmp_path_factory.mktemp("plans") / "history.sqlite3"
    fill_history.fill(path, ROWS, seed=5, now=NOW)
    core, _key = open_history(path)
    assert core.conn.value("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == 0
    yield core, Recorder(core.conn)
    core.close()


@dataclass
class SqlitePlan:
    """An ``EXPLAIN QUERY PLAN``: (id, parent, detail) rows."""

    rows: list[tuple[int, int, str]]

    def below(self, node: int) -> list[str]:
        found, frontier = [], {node}
        while frontier:
            children = [(i, d) for i, parent, d in self.rows if parent in frontier]
            found += [d for _i, d in children]
            frontier = {i for i, _d in children}
        return found

    def page(self) -> list[str]:
        """The steps of the page's id query: the outer query's IN (SELECT ... LIMIT)."""
        [node] = [i for i, parent, d in self.rows if parent == 0 and d.startswith("LIST SUBQUERY")]
        return self.below(node)

    @property
    def details(self) -> list[str]:
        return [d for _i, _p, d in self.rows]


def sqlite_plan(core: StoreCore, sql: str, params: dict[str, Any]) -> SqlitePlan:
    rows = core.conn.rows(f"EXPLAIN QUERY PLAN {sql}", params)
    return SqlitePlan([(int(r[0]), int(r[1]), str(r[3])) for r in rows])


FULL_SCAN = re.compile(r"^SCAN (p|c|pulls|cards)$")
SORTS = re.compile(r"USE TEMP B-TREE FOR (RIGHT PART OF |LAST TERM OF )?ORDER BY")


def check_sqlite_page(case: Case, plan: SqlitePlan) -> list[str]:
    page = plan.page()
    problems = [f"full scan: {d}" for d in plan.details if FULL_SCAN.match(d)]
    sorted_ = [d for d in page if SORTS.search(d)]
    if case.one_walk and sorted_:
        problems.append(f"sorts instead of walking an index: {page}")
    if sorted_ and not case.one_walk:
        walks = [d for d in page if re.match(r"^SCAN (p|c) ", d)]
        if walks:
            problems.append(f"sorts the rows of a walk over every row: {page}")
    return problems


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_sqlite_page_plans(sqlite_core: tuple[StoreCore, Recorder], case: Case) -> None:
    core, recorder = sqlite_core
    flt = filters(core)[case.filter]
    sent = recorder.run(
        lambda: core.history(flt, sort=case.sort, descending=case.descending, limit=200)
    )
    sql, params = sent[-1]
    plan = sqlite_plan(core, sql, params)
    assert check_sqlite_page(case, plan) == [], "\n".join(plan.details)


@pytest.mark.parametrize("name", FILTER_NAMES)
@pytest.mark.parametrize("what", ["count_history", "totals", "daily_totals"])
def test_sqlite_sums_never_read_every_row(
    sqlite_core: tuple[StoreCore, Recorder], name: str, what: str
) -> None:
    core, recorder = sqlite_core
    flt = filters(core)[name]
    sent = recorder.run(lambda: getattr(core, what)(flt))
    assert sent
    for sql, params in sent:
        details = sqlite_plan(core, sql, params).details
        if name not in READS_EVERYTHING:
            assert [d for d in details if FULL_SCAN.match(d)] == [], "\n".join(details)


def test_sqlite_check_tells_a_sort_and_a_full_scan() -> None:
    """The checks themselves, on plans SQLite gives for queries the store must never send."""
    walk = Case("everything", "amount", True)
    sort = SqlitePlan(
        [(1, 0, "LIST SUBQUERY 1"), (2, 1, "SCAN p"), (3, 1, "USE TEMP B-TREE FOR ORDER BY")]
    )
    assert len(check_sqlite_page(walk, sort)) == 2
    bounded = SqlitePlan(
        [(1, 0, "LIST SUBQUERY 1"), (2, 1, "SEARCH p USING INDEX x (a=?)"),
         (3, 1, "USE TEMP B-TREE FOR ORDER BY")]
    )  # fmt: skip
    assert check_sqlite_page(Case("brand", "amount", True), bounded) == []
    assert check_sqlite_page(Case("brand", "created_at", True), bounded) != []
    walked = SqlitePlan(
        [(1, 0, "LIST SUBQUERY 1"), (2, 1, "SCAN p USING INDEX pulls_change_seq"),
         (3, 1, "USE TEMP B-TREE FOR ORDER BY")]
    )  # fmt: skip
    assert check_sqlite_page(Case("brand", "amount", True), walked) != []


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_core(pg_server: Any) -> Iterator[tuple[StoreCore, Recorder]]:
    from walleo_desktop.store.postgres.admin import create_team
    from walleo_desktop.store.postgres.backend import PostgresBackend

    name = "plans_team"
    database = pg_server.create_database(name, template="template0")
    try:
        with pg_server.admin_connect(name) as admin:
            create_team(admin)
            fill_history.fill_postgres(admin, ROWS, CIPHER, seed=5, now=NOW)
            admin.execute("VACUUM ANALYZE")  # what autovacuum does on a server
        backend = PostgresBackend.open(database.url, cipher=CIPHER)
        core = StoreCore(backend.main, CIPHER, on_close=backend.close)
        yield core, Recorder(core.conn)
        core.close()
    finally:
        pg_server.drop_database(name)


def pg_plan(core: StoreCore, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    text = core.conn.value(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = json.loads(text) if isinstance(text, str) else text
    return dict(plan[0]["Plan"])


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def describe(plan: dict[str, Any], depth: int = 0) -> str:
    line = "  " * depth + " ".join(
        str(plan[k]) for k in ("Node Type", "Relation Name", "Index Name") if k in plan
    )
    return "\n".join([line, *(describe(c, depth + 1) for c in plan.get("Plans", ()))])


def seq_scans(plan: dict[str, Any]) -> list[str]:
    return [
        n["Relation Name"]
        for n in nodes(plan)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in ("pulls", "cards")
    ]


def page_limit(plan: dict[str, Any]) -> dict[str, Any]:
    """The page's id query: the Limit node (the outer query has no LIMIT)."""
    [limit] = [n for n in nodes(plan) if n["Node Type"] == "Limit"]
    return limit


def check_pg_page(case: Case, plan: dict[str, Any]) -> list[str]:
    problems = [f"Seq Scan on {name}" for name in seq_scans(plan)]
    below = list(nodes(page_limit(plan)))
    sorts = [n for n in below if n["Node Type"] in ("Sort", "Incremental Sort")]
    if case.one_walk and sorts:
        problems.append("sorts instead of walking an index")
    if sorts and not case.one_walk:
        unbounded = [
            n
            for n in below
            if n["Node Type"] in ("Index Scan", "Index Only Scan")
            and n.get("Relation Name") == "pulls"
            and "Index Cond" not in n
        ]
        if unbounded:
            problems.append("sorts the rows of a walk over every row")
    return problems


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_postgresql_page_plans(pg_core: tuple[StoreCore, Recorder], case: Case) -> None:
    core, recorder = pg_core
    flt = filters(core)[case.filter]
    sent = recorder.run(
        lambda: core.history(flt, sort=case.sort, descending=case.descending, limit=200)
    )
    sql, params = sent[-1]
    plan = pg_plan(core, sql, params)
    assert check_pg_page(case, plan) == [], describe(plan)


@pytest.mark.parametrize("name", FILTER_NAMES)
@pytest.mark.parametrize("what", ["count_history", "totals", "daily_totals"])
def test_postgresql_sums_never_read_every_row(
    pg_core: tuple[StoreCore, Recorder], name: str, what: str
) -> None:
    core, recorder = pg_core
    flt = filters(core)[name]
    sent = recorder.run(lambda: getattr(core, what)(flt))
    everything = name in READS_EVERYTHING or name == "everything"
    for sql, params in sent:
        plan = pg_plan(core, sql, params)
        if not everything:
            assert seq_scans(plan) == [], describe(plan)
