"""The seam's contract: what any backend of the history must do, run against every backend.

SQLite (a real file) and PostgreSQL (a real server, started by the ``pg_server`` fixture: never
skipped) run the same rules, written once in ``store.core``: transitions refused from final
states and from a state another writer moved, stale lease epochs refused, one retry per
failure, claims and takeovers, the change feed, pages, totals, searches and the export's
stream. The PostgreSQL side connects as the database owner's superuser here (row-level
security is tested on its own in ``test_team.py``, with members' roles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from walleo_desktop.store import (
    AlreadyRetriedError,
    CardConflictError,
    CardRecord,
    HistoryFilter,
    LeaseLostError,
    NewPull,
    PullState,
    StaleWriteError,
    StoreCore,
    StoreError,
    records,
)
from walleo_desktop.store.crypto import CardCipher
from walleo_desktop.store.export import COLUMNS, PRESETS, export_rows
from walleo_desktop.store.rules import Owner
from walleo_desktop.store.sqlite import open_core

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CIPHER = CardCipher(bytes(range(32)))


@pytest.fixture(params=["sqlite", "postgresql"])
def core(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[StoreCore]:
    if request.param == "sqlite":
        opened = open_core(tmp_path / "history.sqlite3", cipher=CIPHER)
    else:
        from walleo_desktop.store.postgres.admin import create_team
        from walleo_desktop.store.postgres.backend import PostgresBackend

        db = request.getfixturevalue("pg_database")
        with db.server.admin_connect(db.name) as admin:
            create_team(admin)
        backend = PostgresBackend.open(db.url, cipher=CIPHER)
        opened = StoreCore(backend.main, CIPHER, on_close=backend.close)
    yield opened
    opened.close()


Clock = Callable[[datetime], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Set the history's notion of "now" (both backends read ``records.utcnow``)."""
    now = [T0]
    monkeypatch.setattr(records, "utcnow", lambda: now[0])

    def set_now(value: datetime) -> None:
        now[0] = value

    return set_now


def new(request_id: str, **kw: Any) -> NewPull:
    kw.setdefault("gift_card_code", "FNAC")
    kw.setdefault("amount", 50)
    return NewPull(request_id=request_id, **kw)


def card(pull_id: int, card_id: str = "card-1", code: str = "GIFT-1111-2222-3344") -> CardRecord:
    return CardRecord(
        card_id=card_id,
        pull_id=pull_id,
        code=code,
        pin_code="9911",
        expire_at=datetime(2027, 6, 23, 22, 0, tzinfo=UTC),
        amount=50,
        gift_card_code="FNAC",
        pdf_url="",
        created_at=T0,
    )


# -- transitions ---------------------------------------------------------------------------------


def test_a_transition_names_the_state_it_expects(core: StoreCore, clock: Clock) -> None:
    [pull] = core.add_pulls([new("r1")])
    sending = core.transition(
        pull.id, expect=PullState.QUEUED, state=PullState.SENDING, event="send"
    )
    assert sending.state is PullState.SENDING
    with pytest.raises(StaleWriteError) as caught:  # another writer moved it meanwhile
        core.transition(pull.id, expect=PullState.QUEUED, state=PullState.SENDING)
    assert caught.value.found is PullState.SENDING
    moved = core.transition(
        pull.id, expect=PullState.SENDING, state=PullState.WAITING, event="accepted"
    )
    [*_, accepted] = core.events(pull.id)
    assert accepted.detail == {"from_state": "sending", "to_state": "waiting"}
    assert moved.change_seq > sending.change_seq > pull.change_seq
    # A move the journal's rules do not know is refused (only "rejected" after a create).
    with pytest.raises(StoreError, match="cannot go from waiting to rejected"):
        core.transition(pull.id, expect=PullState.WAITING, state=PullState.REJECTED)
    assert core.get_pull(pull.id).state is PullState.WAITING


def test_a_final_state_is_never_left_by_anyone(core: StoreCore) -> None:
    [pull] = core.add_pulls([new("r1")])
    core.update_pull(pull.id, state=PullState.ERROR)
    for state in (PullState.QUEUED, PullState.WAITING, PullState.SUCCESS):
        with pytest.raises(StoreError, match="finished pull never changes state"):
            core.update_pull(pull.id, state=state)
    # Below the rules, the database itself refuses it (a trigger on both).
    with pytest.raises(StoreError, match="never changes state"):
        core.conn.write(
            lambda: core.conn.execute(
                "UPDATE pulls SET state = 'queued' WHERE id = :id", {"id": pull.id}
            )
        )
    with pytest.raises(StoreError, match="finished pull never changes state"):
        core.record_card(pull.id, card(pull.id))
    assert core.get_pull(pull.id).state is PullState.ERROR


