"""The history's rules over one connection: the journal, cards, events, leases, settings and
the history queries, written once for every backend.

``StoreCore`` is synchronous and belongs to one thread: the database thread of an async
``Store`` (``facade``), or a script. It speaks only the store's plain SQL (``dialect``) through a
``seam.Conn``; the backend behind it (SQLite, PostgreSQL) keeps its own schema, triggers and
roles, which refuse the same things again (a second line of defence, for any writer).

What the journal guarantees (``rules`` has the states and leases):

- ``add_pulls`` commits intents (state ``queued``) before anything is sent; with an owner, the
  new pulls are born claimed by it;
- ``transition`` names the state it expects and, for the engine, the lease epoch it holds: a
  pull another writer moved, or another process took over, is left alone
  (``StaleWriteError`` / ``LeaseLostError``), and a final state is never left;
- ``record_card`` stores the card and the pull's success in one transaction, refuses a card
  already recorded for another pull (``CardConflictError``);
- a failed pull gets one retry (``AlreadyRetriedError``);
- every change to a pull takes the next ``change_seq``: a window or a teammate catches up with
  ``changes_since``.

SQL text is assembled only from this package's constants and whitelisted names (sort keys,
columns, field names); every value is a bound parameter. Hence the ``noqa: S608`` below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from walleo_desktop.store import cardcodes
from walleo_desktop.store.columns import order_sql
from walleo_desktop.store.crypto import Cipher, KeyMismatchError, KeyUnavailableError
from walleo_desktop.store.errors import (
    AlreadyRetriedError,
    CardConflictError,
    ConstraintError,
    DuplicateIntentError,
    NotFoundError,
    StoreError,
)
from walleo_desktop.store.history import (
    DISTINCT_COLUMNS,
    BrandTotal,
    HistoryFilter,
    HistoryPage,
    HistoryRow,
    Totals,
    filter_sql,
)
from walleo_desktop.store.records import (
    CardRecord,
    EventRecord,
    NewPull,
    PullRecord,
    PullState,
    from_db_time,
    to_db_time,
)
from walleo_desktop.store.rows import dump_json, load_json, required_time, snapshot_hash
from walleo_desktop.store.rules import (
    CLAIM_BATCH,
    FAILED_STATES,
    LEASE_SECONDS,
    LeaseLostError,
    Owner,
    StaleWriteError,
    check_transition,
)
from walleo_desktop.store.seam import Conn
from walleo_desktop.store.shifts import ShiftReport, report_from_row, totals_json
from walleo_desktop.store.summary import Tally

__all__ = [
    "DUPLICATE_WINDOW",
    "HISTORY_ID_SETTING",
    "KEY_CHECK_SETTING",
    "MAX_STORED_INT",
    "PULL_COLUMNS",
    "UNFINISHED_WHERE",
    "StoreCore",
    "pull_from_row",
]

log = logging.getLogger("walleo_desktop.store")

HISTORY_ID_SETTING = "history_id"
KEY_CHECK_SETTING = "data_key_check"
# The same reference, brand and amount within this long asks for a confirmation.
DUPLICATE_WINDOW = timedelta(hours=24)
# Both backends' integers are 64-bit: nothing larger is ever bound as a value.
MAX_STORED_INT = 2**63 - 1

# The partial indexes on unfinished pulls and the queries below must spell this condition
# identically, or SQLite will not use the index (tests/test_store.py checks the plan).
UNFINISHED_WHERE = "state NOT IN ('error', 'rejected', 'success')"

# The pulls columns, named as PullRecord's fields (cost_cents is derived, not selected).
PULL_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclass_fields(PullRecord))
# Without the catalog snapshot (~1 KB of JSON each): what history pages need.
_LIGHT_COLUMNS: tuple[str, ...] = tuple(c for c in PULL_COLUMNS if c != "catalog_snapshot")

# The catalog snapshot is kept once per distinct text, in catalog_snapshots (SQLite schema v8):
# a pull names it by snapshot_id (NULL: the empty snapshot, {}). A history of a million pulls
# of a dozen brands holds a dozen of them instead of a million copies of ~1 KB.
_SNAPSHOT_SQL = (
    "(SELECT s.body FROM catalog_snapshots s WHERE s.id = {prefix}snapshot_id) AS catalog_snapshot"
)


def _select(columns: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        _SNAPSHOT_SQL.format(prefix=prefix) if name == "catalog_snapshot" else prefix + name
        for name in columns
    )


def pull_from_row(row: Mapping[str, Any]) -> PullRecord:
    snapshot = row.get("catalog_snapshot")
    return PullRecord(
        id=row["id"],
        request_id=row["request_id"],
        gift_card_code=row["gift_card_code"],
        gift_card_name=row["gift_card_name"],
        amount=row["amount"],
        currency=row["currency"],
        state=PullState(row["state"]),
        created_at=required_time(row["created_at"]),
        updated_at=required_time(row["updated_at"]),
        discount=row["discount"],
        catalog_snapshot=load_json(snapshot, {}) if snapshot else {},
        overdue=bool(row["overdue"]),
        sent_at=from_db_time(row["sent_at"]),
        finished_at=from_db_time(row["finished_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        attempts=row["attempts"],
        agent=row["agent"],
        reference=row["reference"],
        note=row["note"],
        profile=row["profile"],
        batch_id=row["batch_id"],
        retry_of=row["retry_of"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        walleo_id=row["walleo_id"],
        walleo_status=row["walleo_status"],
        card_id=row["card_id"],
        lease_owner=row["lease_owner"],
        lease_until=from_db_time(row["lease_until"]),
        lease_epoch=row["lease_epoch"],
        last_check_at=from_db_time(row["last_check_at"]),
        change_seq=row["change_seq"],
    )


# ---------------------------------------------------------------------------------------------
# Field conversions for transitions: PullRecord field -> SQL value (raises on a bad value).


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _time(value: object) -> str | None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or None, got {type(value).__name__}")
    return to_db_time(value)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STORED_INT:
        raise TypeError(f"expected a count (int >= 0), got {value!r}")
    return value


def _flag(value: object) -> int:
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    return int(value)


def _state(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a PullState, got {type(value).__name__}")
    return PullState(value).value  # ValueError on an unknown state


_UPDATABLE: dict[str, Callable[[object], object]] = {
    "state": _state,
    "overdue": _flag,
    "sent_at": _time,
    "finished_at": _time,
    "next_check_at": _time,
    "last_check_at": _time,
    "attempts": _count,
    "error_code": _text,
    "error_message": _text,
    "walleo_id": _text,
    "walleo_status": _text,
    "card_id": _text,
    "note": _text,
    "reference": _text,
}


def _pull_updates(fields: Mapping[str, object]) -> dict[str, object]:
    unknown = sorted(set(fields) - set(PULL_COLUMNS))
    if unknown:
        raise ValueError(f"unknown pull field(s): {', '.join(unknown)}")
    fixed = sorted(set(fields) - set(_UPDATABLE))
    if fixed:
        raise ValueError(
            f"pull field(s) {', '.join(fixed)} cannot be changed: a journaled intent is fixed"
        )
    values: dict[str, object] = {}
    for name, value in fields.items():
        try:
            values[name] = _UPDATABLE[name](value)
        except TypeError as exc:
            raise TypeError(f"pull field {name}: {exc}") from None
    return values


# ---------------------------------------------------------------------------------------------
# Event details: never secrets. This catches the obvious slips before they reach the disk.

REDACTED = "[redacted]"
_SECRET_KEYS = frozenset(
    {
        "pin",
        "pin_code",
        "card_code",
        "api_key",
        "shared_key",
        "secret",
        "password",
        "authorization",
        "signature",
    }
)


def _scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """``value`` with secret-named keys redacted, and strings holding one of ``secrets``.

    A long secret (a card code) is found inside a string; a short one (a PIN) only as the whole
    string, so that a PIN's digits inside an id do not hide that id.
    """
    if isinstance(value, Mapping):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if name.lower() in _SECRET_KEYS:
                log.warning("event detail key %r redacted: event details never hold secrets", name)
                clean[name] = REDACTED
            else:
                clean[name] = _scrub(item, secrets)
        return clean
    if isinstance(value, (list, tuple)):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, str) and any(
        secret in value if len(secret) >= 8 else secret == value for secret in secrets
    ):
        return REDACTED
    return value


def _intent_row(pull: NewPull, now: str | None) -> dict[str, Any]:
    if not pull.request_id:
        raise ValueError("a pull needs a request id")
    amount = pull.amount
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= 2**31:
        raise ValueError(f"pull {pull.request_id}: amount must be a positive int")
    return {
        "request_id": pull.request_id,
        "gift_card_code": pull.gift_card_code,
        "gift_card_name": pull.gift_card_name,
        "discount": pull.discount,
        "amount": amount,
        "currency": pull.currency,
        "state": PullState.QUEUED.value,
        "created_at": now,
        "updated_at": now,
        "agent": pull.agent,
        "reference": pull.reference,
        "note": pull.note,
        "profile": pull.profile,
        "batch_id": pull.batch_id,
        "retry_of": pull.retry_of,
    }


_INSERT_PULL = (
    "INSERT INTO pulls (request_id, gift_card_code, gift_card_name, snapshot_id, discount, "
    "amount, currency, state, created_at, updated_at, agent, reference, note, profile, "
    "batch_id, retry_of, lease_owner, lease_until, lease_epoch, change_seq) VALUES "
    "(:request_id, :gift_card_code, :gift_card_name, :snapshot_id, :discount, :amount, "
    ":currency, :state, :created_at, :updated_at, :agent, :reference, :note, :profile, "
    ":batch_id, :retry_of, :lease_owner, :lease_until, :lease_epoch, :change_seq) RETURNING id"
)
_INSERT_EVENT = (
    "INSERT INTO events (pull_id, at, kind, detail) VALUES (:pull_id, :at, :kind, :detail)"
)
_INSERT_CARD = (
    "INSERT INTO cards (card_id, pull_id, key_id, code, code_hash, code_last4, pin_code, "
    "expire_at, expire_day, amount, gift_card_code, pdf_url, pdf_path, created_at) VALUES "
    "(:card_id, :pull_id, :key_id, :code, :code_hash, :code_last4, :pin_code, :expire_at, "
    ":expire_day, :amount, :gift_card_code, :pdf_url, :pdf_path, :created_at)"
)

_PENDING = frozenset({PullState.QUEUED, PullState.SENDING, PullState.WAITING, PullState.PROCESSING})


def _chunks(values: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _where_and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f"WHERE {condition}"


class StoreCore:
    """The history through one connection (``seam.Conn``), for one thread.

    ``cipher`` is the history's key: without it, everything but reading and recording card
    codes works (``KeyUnavailableError`` for those).
    """

    def __init__(
        self,
        conn: Conn,
        cipher: Cipher | None = None,
        *,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        self.cipher = cipher
        self.dialect = conn.dialect
        self._on_close = on_close

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StoreCore({self.label!r})"

    @property
    def has_key(self) -> bool:
        return self.cipher is not None

    @property
    def label(self) -> str:
        return self.conn.label

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
        else:
            self.conn.close()

    def now(self) -> datetime:
        return self.conn.now()

    # -- small helpers ------------------------------------------------------------------------

    def _seq(self) -> int:
        value: int = self.conn.value(self.dialect.next_seq)
        return value

    def _select_pulls(
        self,
        where: str,
        params: Mapping[str, Any] | None = None,
        *,
        light: bool = False,
    ) -> list[PullRecord]:
        columns = _LIGHT_COLUMNS if light else PULL_COLUMNS
        sql = f"SELECT {_select(columns)} FROM pulls {where}"  # noqa: S608
        return [pull_from_row(row) for row in self.conn.query(sql, params)]

    def _get_pull(self, pull_id: int) -> PullRecord:
        found = self._select_pulls("WHERE id = :id", {"id": pull_id})
        if not found:
            raise NotFoundError(f"There is no pull #{pull_id} in the history.")
        return found[0]

    def _insert_event(
        self, pull_id: int | None, kind: str, detail: Mapping[str, Any] | None, at: datetime
    ) -> None:
        if not kind:
            raise ValueError("an event needs a kind")
        clean = _scrub(dict(detail or {}))
        self.conn.execute(
            _INSERT_EVENT,
            {"pull_id": pull_id, "at": to_db_time(at), "kind": kind, "detail": dump_json(clean)},
        )

    # -- settings and the key ------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A small app setting (JSON value). Never a credential: those live in the keyring."""
        row = self.conn.one("SELECT value FROM settings WHERE key = :key", {"key": key})
        return load_json(row["value"], None) if row is not None else default

    def set_setting(self, key: str, value: Any) -> None:
        text = dump_json(value)
        self.conn.write(
            lambda: self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (:key, :value) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"key": key, "value": text},
            )
        )

    @property
    def history_id(self) -> str | None:
        """The random id of this history (names its key in the OS keyring)."""
        value = self.get_setting(HISTORY_ID_SETTING)
        return value if isinstance(value, str) else None

    def bind_key(self) -> None:
        """Check that the cipher is this history's key, recording its fingerprint the first
        time (in its own transaction, before any card can be written with it)."""
        cipher = self.cipher
        if cipher is None:
            return
        stored_id = self.get_setting(HISTORY_ID_SETTING)
        if cipher.history_id is not None and stored_id != cipher.history_id:
            raise KeyMismatchError(
                f"The key given for the history {self.label} belongs to another history "
                f"(key for {cipher.history_id}, history is {stored_id}). If another Walleo "
                "Desktop created or upgraded this history at the same moment, start again."
            )
        check = self.get_setting(KEY_CHECK_SETTING)
        if check is None:
            self.conn.write(
                lambda: self.conn.execute(
                    "INSERT INTO settings (key, value) VALUES (:key, :value) "
                    "ON CONFLICT (key) DO NOTHING",
                    {"key": KEY_CHECK_SETTING, "value": dump_json(cipher.key_check)},
                )
            )
            check = self.get_setting(KEY_CHECK_SETTING)
        if check != cipher.key_check:
            raise KeyMismatchError(
                f"The key given for the history {self.label} is not the key its card codes are "
                "encrypted with, so they cannot be read. Nothing was changed."
            )

    def save_catalog(self, profile: str, items: list[dict[str, Any]], fetched_at: datetime) -> None:
        """Cache a profile's gift-card catalog (the raw JSON objects), replacing the previous."""
        params = {"profile": profile, "at": to_db_time(fetched_at), "items": dump_json(items)}
        self.conn.write(
            lambda: self.conn.execute(
                "INSERT INTO catalog_cache (profile, fetched_at, items) "
                "VALUES (:profile, :at, :items) "
                "ON CONFLICT (profile) DO UPDATE SET fetched_at = excluded.fetched_at, "
                "items = excluded.items",
                params,
            )
        )

    def load_catalog(self, profile: str) -> tuple[datetime, list[dict[str, Any]]] | None:
        row = self.conn.one(
            "SELECT fetched_at, items FROM catalog_cache WHERE profile = :profile",
            {"profile": profile},
        )
        if row is None:
            return None
        return required_time(row["fetched_at"]), load_json(row["items"], [])

    # -- the journal ---------------------------------------------------------------------------

    def add_pulls(
        self,
        pulls: Sequence[NewPull],
        *,
        owner: Owner | str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        check_duplicates: bool = False,
        confirmed: Collection[int] = (),
    ) -> list[PullRecord]:
        """Journal ``pulls`` (state ``queued``), each with a ``journaled`` event: all or none.
        With ``owner``, the new pulls are claimed by it (epoch 1) from the start.

        With ``check_duplicates``, an intent whose reference, brand and amount match a pull of
        the last ``DUPLICATE_WINDOW`` (by anyone; failed ones aside) is refused with
        ``DuplicateIntentError`` naming those pulls, unless each of them is in ``confirmed``
        (the user saw them and said "issue again"). The check and the journaling are one
        transaction, serialised with any other writer's (SQLite: ``BEGIN IMMEDIATE``;
        PostgreSQL: an advisory lock per reference, brand and amount): two agents confirming at
        once cannot both skip it.

        Raises ``StoreError`` (nothing journaled) if a request id is already in the history,
        twice in ``pulls``, or ``retry_of`` names no pull, a pull that has not failed, or one
        that was retried already (``AlreadyRetriedError``).
        """
        if not pulls:
            return []

        def body() -> list[PullRecord]:
            now = self.now()
            text_now = to_db_time(now)
            overridden: list[int] = []
            if check_duplicates:
                matches = self._duplicates(pulls, now - DUPLICATE_WINDOW)
                allowed = set(confirmed)
                unconfirmed = [m for m in matches if m.id not in allowed]
                if unconfirmed:
                    raise DuplicateIntentError(unconfirmed)
                overridden = [m.id for m in matches]
            seq = self._seq()
            lease = {
                "lease_owner": str(owner) if owner is not None else "",
                "lease_until": to_db_time(now + timedelta(seconds=lease_seconds))
                if owner is not None
                else None,
                "lease_epoch": 1 if owner is not None else 0,
                "change_seq": seq,
            }
            ids: list[int] = []
            snapshots: dict[str, int | None] = {}
            for pull in pulls:
                row = {**_intent_row(pull, text_now), **lease}
                text = dump_json(pull.catalog_snapshot)
                if text not in snapshots:
                    snapshots[text] = self._snapshot_id(text)
                row["snapshot_id"] = snapshots[text]
                if pull.retry_of is not None:
                    self._check_retry(pull.retry_of)
                try:
                    pull_id = int(self.conn.value(_INSERT_PULL, row))
                except ConstraintError as exc:
                    if "request_id" in exc.detail:
                        reason = f"request id {pull.request_id!r} is already in the history"
                    elif "retried" in exc.detail or "one_retry" in exc.detail:
                        raise AlreadyRetriedError(
                            pull.retry_of or 0, self._retry_of(pull.retry_of or 0) or 0
                        ) from exc
                    else:
                        reason = f"pull {pull.request_id!r} is invalid ({exc.detail})"
                    raise StoreError(
                        f"Cannot journal the pulls: {reason}. Nothing was journaled."
                    ) from exc
                detail: dict[str, Any] = {
                    "request_id": pull.request_id,
                    "gift_card_code": pull.gift_card_code,
                    "amount": pull.amount,
                    "currency": pull.currency,
                }
                if pull.retry_of is not None:
                    detail["retry_of"] = pull.retry_of
                if overridden:
                    detail["confirmed_duplicate_of"] = overridden
                self._insert_event(pull_id, "journaled", detail, now)
                ids.append(pull_id)
            return self.pulls(ids)

        return self.conn.write(body)

    def _snapshot_id(self, text: str) -> int | None:
        """The id of the catalog snapshot ``text`` (JSON) in ``catalog_snapshots``, added when
        new; None for the empty snapshot. Inside the journaling transaction: a snapshot
        another writer adds at the same moment is found once it commits (``ON CONFLICT``
        waits for it on PostgreSQL; SQLite's writers are serialised)."""
        if text == "{}":
            return None
        params = {"hash": snapshot_hash(text), "body": text}
        select = "SELECT id FROM catalog_snapshots WHERE hash = :hash"
        found = self.conn.value(select, params)
        if found is None:
            found = self.conn.value(
                "INSERT INTO catalog_snapshots (hash, body) VALUES (:hash, :body) "
                "ON CONFLICT (hash) DO NOTHING RETURNING id",
                params,
            )
        if found is None:
            found = self.conn.value(select, params)
        if found is None:  # pragma: no cover - a conflict with a row nobody can see
            raise StoreError("Cannot journal the pulls: their catalog entry could not be kept.")
        return int(found)

    def _duplicates(self, pulls: Sequence[NewPull], since: datetime) -> list[PullRecord]:
        """Pulls since ``since`` with the reference, brand and amount of one of ``pulls`` (an
        empty reference is no customer: never a duplicate), oldest first."""
        keys = sorted(
            {
                (p.reference.strip(), p.gift_card_code, p.amount)
                for p in pulls
                if p.reference.strip()
            }
        )
        found: dict[int, PullRecord] = {}
        for reference, code, amount in keys:
            self.dialect.lock_key(self.conn, f"dup|{reference}|{code}|{amount}")
            for pull in self._select_pulls(
                "WHERE reference = :ref AND gift_card_code = :code AND amount = :amount "
                "AND created_at >= :since AND state NOT IN ('error', 'rejected') "
                "ORDER BY created_at, id",
                {"ref": reference, "code": code, "amount": amount, "since": to_db_time(since)},
                light=True,
            ):
                found[pull.id] = pull
        return sorted(found.values(), key=lambda p: (p.created_at, p.id))

    def duplicates_of(self, reference: str, gift_card_code: str, amount: int) -> list[PullRecord]:
        """What ``add_pulls(check_duplicates=True)`` would find for this intent now."""
        probe = NewPull(
            request_id="probe", gift_card_code=gift_card_code, amount=amount, reference=reference
        )
        return self._duplicates([probe], self.now() - DUPLICATE_WINDOW)

    def _retry_of(self, failed_id: int) -> int | None:
        value = self.conn.value("SELECT min(id) FROM pulls WHERE retry_of = :id", {"id": failed_id})
        return None if value is None else int(value)

    def _check_retry(self, failed_id: int) -> None:
        """A retry is journaled only for a pull that failed and has no retry yet (each backend
        refuses it again by itself: a trigger, a unique index)."""
        found = self._select_pulls("WHERE id = :id", {"id": failed_id}, light=True)
        if not found:
            raise StoreError(
                f"Cannot journal a retry of pull #{failed_id}: there is no such pull. "
                "Nothing was journaled."
            )
        failed = found[0]
        if failed.state not in FAILED_STATES:
            raise StoreError(
                f"Pull #{failed_id} has not failed ({failed.state.label}): only a pull that "
                "ended in error or was rejected can be retried. Nothing was journaled."
            )
        existing = self._retry_of(failed_id)
        if existing is not None:
            raise AlreadyRetriedError(failed_id, existing)

    def transition(
        self,
        pull_id: int,
        *,
        expect: PullState,
        epoch: int | None = None,
        event: str | None = None,
        detail: Mapping[str, Any] | None = None,
        strict: bool = True,
        **fields: Any,
    ) -> PullRecord:
        """Change a pull that is in state ``expect`` (and, with ``epoch``, still leased with
        that epoch): its progress fields, and its state when ``fields`` has one the rules
        allow; with ``event``, log it. One transaction.

        ``fields`` are PullRecord field names (state, overdue, sent_at, finished_at,
        next_check_at, last_check_at, attempts, error_code, error_message, walleo_id,
        walleo_status, card_id, note, reference); the intent itself cannot change
        (``ValueError``). When the state changes, the event detail gets ``from_state`` and
        ``to_state``. A pull found in another state raises ``StaleWriteError``, one leased
        with another epoch ``LeaseLostError``; nothing is written then. ``strict=False``
        (tools, tests) allows any move but out of a final state.
        """
        values = _pull_updates(fields)
        if "state" in values:
            check_transition(pull_id, expect, PullState(str(values["state"])), strict=strict)

        def body() -> PullRecord:
            now = self.now()
            values["updated_at"] = to_db_time(now)
            values["change_seq"] = self._seq()
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            where = "id = :pull_id_ AND state = :expect_"
            params: dict[str, Any] = {**values, "pull_id_": pull_id, "expect_": expect.value}
            if epoch is not None:
                where += " AND lease_epoch = :epoch_"
                params["epoch_"] = epoch
            changed = self.conn.execute(
                f"UPDATE pulls SET {assignments} WHERE {where}",  # noqa: S608
                params,
            )
            if changed != 1:
                self._refuse_stale(pull_id, expect, epoch)
            if event is not None:
                event_detail = dict(detail or {})
                if "state" in values and values["state"] != expect.value:
                    event_detail.setdefault("from_state", expect.value)
                    event_detail.setdefault("to_state", values["state"])
                self._insert_event(pull_id, event, event_detail, now)
            return self._get_pull(pull_id)

        return self.conn.write(body)

    def _refuse_stale(self, pull_id: int, expect: PullState, epoch: int | None) -> None:
        current = self._get_pull(pull_id)  # NotFoundError when there is none
        if epoch is not None and current.lease_epoch != epoch:
            raise LeaseLostError(pull_id, current.lease_owner)
        raise StaleWriteError(pull_id, expect, current.state)

    def update_pull(
        self,
        pull_id: int,
        *,
        event: str | None = None,
        detail: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> PullRecord:
        """``transition`` from whatever state the pull is in now (for tools and tests; the
        engine always names the state and epoch it expects)."""
        current = self.get_pull(pull_id)
        return self.transition(
            pull_id, expect=current.state, event=event, detail=detail, strict=False, **fields
        )

    def record_card(
        self,
        pull_id: int,
        card: CardRecord,
        *,
        expect: PullState | None = None,
        epoch: int | None = None,
        detail: Mapping[str, Any] | None = None,
        walleo_id: str | None = None,
        walleo_status: str | None = None,
        attempts: int | None = None,
        last_check_at: datetime | None = None,
    ) -> PullRecord:
        """Store the issued card and mark its pull ``success``, with a ``success`` event.

        One transaction, which also records Walleo's pull id and status text and the attempt
        count when given (the answer that carried the card). Idempotent: recording the same card
        again changes nothing and logs no second event. A card already stored for another pull,
        or a second card for this pull, is refused (``CardConflictError``). ``expect`` and
        ``epoch`` fence the write as in ``transition`` (``expect`` None: the current state).
        The event names the card by id; neither its code nor its PIN ever reaches the event log.
        """
        if card.pull_id != pull_id:
            raise ValueError(f"card {card.card_id} belongs to pull #{card.pull_id}, not #{pull_id}")
        row = cardcodes.card_to_row(card, self.cipher)  # encrypted; KeyUnavailableError
        if attempts is not None:
            _count(attempts)

        def body() -> PullRecord:
            now = self.now()
            before = self._get_pull(pull_id)
            owner = self.pull_of_card(card.card_id)
            if owner is not None:
                if owner != pull_id:
                    raise CardConflictError(
                        f"Card {card.card_id} is already recorded for pull #{owner}."
                    )
                if before.state is PullState.SUCCESS and before.card_id == card.card_id:
                    return before
            expected = before.state if expect is None else expect
            check_transition(pull_id, expected, PullState.SUCCESS, strict=expect is not None)
            if owner is None:
                try:
                    self.conn.execute(_INSERT_CARD, row)
                except ConstraintError as exc:
                    raise CardConflictError(
                        f"Cannot record card {card.card_id} for pull #{pull_id}: the pull "
                        f"already has another card ({exc.detail})."
                    ) from exc
            params: dict[str, Any] = {
                "state": PullState.SUCCESS.value,
                "card_id": card.card_id,
                "expire_day": row["expire_day"],
                "now": to_db_time(now),
                "walleo_id": walleo_id or None,
                "walleo_status": walleo_status,
                "attempts": attempts,
                "last_check_at": to_db_time(last_check_at),
                "seq": self._seq(),
                "id": pull_id,
                "expect": expected.value,
            }
            where = "id = :id AND state = :expect"
            if epoch is not None:
                where += " AND lease_epoch = :epoch"
                params["epoch"] = epoch
            changed = self.conn.execute(
                "UPDATE pulls SET state = :state, card_id = :card_id, finished_at = :now, "  # noqa: S608
                "card_expire_day = :expire_day, "
                "error_code = '', error_message = '', overdue = 0, next_check_at = NULL, "
                "updated_at = :now, change_seq = :seq, "
                "walleo_id = COALESCE(:walleo_id, walleo_id), "
                "walleo_status = COALESCE(:walleo_status, walleo_status), "
                "attempts = COALESCE(:attempts, attempts), "
                f"last_check_at = COALESCE(:last_check_at, last_check_at) WHERE {where}",
                params,
            )
            if changed != 1:
                self._refuse_stale(pull_id, expected, epoch)
            secrets = tuple(s for s in (card.code, card.pin_code) if s)
            event_detail = {
                **_scrub(dict(detail or {}), secrets),
                "card_id": card.card_id,
                "amount": card.amount,
                "expire_at": card.expire_at,
                "from_state": expected.value,
            }
            self._insert_event(pull_id, "success", event_detail, now)
            return self._get_pull(pull_id)

        return self.conn.write(body)

    def add_event(
        self, pull_id: int | None, kind: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Append an event (``pull_id`` None: an app-wide one). Events are never changed.

        ``detail`` is JSON (datetimes become UTC text). It must NEVER hold a card code, a PIN
        or a credential: the event log is shown, exported and attached to bug reports. Keys
        named like a secret (``pin``, ``pin_code``, ``api_key``, ``signature``, ...) are redacted
        as a last line of defence, with a warning in the log.
        """
        self.conn.write(lambda: self._insert_event(pull_id, kind, detail, self.now()))

    def events(self, pull_id: int | None = None, *, limit: int | None = None) -> list[EventRecord]:
        """Events of one pull (or of the whole history), oldest first; with ``limit``, the
        ``limit`` most recent ones, still oldest first."""
        where = "WHERE pull_id = :pull_id" if pull_id is not None else ""
        limit_sql = "LIMIT :limit" if limit is not None else ""
        sql = (
            f"SELECT id, pull_id, at, kind, detail FROM events {where} "  # noqa: S608
            f"ORDER BY id DESC {limit_sql}"
        )
        rows = self.conn.query(sql, {"pull_id": pull_id, "limit": limit})
        return [
            EventRecord(
                id=row["id"],
                pull_id=row["pull_id"],
                at=required_time(row["at"]),
                kind=row["kind"],
                detail=load_json(row["detail"], {}),
            )
            for row in reversed(rows)
        ]

    # -- leases --------------------------------------------------------------------------------

    def claim(
        self,
        owner: Owner | str,
        *,
        profile: str,
        limit: int = CLAIM_BATCH,
        lease_seconds: float = LEASE_SECONDS,
    ) -> list[PullRecord]:
        """Claim up to ``limit`` unfinished pulls of ``profile`` that nobody drives: never
        leased, lease expired or released, or leased by a process of this machine that no
        longer runs. Oldest first; each gets this owner, a new lease and the next epoch.

        Never this owner's own pulls: their leases are renewed, not claimed again (a claim bumps
        the epoch, which would stop this owner's own workers).

        A GET may have been in flight when the previous owner stopped: its pulls' last check is
        moved to when its lease ended (at the latest, now), so that the new owner keeps
        Walleo's cadence from there.
        """
        if limit < 1:
            return []
        d = self.dialect

        def body() -> list[PullRecord]:
            now = to_db_time(self.now())
            assert now is not None
            live = self.conn.rows(
                f"SELECT DISTINCT lease_owner FROM pulls WHERE {UNFINISHED_WHERE} "  # noqa: S608
                "AND lease_owner != '' AND lease_until > :now",
                {"now": now},
            )
            dead = [o for (o,) in live if Owner.is_dead_here(o)]
            until = to_db_time(self.now() + timedelta(seconds=lease_seconds))
            last_check = d.greatest(
                "coalesce(last_check_at, '')", d.least("coalesce(lease_until, '')", ":now")
            )
            sql = (
                f"UPDATE pulls SET lease_owner = :owner, lease_until = :until, "  # noqa: S608
                f"lease_epoch = lease_epoch + 1, change_seq = :seq, "
                f"last_check_at = NULLIF({last_check}, '') "
                f"WHERE id IN (SELECT id FROM pulls WHERE {UNFINISHED_WHERE} "
                "AND profile = :profile AND lease_owner != :owner "
                "AND (lease_until IS NULL OR lease_until <= :now "
                f"OR lease_owner IN ({d.in_list('dead', 'text')})) "
                f"ORDER BY created_at, id LIMIT :limit{d.skip_locked}) RETURNING id"
            )
            ids = [
                row[0]
                for row in self.conn.rows(
                    sql,
                    {
                        "owner": str(owner),
                        "until": until,
                        "seq": self._seq(),
                        "now": now,
                        "profile": profile,
                        "dead": self.conn.list_param(dead),
                        "limit": limit,
                    },
                )
            ]
            if dead and ids:
                log.info("took over pulls of %d stopped process(es) of this machine", len(dead))
            return self.pulls(sorted(ids))

        return self.conn.write(body)

    def renew(self, owner: Owner | str, *, lease_seconds: float = LEASE_SECONDS) -> set[int]:
        """Extend this owner's leases; the ids of the unfinished pulls it still holds (a pull
        missing from them was taken over, or finished)."""

        def body() -> set[int]:
            until = to_db_time(self.now() + timedelta(seconds=lease_seconds))
            rows = self.conn.rows(
                f"UPDATE pulls SET lease_until = :until WHERE lease_owner = :owner "  # noqa: S608
                f"AND {UNFINISHED_WHERE} RETURNING id",
                {"until": until, "owner": str(owner)},
            )
            return {int(r[0]) for r in rows}

        return self.conn.write(body)

    def release(self, owner: Owner | str) -> int:
        """Give up this owner's leases now (a clean shutdown): another process may take its
        unfinished pulls at once instead of after the lease. The number released."""

        def body() -> int:
            return self.conn.execute(
                f"UPDATE pulls SET lease_until = :now WHERE lease_owner = :owner "  # noqa: S608
                f"AND {UNFINISHED_WHERE} AND lease_until > :now",
                {"now": to_db_time(self.now()), "owner": str(owner)},
            )

        return self.conn.write(body)

    def changes_since(
        self, seq: int, *, gaps: Sequence[int] = (), limit: int = 1000
    ) -> list[PullRecord]:
        """Pulls changed after change sequence ``seq``, in change order (at most ``limit``),
        and those whose change sequence is one of ``gaps``.

        On PostgreSQL, sequence numbers are taken before commit: a transaction that took 10
        may commit after one that took 11. A reader that saw 11 keeps 10 as a gap and asks
        for it again until it shows up (or is old enough to be a rolled-back one).
        """
        where = "change_seq > :seq"
        params: dict[str, Any] = {"seq": seq, "limit": limit}
        if gaps:
            # = ANY(array) on PostgreSQL: two index scans, not a walk of every change number
            where = f"({where} OR {self.dialect.in_values('change_seq', 'gaps', 'bigint')})"
            params["gaps"] = self.conn.list_param(list(gaps)[:1000])
        return self._select_pulls(
            f"WHERE {where} ORDER BY change_seq, id LIMIT :limit", params, light=True
        )

    def last_change(self) -> int:
        return int(self.conn.value("SELECT coalesce(max(change_seq), 0) FROM pulls") or 0)

    # -- reading pulls -------------------------------------------------------------------------

    def get_pull(self, pull_id: int) -> PullRecord:
        """The pull ``pull_id``; ``NotFoundError`` (a ``StoreError`` and ``KeyError``) if none."""
        return self._get_pull(pull_id)

    def find_pull(self, request_id: str) -> PullRecord | None:
        found = self._select_pulls("WHERE request_id = :rid", {"rid": request_id})
        return found[0] if found else None

    def pulls(self, ids: Sequence[int]) -> list[PullRecord]:
        """The pulls with these ids, in the order given; unknown ids are skipped."""
        found: dict[int, PullRecord] = {}
        for chunk in _chunks(ids):
            where = f"WHERE id IN ({self.dialect.in_list('ids')})"
            for pull in self._select_pulls(where, {"ids": self.conn.list_param(list(chunk))}):
                found[pull.id] = pull
        return [found[i] for i in ids if i in found]

    def unfinished_pulls(self) -> list[PullRecord]:
        """Pulls not in a final state, oldest first."""
        return self._select_pulls(f"WHERE {UNFINISHED_WHERE} ORDER BY created_at, id")

    def recent_pulls(self, limit: int = 500, *, agent: str | None = None) -> list[PullRecord]:
        """The ``limit`` newest pulls (of ``agent`` only, when given), newest first."""
        where = "" if agent is None else "WHERE agent = :agent "
        return self._select_pulls(
            f"{where}ORDER BY created_at DESC, id DESC LIMIT :limit",
            {"limit": limit, "agent": agent},
            light=True,
        )

    def retries_of(self, pull_id: int) -> list[PullRecord]:
        """Pulls made as retries of ``pull_id``, oldest first."""
        return self._select_pulls(
            "WHERE retry_of = :id ORDER BY created_at, id", {"id": pull_id}, light=True
        )

    def batch(self, batch_id: str, *, since: datetime | None = None) -> list[HistoryRow]:
        """The pulls journaled under ``batch_id`` (a bulk order), oldest first, each with its
        card's last 4 characters (never the code). ``since`` (the batch's start, or earlier)
        lets the ``created_at`` index narrow a big history down: ``batch_id`` has no index."""
        if not batch_id:
            return []
        where = "WHERE p.batch_id = :batch"
        params: dict[str, Any] = {"batch": batch_id}
        if since is not None:
            where += " AND p.created_at >= :since"
            params["since"] = to_db_time(since)
        sql = (
            f"SELECT {_select(_LIGHT_COLUMNS, 'p')}, c.code_last4 AS card_code_last4, "  # noqa: S608
            f"c.expire_at AS card_expire_at FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id "
            f"{where} ORDER BY p.id"
        )
        return [
            HistoryRow(
                pull=pull_from_row(row),
                card_code_last4=row["card_code_last4"] or "",
                card_expire_at=from_db_time(row["card_expire_at"]),
            )
            for row in self.conn.query(sql, params)
        ]

    # -- cards ---------------------------------------------------------------------------------

    def _card_where(self, where: str, params: Mapping[str, Any]) -> CardRecord | None:
        sql = f"SELECT {cardcodes.CARD_COLUMNS} FROM cards WHERE {where}"  # noqa: S608
        row = self.conn.one(sql, params)
        return None if row is None else cardcodes.card_from_row(row, self.cipher)

    def get_card(self, card_id: str) -> CardRecord | None:
        return self._card_where("card_id = :id", {"id": card_id})

    def card_for_pull(self, pull_id: int) -> CardRecord | None:
        return self._card_where("pull_id = :id", {"id": pull_id})

    def pull_of_card(self, card_id: str) -> int | None:
        """The pull a card is recorded for (None: no such card), read without the key."""
        value = self.conn.value("SELECT pull_id FROM cards WHERE card_id = :id", {"id": card_id})
        return None if value is None else int(value)

    def set_card_pdf_path(self, card_id: str, path: str) -> None:
        """Remember where the card's PDF was saved."""

        def body() -> None:
            changed = self.conn.execute(
                "UPDATE cards SET pdf_path = :path WHERE card_id = :id",
                {"path": path, "id": card_id},
            )
            if changed != 1:
                raise NotFoundError(f"There is no card {card_id} in the history.")

        self.conn.write(body)

    # -- history -------------------------------------------------------------------------------

    def filtered(self, flt: HistoryFilter) -> tuple[str, dict[str, Any]]:
        """The WHERE clause and parameters selecting the pulls that match ``flt``."""
        return filter_sql(flt, self.conn, self.cipher)

    def history(
        self,
        flt: HistoryFilter,
        *,
        sort: str = "created_at",
        descending: bool = True,
        offset: int = 0,
        limit: int = 200,
        with_total: bool = False,
    ) -> HistoryPage:
        """One page of the pulls matching ``flt``, sorted by ``sort`` (``columns.SORT_KEYS``).

        Ties are broken by pull id, so consecutive pages never skip nor repeat a row while the
        history does not change. ``with_total`` also counts every matching row.
        """
        if offset < 0 or limit < 1:
            raise ValueError("offset must be >= 0 and limit >= 1")
        order = order_sql(sort, descending, self.dialect)
        where, params = self.filtered(flt)
        # Pick the page's ids first, then fetch those rows: the sort then moves (key, id) pairs
        # instead of whole rows, 4x faster on 100k pulls for keys without an index.
        joined = "FROM pulls p LEFT JOIN cards c ON c.pull_id = p.id"
        page_ids = f"SELECT p.id {joined} {where} {order} LIMIT :limit_ OFFSET :offset_"
        sql = (
            f"SELECT {_select(_LIGHT_COLUMNS, 'p')}, c.code_last4 AS card_code_last4, "
            f"c.expire_at AS card_expire_at {joined} WHERE p.id IN ({page_ids}) {order}"
        )
        rows = [
            HistoryRow(
                pull=pull_from_row(row),
                card_code_last4=row["card_code_last4"] or "",
                card_expire_at=from_db_time(row["card_expire_at"]),
            )
            for row in self.conn.query(sql, {**params, "limit_": limit, "offset_": offset})
        ]
        total = self.count_history(flt) if with_total else None
        return HistoryPage(rows=rows, offset=offset, total=total)

    def count_history(self, flt: HistoryFilter) -> int:
        where, params = self.filtered(flt)
        return int(self.conn.value(f"SELECT count(*) FROM pulls p {where}", params))  # noqa: S608

    def totals(self, flt: HistoryFilter) -> Totals:
        """Counts and sums over the pulls matching ``flt`` (see ``Totals``)."""
        where, params = self.filtered(flt)
        by_state = {
            PullState(state): n
            for state, n in self.conn.rows(
                f"SELECT p.state, count(*) FROM pulls p {where} GROUP BY p.state",  # noqa: S608
                params,
            )
        }
        success = _where_and(where, "p.state = 'success'")
        hint = self._totals_hint(flt)
        brands = self.conn.rows(
            "SELECT p.gift_card_code, max(p.gift_card_name), count(*), sum(p.amount), "  # noqa: S608
            f"sum(p.cost_cents) FROM pulls p {hint} {success} "
            "GROUP BY p.gift_card_code ORDER BY p.gift_card_code",
            params,
        )
        return Totals(
            count=sum(int(row[2]) for row in brands),
            face_value=sum(int(row[3]) for row in brands),
            cost=sum(int(row[4]) for row in brands) / 100,
            per_brand=[
                BrandTotal(code, name, int(n), int(face), int(cents) / 100)
                for code, name, n, face, cents in brands
            ],
            failed=sum(n for state, n in by_state.items() if state in FAILED_STATES),
            in_doubt=by_state.get(PullState.IN_DOUBT, 0),
            pending=sum(n for state, n in by_state.items() if state in _PENDING),
        )

    def daily_totals(self, flt: HistoryFilter) -> list[tuple[str, str, int]]:
        """(UTC day ``YYYY-MM-DD`` of creation, gift card code, face value issued), by day then
        code, over the successful pulls matching ``flt``."""
        where, params = self.filtered(flt)
        success = _where_and(where, "p.state = 'success'")
        hint = self._totals_hint(flt)
        rows = self.conn.rows(
            "SELECT substr(p.created_at, 1, 10) AS day, p.gift_card_code, sum(p.amount) "  # noqa: S608
            f"FROM pulls p {hint} {success} "
            "GROUP BY substr(p.created_at, 1, 10), p.gift_card_code "
            "ORDER BY day, p.gift_card_code",
            params,
        )
        return [(day, code, int(face)) for day, code, face in rows]

    def _totals_hint(self, flt: HistoryFilter) -> str:
        """The successful pulls' covering index, named for SQLite's planner (without
        statistics it would read the table row of every success through (state, created_at)),
        unless a search narrows the pulls down first: then its own indexes find them."""
        return "" if flt.search.strip() else self.dialect.index_hint("pulls_success_totals")

    def distinct_values(self, column: str) -> list[str]:
        """The values present in ``column`` (gift_card_code, agent or state), sorted, for filter
        pickers. Empty values are left out."""
        if column not in DISTINCT_COLUMNS:
            raise ValueError(
                f"no value list for {column!r}; choose one of {sorted(DISTINCT_COLUMNS)}"
            )
        # A skip scan: one index seek per distinct value (each column leads an index), instead
        # of reading a million index entries for a dozen values.
        sql = (
            f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM pulls WHERE {column} > '' "  # noqa: S608
            f"UNION ALL SELECT (SELECT min({column}) FROM pulls WHERE {column} > v.x) "
            "FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
        return [row[0] for row in self.conn.rows(sql)]

    # -- shift reports (shifts.py) --------------------------------------------------------------

    def shift_preview(self, agent: str, since: datetime, until: datetime) -> ShiftReport:
        """The report of ``agent``'s pulls journaled from ``since`` (inclusive) to ``until``
        (exclusive), as they stand now, without storing it (``id`` None). ``ValueError`` for
        an empty agent or a period that does not end after it starts."""
        if not agent:
            raise ValueError("a shift report needs the agent whose shift it is")
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("a shift's period is two aware datetimes")
        if not since < until:
            raise ValueError("a shift's period must end after it starts")
        rows = self.conn.rows(
            "SELECT p.gift_card_code, p.gift_card_name, p.currency, p.state, p.amount, "
            "p.cost_cents, p.created_at FROM pulls p WHERE p.agent = :agent "
            "AND p.created_at >= :since AND p.created_at < :until ORDER BY p.created_at, p.id",
            {"agent": agent, "since": to_db_time(since), "until": to_db_time(until)},
        )
        tally = Tally()
        for code, name, currency, state, amount, cost_cents, _at in rows:
            tally.add(code, name, currency, state, amount, cost_cents)
        return ShiftReport(
            agent=agent,
            period_start=since,
            period_end=until,
            brands=tuple(tally.lines()),
            first_pull_at=from_db_time(rows[0][6]) if rows else None,
            last_pull_at=from_db_time(rows[-1][6]) if rows else None,
        )

    def close_shift(
        self, agent: str, since: datetime, until: datetime, created_by: str
    ) -> ShiftReport:
        """Close ``agent``'s shift: work its report out and store it, in one transaction, with
        a ``shift_closed`` event. A period may be closed again: that is a new report (its own
        id), never an edit. ``ValueError`` as ``shift_preview``, for a period ending after now
        (pulls journaled after the close would be counted in no report) or without
        ``created_by`` (who closes it)."""
        if not created_by:
            raise ValueError("a shift report names who closed it")

        def body() -> ShiftReport:
            now = self.now()
            if until > now:
                raise ValueError("a shift cannot end after now")
            report = replace(
                self.shift_preview(agent, since, until), created_at=now, created_by=created_by
            )
            report_id = int(
                self.conn.value(
                    "INSERT INTO shift_reports (agent, period_start, period_end, created_at, "
                    "created_by, totals) VALUES (:agent, :since, :until, :at, :by, :totals) "
                    "RETURNING id",
                    {
                        "agent": agent,
                        "since": to_db_time(since),
                        "until": to_db_time(until),
                        "at": to_db_time(now),
                        "by": created_by,
                        "totals": dump_json(totals_json(report)),
                    },
                )
            )
            self._insert_event(
                None,
                "shift_closed",
                {"report": report_id, "agent": agent, "by": created_by, "pulls": report.pulls},
                now,
            )
            return replace(report, id=report_id)

        return self.conn.write(body)

    def shift_reports(
        self, agent: str | None = None, *, limit: int | None = None
    ) -> list[ShiftReport]:
        """Stored shift reports (of ``agent``, or everyone's), the newest close first."""
        where = "WHERE agent = :agent" if agent is not None else ""
        limit_sql = "LIMIT :limit" if limit is not None else ""
        sql = (
            "SELECT id, agent, period_start, period_end, created_at, created_by, totals "  # noqa: S608
            f"FROM shift_reports {where} ORDER BY created_at DESC, id DESC {limit_sql}"
        )
        return [report_from_row(r) for r in self.conn.query(sql, {"agent": agent, "limit": limit})]

    def last_shift_end(self, agent: str) -> datetime | None:
        """Where ``agent``'s last closed shift ended (the latest end, whoever closed it)."""
        value = self.conn.value(
            "SELECT max(period_end) FROM shift_reports WHERE agent = :agent", {"agent": agent}
        )
        return from_db_time(value)

    def interrupt(self) -> None:
        """Abort the query running on this connection (from another thread)."""
        self.conn.interrupt()

    def need_key(self) -> Cipher:
        if self.cipher is None:
            raise KeyUnavailableError()
        return self.cipher