def test_a_failure_gets_one_retry(core: StoreCore) -> None:
    [failed, running] = core.add_pulls([new("f"), new("r")])
    with pytest.raises(StoreError, match="has not failed"):
        core.add_pulls([new("r-retry", retry_of=running.id)])
    core.update_pull(failed.id, state=PullState.REJECTED)
    [retry] = core.add_pulls([new("f-retry", retry_of=failed.id)])
    with pytest.raises(AlreadyRetriedError) as caught:
        core.add_pulls([new("f-retry-2", retry_of=failed.id)])
    assert caught.value.retry_id == retry.id
    assert [p.id for p in core.retries_of(failed.id)] == [retry.id]


def test_a_card_is_recorded_once_and_only_for_its_pull(core: StoreCore) -> None:
    [a, b] = core.add_pulls([new("a"), new("b")])
    done = core.record_card(a.id, card(a.id, "card-a"), walleo_status="success", attempts=3)
    assert (done.state, done.card_id, done.attempts) == (PullState.SUCCESS, "card-a", 3)
    assert core.record_card(a.id, card(a.id, "card-a")) == done  # idempotent
    with pytest.raises(CardConflictError, match="already recorded for pull"):
        core.record_card(b.id, card(b.id, "card-a"))
    with pytest.raises(CardConflictError):  # a second card for one pull
        core.record_card(a.id, card(a.id, "card-other"))
    read = core.card_for_pull(a.id)
    assert read is not None and read.code == "GIFT-1111-2222-3344" and read.pin_code == "9911"
    assert core.pull_of_card("card-a") == a.id and core.pull_of_card("nope") is None
    assert core.get_pull(b.id).state is PullState.QUEUED


# -- leases --------------------------------------------------------------------------------------


def test_a_takeover_fences_the_old_owners_writes(core: StoreCore, clock: Clock) -> None:
    alice, bob = Owner("host-a:1:1:a"), Owner("host-b:2:2:b")
    [pull] = core.add_pulls([new("r1", profile="p")], owner=alice)
    assert (pull.lease_owner, pull.lease_epoch) == (str(alice), 1)
    assert core.claim(bob, profile="p") == []  # alice holds it
    clock(T0 + timedelta(seconds=61))  # alice stopped renewing: the lease expired
    [taken] = core.claim(bob, profile="p")
    assert (taken.lease_owner, taken.lease_epoch) == (str(bob), 2)
    with pytest.raises(LeaseLostError):  # alice wakes up: her write is refused
        core.transition(pull.id, expect=PullState.QUEUED, epoch=1, state=PullState.SENDING)
    assert core.renew(alice) == set()
    assert core.renew(bob) == {pull.id}
    moved = core.transition(pull.id, expect=PullState.QUEUED, epoch=2, state=PullState.SENDING)
    assert moved.state is PullState.SENDING


def test_claims_share_the_work_and_a_release_frees_it_at_once(
    core: StoreCore, clock: Clock
) -> None:
    alice, bob = Owner("host-a:1:1:a"), Owner("host-b:2:2:b")
    made = core.add_pulls([new(f"r{i}", profile="p") for i in range(5)])
    core.add_pulls([new("other", profile="q")])  # another profile: never claimed for "p"
    first = core.claim(alice, profile="p", limit=3)
    second = core.claim(bob, profile="p", limit=3)
    assert [p.id for p in first] == [p.id for p in made[:3]]  # oldest first
    assert [p.id for p in second] == [p.id for p in made[3:]]  # disjoint
    assert core.claim(bob, profile="p") == []
    assert core.release(alice) == 3
    retaken = core.claim(bob, profile="p")
    assert {p.id for p in retaken} == {p.id for p in made[:3]}
    assert all(p.lease_epoch == 2 for p in retaken)


def test_a_stopped_process_of_this_machine_is_taken_over_at_once(
    core: StoreCore, clock: Clock
) -> None:
    import socket

    dead = Owner(f"{socket.gethostname()}:999999:0:dead")  # no such pid on this machine
    me = Owner.new()
    [pull] = core.add_pulls([new("r1", profile="p")], owner=dead)
    core.transition(
        pull.id,
        expect=PullState.QUEUED,
        epoch=1,
        state=PullState.SENDING,
        last_check_at=T0 - timedelta(seconds=30),
    )
    clock(T0 + timedelta(seconds=5))  # its lease runs 55 s more, but its process is gone
    [taken] = core.claim(me, profile="p")
    assert taken.lease_owner == str(me) and taken.lease_epoch == 2
    # A GET may have been in flight when it died: the cadence counts from now.
    assert taken.last_check_at == T0 + timedelta(seconds=5)


def test_the_change_feed_follows_every_write(core: StoreCore) -> None:
    start = core.last_change()
    [a, b] = core.add_pulls([new("a"), new("b")])
    core.update_pull(a.id, state=PullState.SENDING)
    changed = core.changes_since(start)
    assert [p.id for p in changed] == [b.id, a.id] or [p.id for p in changed] == [a.id, b.id]
    assert core.changes_since(core.last_change()) == []
    latest = core.changes_since(changed[0].change_seq)
    assert a.id in [p.id for p in latest]


# -- the history ---------------------------------------------------------------------------------


@pytest.fixture
def filled(core: StoreCore, clock: Clock) -> StoreCore:
    specs = [
        ("REQ-1", "FNAC", "Fnac", 50, "alice", "TCK-000001", "Équipe support", PullState.SUCCESS),
        ("REQ-2", "IKEA", "IKEA", 20, "bob", "TCK-000002", "", PullState.ERROR),
        ("REQ-3", "FNAC", "Fnac", 30, "Alice", "cmd-42", "", PullState.SUCCESS),
        ("REQ-4", "SEPHORA", "Sephora", 100, "carol", "", "", PullState.IN_DOUBT),
    ]  # fmt: skip
    for hours, (rid, code, name, amount, agent, ref, note, state) in enumerate(specs):
        clock(T0 + timedelta(hours=hours))
        [pull] = core.add_pulls(
            [
                new(
                    rid,
                    gift_card_code=code,
                    gift_card_name=name,
                    amount=amount,
                    agent=agent,
                    reference=ref,
                    note=note,
                    discount=4,
                )
            ]
        )
        if state is PullState.SUCCESS:
            core.record_card(pull.id, card(pull.id, f"card-{rid}", f"5555-0000-{hours}{hours}12"))
        else:
            core.update_pull(pull.id, state=state)
    return core


def rids(core: StoreCore, flt: HistoryFilter, **kw: Any) -> list[str]:
    return [r.pull.request_id for r in core.history(flt, **kw).rows]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (HistoryFilter(), ["REQ-4", "REQ-3", "REQ-2", "REQ-1"]),
        (HistoryFilter(states=(PullState.SUCCESS,)), ["REQ-3", "REQ-1"]),
        (HistoryFilter(gift_card_codes=("FNAC", "IKEA")), ["REQ-3", "REQ-2", "REQ-1"]),
        (HistoryFilter(agents=("alice",)), ["REQ-1"]),
        (HistoryFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)),
         ["REQ-3", "REQ-2"]),
        (HistoryFilter(search="équipe"), ["REQ-1"]),  # accents, any case
        (HistoryFilter(search="CMD-4"), ["REQ-3"]),  # a reference, any case
        (HistoryFilter(search="req-2"), ["REQ-2"]),  # a request id's start
        (HistoryFilter(search="2212"), ["REQ-3"]),  # a card's last 4
        (HistoryFilter(search="5555 0000 1112"), []),  # not a code of ours
        (HistoryFilter(search="5555-0000-0012"), ["REQ-1"]),  # a whole code, as printed
        (HistoryFilter(search="00002212"), ["REQ-3"]),  # a longer ending (decrypted)
    ],
)  # fmt: skip
def test_history_filters_and_searches(
    filled: StoreCore, flt: HistoryFilter, expected: list[str]
) -> None:
    assert rids(filled, flt) == expected
    assert filled.count_history(flt) == len(expected)


def test_a_short_ascii_search_makes_no_python_call_per_row() -> None:
    """SQLite: a 1-2 character ASCII term is decided by LIKE in C; only a term beyond ASCII
    calls the Python casefold, which holds the GIL (and stalls the window) for every row."""
    from walleo_desktop.store.dialect import SQLITE

    assert "wd_casefold" not in SQLITE.text_search("TC")[0]
    assert "wd_casefold" in SQLITE.text_search("é")[0]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # 3+ characters: the full-text index (SQLite FTS5) / the trigram index (PostgreSQL)
        ("TCK-00000", ["REQ-2", "REQ-1"]),  # a reference's start
        ("000002", ["REQ-2"]),  # inside a reference
        ("tck-000001", ["REQ-1"]),  # any case
        ("ÉQUIPE SUP", ["REQ-1"]),  # a note, beyond ASCII, a space in the middle
        ("equipe", []),  # accents count
        ("phor", ["REQ-4"]),  # the brand name
        ("req-", ["REQ-4", "REQ-3", "REQ-2", "REQ-1"]),  # request ids by prefix only...
        ("eq-3", []),  # ...not inside
        ('"OR" *', []),  # the full-text query syntax is text like any other
        ('42"', []),
        ("%", []),  # so are LIKE's wildcards
        ("k-0%", []),
        # 1 or 2 characters: row by row, the same rules
        ("Ph", ["REQ-4"]),
        ("é", ["REQ-1"]),
        ("É", ["REQ-1"]),  # case folded beyond ASCII
        ("qU", ["REQ-1"]),  # an ASCII term inside text beyond ASCII
        ("RE", ["REQ-4", "REQ-3", "REQ-2", "REQ-1"]),
        ("Q-", []),
    ],
)
def test_search_semantics(filled: StoreCore, term: str, expected: list[str]) -> None:
    flt = HistoryFilter(search=term)
    assert rids(filled, flt) == expected
    assert filled.count_history(flt) == len(expected)
    narrowed = HistoryFilter(search=term, gift_card_codes=("SEPHORA", "IKEA"))
    assert rids(filled, narrowed) == [r for r in expected if r in ("REQ-2", "REQ-4")]


def test_search_follows_a_changed_reference_or_note(filled: StoreCore) -> None:
    [pull] = [r.pull for r in filled.history(HistoryFilter(search="cmd-42")).rows]
    filled.update_pull(pull.id, reference="CMD-77", note="remboursé")
    assert rids(filled, HistoryFilter(search="cmd-42")) == []
    assert rids(filled, HistoryFilter(search="cmd-77")) == ["REQ-3"]
    assert rids(filled, HistoryFilter(search="REMBOURS")) == ["REQ-3"]
    [new_pull] = filled.add_pulls([new("REQ-5", reference="cmd-4200")])
    assert rids(filled, HistoryFilter(search="cmd-42")) == ["REQ-5"]
    assert filled.get_pull(new_pull.id).reference == "cmd-4200"


def test_history_sorts_and_pages(filled: StoreCore) -> None:
    assert rids(filled, HistoryFilter(), sort="amount", descending=False) == [
        "REQ-2",
        "REQ-3",
        "REQ-1",
        "REQ-4",
    ]
    assert rids(filled, HistoryFilter(), sort="agent", descending=False)[:2] == ["REQ-1", "REQ-3"]
    page = filled.history(HistoryFilter(), offset=1, limit=2, with_total=True)
    assert [r.pull.request_id for r in page.rows] == ["REQ-3", "REQ-2"] and page.total == 4
    assert rids(filled, HistoryFilter(), sort="expire_at")[-2:] == ["REQ-4", "REQ-2"]


def test_totals_daily_and_distinct(filled: StoreCore) -> None:
    totals = filled.totals(HistoryFilter())
    assert (totals.count, totals.face_value, totals.cost) == (2, 80, 76.8)
    assert (totals.failed, totals.in_doubt, totals.pending) == (1, 1, 0)
    assert [(b.gift_card_code, b.cards) for b in totals.per_brand] == [("FNAC", 2)]
    assert filled.daily_totals(HistoryFilter()) == [("2026-03-01", "FNAC", 80)]
    assert filled.distinct_values("agent") == sorted(["alice", "bob", "Alice", "carol"])
    assert filled.distinct_values("gift_card_code") == ["FNAC", "IKEA", "SEPHORA"]


def test_the_export_streams_every_row_formatted(filled: StoreCore) -> None:
    rows = [
        dict(zip(COLUMNS, row, strict=True))
        for row in export_rows(filled, HistoryFilter(), PRESETS["standard"], descending=False)
    ]
    assert [r["request_id"] for r in rows] == ["REQ-1", "REQ-2", "REQ-3", "REQ-4"]
    one = rows[0]
    assert one["created_at"] == "2026-03-01T09:00:00Z" and one["cost"] == "48.00"
    assert one["expire_at"] == "2027-06-24"  # the day Walleo means (Paris), not the UTC one
    assert rows[1]["cost"] == "" and rows[1]["expire_at"] == ""
    french = list(export_rows(filled, HistoryFilter(), PRESETS["excel-fr"], descending=False))
    assert dict(zip(COLUMNS, french[0], strict=True))["cost"] == "48,00"


def test_the_xlsx_export_types_every_cell(filled: StoreCore, tmp_path: Path) -> None:
    import openpyxl

    from walleo_desktop.store.export_xlsx import export_xlsx

    out = tmp_path / "history.xlsx"
    result = export_xlsx(filled, HistoryFilter(), out, with_codes=True, tz=UTC, descending=False)
    assert result.rows == 4
    book = openpyxl.load_workbook(out)
    ws = book["History"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2)]
    assert [r["Request ID"].value for r in rows] == ["REQ-1", "REQ-2", "REQ-3", "REQ-4"]
    one = rows[0]
    assert one["Date"].value == datetime(2026, 3, 1, 9, 0) and one["Date"].is_date
    assert one["Amount"].value == 50 and one["Cost"].value == 48.0
    assert one["Expires"].value == datetime(2027, 6, 24)  # the day Walleo means
    assert one["Full code"].value == "5555-0000-0012" and one["PIN"].value == "9911"
    assert rows[1]["Cost"].value is None and rows[1]["Full code"].value is None
    totals = [[c.value for c in r] for r in book["Totals"].iter_rows()]
    assert ["Total", None, "EUR", 2, 80, 76.8, 1, 1, 0, 1, 0, 4] in totals
    [event] = [e for e in filled.events() if e.kind == "codes_exported"]
    assert event.detail["format"] == "xlsx" and event.detail["rows"] == 4


# -- the duplicate-intent guard ------------------------------------------------------------------


def test_the_same_customer_brand_and_amount_asks_before_a_second_card(
    core: StoreCore, clock: Clock
) -> None:
    from walleo_desktop.store import DuplicateIntentError

    [first] = core.add_pulls([new("a", reference="TCK-9", agent="alice")], check_duplicates=True)
    with pytest.raises(DuplicateIntentError) as caught:
        core.add_pulls([new("b", reference="TCK-9", agent="bob")], check_duplicates=True)
    assert [m.id for m in caught.value.matches] == [first.id]
    assert core.find_pull("b") is None  # nothing journaled
    # Another amount, brand or reference, or no reference at all: not the same intent.
    core.add_pulls([new("c", reference="TCK-9", amount=20)], check_duplicates=True)
    core.add_pulls([new("d", reference="TCK-9", gift_card_code="IKEA")], check_duplicates=True)
    core.add_pulls([new("e"), new("f")], check_duplicates=True)
    # Confirmed: journaled, and the event says which pulls it knowingly repeats.
    [again] = core.add_pulls(
        [new("g", reference="TCK-9")], check_duplicates=True, confirmed=[first.id]
    )
    assert core.events(again.id)[0].detail["confirmed_duplicate_of"] == [first.id]
    # A confirmation covers the pulls it saw, not one made since.
    with pytest.raises(DuplicateIntentError):
        core.add_pulls([new("h", reference="TCK-9")], check_duplicates=True, confirmed=[first.id])
    # A failure issued nothing; a day later it is another day's order.
    core.update_pull(first.id, state=PullState.ERROR)
    core.update_pull(again.id, state=PullState.REJECTED)
    core.add_pulls([new("i", reference="TCK-9")], check_duplicates=True)
    clock(T0 + timedelta(hours=24, seconds=1))
    core.add_pulls([new("j", reference="TCK-9")], check_duplicates=True)


def test_two_writers_at_once_cannot_both_skip_the_guard(core: StoreCore, tmp_path: Any) -> None:
    """Two agents (two connections) journal the same customer's card at the same instant:
    exactly one gets through, the other is asked."""
    import threading

    from walleo_desktop.store import DuplicateIntentError

    if core.dialect.name == "sqlite":
        make = lambda: open_core(Path(core.label), cipher=CIPHER)  # noqa: E731
    else:
        from walleo_desktop.store.postgres.backend import PostgresBackend

        url = core.conn.raw.info.dsn  # type: ignore[attr-defined]
        password = core.conn.raw.info.password  # type: ignore[attr-defined]

        def make() -> StoreCore:
            backend = PostgresBackend.open(url, password=password, cipher=CIPHER)
            return StoreCore(backend.main, CIPHER, on_close=backend.close)

    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def agent(name: str) -> None:
        mine = make()
        try:
            barrier.wait(10)
            mine.add_pulls([new(name, reference="TCK-RACE", agent=name)], check_duplicates=True)
            outcomes.append("journaled")
        except DuplicateIntentError:
            outcomes.append("asked")
        finally:
            mine.close()

    threads = [threading.Thread(target=agent, args=(f"agent{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["asked", "asked", "asked", "journaled"]
    assert core.count_history(HistoryFilter(search="TCK-RACE")) == 1


# -- shift reports -------------------------------------------------------------------------------


def shift_history(core: StoreCore, clock: Clock) -> tuple[datetime, datetime]:
    """alice's shift from T0 to T0 + 8 h, with pulls of hers before and after it and bob's
    inside it; (since, until)."""
    specs = [  # (minutes after T0, agent, brand, amount, discount, currency, state)
        (-30, "alice", "FNAC", 50, 4, "EUR", PullState.SUCCESS),  # before the shift
        (0, "alice", "FNAC", 50, 4, "EUR", PullState.SUCCESS),  # the first, at since
        (60, "alice", "FNAC", 20, 4, "EUR", PullState.SUCCESS),
        (90, "alice", "FNAC", 10, 0, "USD", PullState.SUCCESS),  # another currency
        (120, "alice", "IKEA", 30, 3, "EUR", PullState.ERROR),
        (150, "alice", "IKEA", 25, 3, "EUR", PullState.REJECTED),
        (180, "alice", "SEPHORA", 40, 6, "EUR", PullState.IN_DOUBT),
        (200, "bob", "FNAC", 100, 4, "EUR", PullState.SUCCESS),  # not hers
        (210, "Alice", "FNAC", 100, 4, "EUR", PullState.SUCCESS),  # another agent's name
        (240, "alice", "DECATHLON", 15, None, "EUR", PullState.WAITING),
        (480, "alice", "FNAC", 50, 4, "EUR", PullState.SUCCESS),  # at until: the next shift
    ]
    for n, (minutes, agent, code, amount, discount, currency, state) in enumerate(specs):
        clock(T0 + timedelta(minutes=minutes))
        [pull] = core.add_pulls(
            [new(f"S-{n}", agent=agent, gift_card_code=code, gift_card_name=code.title(),
                 amount=amount, discount=discount, currency=currency)]
        )  # fmt: skip
        if state is PullState.SUCCESS:
            core.record_card(pull.id, card(pull.id, f"card-S-{n}", f"5555-1111-2222-{n:04d}"))
        elif state is PullState.WAITING:
            core.update_pull(pull.id, state=PullState.SENDING)
            core.update_pull(pull.id, state=state)
        else:
            core.update_pull(pull.id, state=state)
    clock(T0 + timedelta(hours=9))
    return T0, T0 + timedelta(hours=8)


def test_a_shift_report_counts_the_agents_pulls_of_its_period(
    core: StoreCore, clock: Clock
) -> None:
    since, until = shift_history(core, clock)
    preview = core.shift_preview("alice", since, until)
    assert preview.id is None and preview.created_at is None
    report = core.close_shift("alice", since, until, "finance.anne")
    assert report.id is not None and report.created_at == T0 + timedelta(hours=9)
    assert (report.agent, report.created_by) == ("alice", "finance.anne")
    assert (report.period_start, report.period_end) == (since, until)
    lines = {(b.gift_card_code, b.currency): b for b in report.brands}
    assert list(lines) == [
        ("DECATHLON", "EUR"), ("FNAC", "EUR"), ("FNAC", "USD"), ("IKEA", "EUR"),
        ("SEPHORA", "EUR"),
    ]  # fmt: skip
    fnac = lines[("FNAC", "EUR")]
    assert (fnac.cards, fnac.face_value, fnac.cost_cents) == (2, 70, 6720)  # 48.00 + 19.20
    assert (lines[("FNAC", "USD")].cards, lines[("FNAC", "USD")].cost_cents) == (1, 1000)
    ikea = lines[("IKEA", "EUR")]
    assert (ikea.cards, ikea.face_value, ikea.errors, ikea.rejected) == (0, 0, 1, 1)
    assert lines[("SEPHORA", "EUR")].in_doubt == 1 and lines[("SEPHORA", "EUR")].cost_cents == 0
    assert lines[("DECATHLON", "EUR")].pending == 1
    assert (report.pulls, report.cards, report.failed, report.in_doubt, report.pending) == (
        7, 3, 2, 1, 1,
    )  # fmt: skip
    eur, usd = report.totals
    assert (eur.currency, eur.cards, eur.face_value, eur.cost_cents) == ("EUR", 2, 70, 6720)
    assert (usd.currency, usd.face_value) == ("USD", 10)
    assert report.first_pull_at == since and report.last_pull_at == T0 + timedelta(minutes=240)
    # What the window showed before closing is what was stored.
    assert preview.brands == report.brands
    # Stored for good, as closed.
    [stored] = core.shift_reports("alice")
    assert stored == report
    assert core.last_shift_end("alice") == until and core.last_shift_end("bob") is None
    [event] = [e for e in core.events() if e.kind == "shift_closed"]
    assert event.detail == {"report": report.id, "agent": "alice", "by": "finance.anne",
                            "pulls": 7}  # fmt: skip


def test_a_second_close_of_a_period_is_a_new_report(core: StoreCore, clock: Clock) -> None:
    since, until = shift_history(core, clock)
    first = core.close_shift("alice", since, until, "alice")
    [pull] = [p for p in core.recent_pulls() if p.state is PullState.WAITING]
    core.update_pull(pull.id, state=PullState.ERROR)  # the pending pull ended meanwhile
    clock(T0 + timedelta(hours=10))
    second = core.close_shift("alice", since, until, "finance.anne")
    assert second.id != first.id and (second.pending, second.failed) == (0, 3)
    assert [r.id for r in core.shift_reports("alice")] == [second.id, first.id]
    assert core.shift_reports("alice")[1] == first  # the first one is as it was
    bobs = core.close_shift("bob", since, until, "bob")
    assert [r.id for r in core.shift_reports()] == [bobs.id, second.id, first.id]
    assert core.shift_reports(limit=1) == [bobs]
    assert core.shift_reports("carol") == []


def test_a_shift_is_refused_when_its_period_makes_no_sense(core: StoreCore, clock: Clock) -> None:
    now = T0 + timedelta(hours=1)
    clock(now)
    with pytest.raises(ValueError, match="after now"):  # pulls after it would be in no report
        core.close_shift("alice", T0, now + timedelta(seconds=1), "alice")
    with pytest.raises(ValueError, match="end after it starts"):
        core.close_shift("alice", T0, T0, "alice")
    with pytest.raises(ValueError, match="agent"):
        core.close_shift("", T0, now, "alice")
    with pytest.raises(ValueError, match="who closed it"):
        core.close_shift("alice", T0, now, "")
    empty = core.close_shift("alice", T0, now, "alice")  # no pull: still a report
    assert (empty.pulls, empty.brands, empty.totals, empty.first_pull_at) == (0, (), (), None)
    assert core.shift_reports() == [empty]


def test_shift_reports_are_append_only_in_the_database_itself(
    core: StoreCore, clock: Clock
) -> None:
    since, until = shift_history(core, clock)
    report = core.close_shift("alice", since, until, "alice")
    statements = [
        "UPDATE shift_reports SET totals = '{}' WHERE id = :id",
        "UPDATE shift_reports SET period_end = period_start WHERE id = :id",
        "DELETE FROM shift_reports WHERE id = :id",
    ]
    if core.dialect.name == "postgresql":
        statements.append("TRUNCATE shift_reports")
    for sql in statements:
        with pytest.raises(StoreError, match="append-only"):
            core.conn.write(lambda sql=sql: core.conn.execute(sql, {"id": report.id}))
    assert core.shift_reports() == [report]


# -- catalog snapshots ----------------------------------------------------------------------------


def test_a_catalog_snapshot_is_kept_once_and_each_pull_reads_its_own(core: StoreCore) -> None:
    fnac = {"code": "FNAC", "name": "Fnac", "discount": 4, "facial_values": {"amounts": [20]}}
    later = {**fnac, "discount": 5}  # the catalog changed: another snapshot
    pulls = core.add_pulls(
        [new("s1", catalog_snapshot=fnac), new("s2", catalog_snapshot=dict(fnac)), new("s3")]
    )
    [changed] = core.add_pulls([new("s4", catalog_snapshot=later)])
    assert core.conn.value("SELECT count(*) FROM catalog_snapshots") == 2
    by_id = {p.request_id: p.catalog_snapshot for p in core.pulls([p.id for p in pulls])}
    assert by_id == {"s1": fnac, "s2": fnac, "s3": {}}
    assert core.get_pull(changed.id).catalog_snapshot == later
    assert core.find_pull("s4").catalog_snapshot == later  # type: ignore[union-attr]
    # A retry journals the snapshot of the pull it retries (engine/pulls.py), shared again.
    core.update_pull(pulls[0].id, state=PullState.ERROR)
    [retry] = core.add_pulls([new("s1-retry", retry_of=pulls[0].id, catalog_snapshot=fnac)])
    assert core.get_pull(retry.id).catalog_snapshot == fnac
    assert core.conn.value("SELECT count(*) FROM catalog_snapshots") == 2
    # The light rows of the history pages never carry it.
    assert all(r.pull.catalog_snapshot == {} for r in core.history(HistoryFilter()).rows)


def test_a_kept_catalog_snapshot_never_changes(core: StoreCore) -> None:
    core.add_pulls([new("s1", catalog_snapshot={"code": "FNAC"})])
    if core.dialect.name == "postgresql":
        # The desktops' roles may only insert and read it; the test connects as a superuser,
        # so ask the database what each of the team's groups may do.
        from walleo_desktop.store.postgres.schema import team_roles

        roles = team_roles(core.conn.value("SELECT current_database()"))
        may = {
            (role, privilege): core.conn.value(
                "SELECT has_table_privilege(:role, 'walleo.catalog_snapshots', :privilege)",
                {"role": role, "privilege": privilege},
            )
            for role in roles.groups
            for privilege in ("SELECT", "UPDATE", "DELETE", "TRUNCATE")
        }
        assert {key for key, allowed in may.items() if allowed} == {
            (role, "SELECT") for role in roles.groups
        }
        inserts = core.conn.value(
            "SELECT has_column_privilege(:role, 'walleo.catalog_snapshots', 'body', 'INSERT')",
            {"role": roles.agent},
        )
        assert inserts is True
        return
    for sql in ("UPDATE catalog_snapshots SET body = '{}'", "DELETE FROM catalog_snapshots"):
        with pytest.raises(StoreError, match="catalog snapshots never change"):
            core.conn.write(lambda sql=sql: core.conn.execute(sql))


def test_exports_with_codes_open_each_card_with_its_key_version(tmp_path: Path) -> None:
    """A team's cards are sealed with the key version they name (k1, then k2 after a member
    left): both exports with codes open each with its own version."""
    import csv as csv_module

    import openpyxl

    from walleo_desktop.store.crypto import CipherSet
    from walleo_desktop.store.export import export_csv
    from walleo_desktop.store.export_xlsx import export_xlsx

    key1, key2 = bytes(range(32)), bytes(range(1, 33))
    first = CipherSet(CardCipher(key1, key_id="k1"))
    core = open_core(tmp_path / "history.sqlite3", cipher=first)
    try:
        [a] = core.add_pulls([new("REQ-K1")])
        core.record_card(a.id, card(a.id, "card-k1", "GIFT-1111-0000-0001"))
        core.cipher = CipherSet(CardCipher(key2, key_id="k2"), [CardCipher(key1, key_id="k1")])
        [b] = core.add_pulls([new("REQ-K2")])
        core.record_card(b.id, card(b.id, "card-k2", "GIFT-2222-0000-0002"))
        export_xlsx(core, HistoryFilter(), tmp_path / "codes.xlsx", with_codes=True)
        export_csv(core, HistoryFilter(), tmp_path / "codes.csv", with_codes=True)
    finally:
        core.close()
    sheet = openpyxl.load_workbook(tmp_path / "codes.xlsx", read_only=True)["History"]
    cells = {str(v) for row in sheet.iter_rows(values_only=True) for v in row if v}
    assert {"GIFT-1111-0000-0001", "GIFT-2222-0000-0002"} <= cells
    with (tmp_path / "codes.csv").open(encoding="utf-8", newline="") as fh:
        text = {v for row in csv_module.reader(fh) for v in row}
    assert {"GIFT-1111-0000-0001", "GIFT-2222-0000-0002"} <= text
