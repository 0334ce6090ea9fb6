"""``Store``: the history as the engine, the window and the CLI use it, every call awaited.

Nothing here touches the database on the caller's thread: journal writes and the engine's reads
run on the writer thread (``thread.DatabaseThread``), the history view's queries and exports on
reader threads, each with its own connection. The rules themselves are ``core.StoreCore``'s;
this class only decides where each call runs.

Invariant 1 of ``engine/pulls.py`` holds through it: ``await store.add_pulls(...)`` returns once
the intents are committed, and only then may a create be sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from walleo_desktop.store.core import StoreCore
from walleo_desktop.store.crypto import Cipher
from walleo_desktop.store.history import HistoryFilter, HistoryPage, HistoryRow, Totals
from walleo_desktop.store.records import CardRecord, EventRecord, NewPull, PullRecord, PullState
from walleo_desktop.store.rules import Owner
from walleo_desktop.store.seam import Backend
from walleo_desktop.store.shifts import ShiftReport
from walleo_desktop.store.thread import DatabaseThread, ReaderPool

__all__ = ["Store"]


class Store:
    """One open history. Build with ``await Store.open_sqlite(path, cipher=...)`` (or around
    any ``seam.Backend``); ``await close()`` when done."""

    def __init__(self, backend: Backend, main_core: StoreCore, *, readers: int = 2) -> None:
        self.backend = backend
        self._cipher = backend.cipher
        self._writer = DatabaseThread("walleo-db-writer", lambda: main_core)
        self._readers = ReaderPool(
            "walleo-db-reader", lambda: StoreCore(backend.connect(), backend.cipher), readers
        )
        self._closed = False

    @classmethod
    async def open_sqlite(
        cls, path: Path, *, cipher: Cipher | None = None, readers: int = 2
    ) -> Store:
        """Open (or create) the SQLite history at ``path``, off the calling thread."""

        from walleo_desktop.store.sqlite import SqliteBackend

        backend = await asyncio.get_running_loop().run_in_executor(
            None, lambda: SqliteBackend.open(path, cipher=cipher)
        )
        return cls(backend, StoreCore(backend.main, cipher), readers=readers)

    @classmethod
    def wrap(cls, backend: Backend, *, readers: int = 2) -> Store:
        """A ``Store`` over a backend already open (its own connection becomes the writer
        thread's). For callers that opened the backend themselves, off the loop."""
        main = getattr(backend, "core", None)
        if not isinstance(main, StoreCore):
            conn = getattr(backend, "main", None)  # the connection it opened to check itself
            main = StoreCore(conn if conn is not None else backend.connect(), backend.cipher)
        return cls(backend, main, readers=readers)

    @property
    def has_key(self) -> bool:
        return self._cipher is not None

    @property
    def cipher(self) -> Cipher | None:
        return self._cipher

    @property
    def label(self) -> str:
        return self.backend.label

    @property
    def path(self) -> Path:
        return Path(self.backend.label)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._readers.close()
        await self._writer.close(close_core=False)
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, self.backend.close)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_blocking()

    def close_blocking(self) -> None:
        """``close`` for code without an event loop (scripts, tests)."""
        if self._closed:
            return
        self._closed = True
        self._readers.close_blocking()
        self._writer.close_blocking(close_core=False)
        self.backend.close()

    # -- running anything ----------------------------------------------------------------------

    async def run[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(core, *args, **kwargs)`` on the writer thread."""
        return await self._writer.call(fn, *args, **kwargs)

    async def run_read[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(core, *args, **kwargs)`` on a reader thread (its own connection)."""
        return await self._readers.call(fn, *args, **kwargs)

    def open_reader(self) -> StoreCore:
        """A new connection's ``StoreCore``, for a thread the caller owns and must ``close()``
        (the history view's query threads, an export): reads never wait behind the journal,
        and ``interrupt()`` stops a query whose answer is no longer wanted."""
        return StoreCore(self.backend.connect(), self._cipher)

    def reader(self, index: int) -> DatabaseThread:
        """Reader thread ``index`` (a view keeps its pages on one, its sums on another)."""
        return self._readers.on(index)

    async def needs_check(self) -> bool:
        return self.backend.needs_check()

    async def check_integrity(self) -> str:
        """'' when the history is sound, else what is wrong (on a reader thread: seconds)."""
        return await self._readers.call(lambda _core: self.backend.check_integrity())

    # -- the journal ---------------------------------------------------------------------------

    async def add_pulls(
        self,
        pulls: Sequence[NewPull],
        *,
        owner: Owner | str | None = None,
        check_duplicates: bool = False,
        confirmed: Collection[int] = (),
    ) -> list[PullRecord]:
        return await self._writer.call(
            StoreCore.add_pulls,
            pulls,
            owner=owner,
            check_duplicates=check_duplicates,
            confirmed=confirmed,
        )

    async def duplicates_of(
        self, reference: str, gift_card_code: str, amount: int
    ) -> list[PullRecord]:
        return await self._writer.call(StoreCore.duplicates_of, reference, gift_card_code, amount)

    async def transition(
        self,
        pull_id: int,
        *,
        expect: PullState,
        epoch: int | None = None,
        event: str | None = None,
        detail: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> PullRecord:
        return await self._writer.call(
            StoreCore.transition,
            pull_id,
            expect=expect,
            epoch=epoch,
            event=event,
            detail=detail,
            **fields,
        )

    async def update_pull(
        self,
        pull_id: int,
        *,
        event: str | None = None,
        detail: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> PullRecord:
        return await self._writer.call(
            StoreCore.update_pull, pull_id, event=event, detail=detail, **fields
        )

    async def record_card(self, pull_id: int, card: CardRecord, **options: Any) -> PullRecord:
        return await self._writer.call(StoreCore.record_card, pull_id, card, **options)

    async def add_event(
        self, pull_id: int | None, kind: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        await self._writer.call(StoreCore.add_event, pull_id, kind, detail)

    async def events(
        self, pull_id: int | None = None, *, limit: int | None = None
    ) -> list[EventRecord]:
        return await self._writer.call(StoreCore.events, pull_id, limit=limit)

    async def claim(self, owner: Owner | str, *, profile: str, limit: int) -> list[PullRecord]:
        return await self._writer.call(StoreCore.claim, owner, profile=profile, limit=limit)

    async def renew(self, owner: Owner | str) -> set[int]:
        return await self._writer.call(StoreCore.renew, owner)

    async def release(self, owner: Owner | str) -> int:
        return await self._writer.call(StoreCore.release, owner)

    async def changes_since(
        self, seq: int, *, gaps: Sequence[int] = (), limit: int = 1000
    ) -> list[PullRecord]:
        return await self._readers.call(StoreCore.changes_since, seq, gaps=gaps, limit=limit)

    @property
    def notifies_changes(self) -> bool:
        """Whether the backend says when the history changed (PostgreSQL's LISTEN), so a
        follower may wait for it instead of asking every second."""
        return callable(getattr(self.backend, "wait_for_change", None))

    async def wait_for_change(self, timeout: float) -> bool:
        """Wait until the backend says the history changed (True) or ``timeout`` seconds pass
        (False), on a thread of its own; at once False for a backend that never says."""
        wait = getattr(self.backend, "wait_for_change", None)
        if wait is None:
            return False

        # A thread of the loop's pool: a wait is at most ``timeout`` long, and a cancelled one
        # ends by itself at its timeout (or when close() closes the listening connection).
        return bool(await asyncio.to_thread(wait, timeout))

    async def last_change(self) -> int:
        return await self._readers.call(StoreCore.last_change)

    # -- pulls and cards -----------------------------------------------------------------------

    async def get_pull(self, pull_id: int) -> PullRecord:
        return await self._writer.call(StoreCore.get_pull, pull_id)

    async def find_pull(self, request_id: str) -> PullRecord | None:
        return await self._writer.call(StoreCore.find_pull, request_id)

    async def pulls(self, ids: Sequence[int]) -> list[PullRecord]:
        return await self._writer.call(StoreCore.pulls, list(ids))

    async def unfinished_pulls(self) -> list[PullRecord]:
        return await self._writer.call(StoreCore.unfinished_pulls)

    async def recent_pulls(self, limit: int = 500, *, agent: str | None = None) -> list[PullRecord]:
        return await self._readers.call(StoreCore.recent_pulls, limit, agent=agent)

    async def retries_of(self, pull_id: int) -> list[PullRecord]:
        return await self._writer.call(StoreCore.retries_of, pull_id)

    async def batch(self, batch_id: str, *, since: datetime | None = None) -> list[HistoryRow]:
        return await self._readers.call(StoreCore.batch, batch_id, since=since)

    async def get_card(self, card_id: str) -> CardRecord | None:
        return await self._writer.call(StoreCore.get_card, card_id)

    async def card_for_pull(self, pull_id: int) -> CardRecord | None:
        return await self._writer.call(StoreCore.card_for_pull, pull_id)

    async def pull_of_card(self, card_id: str) -> int | None:
        return await self._writer.call(StoreCore.pull_of_card, card_id)

    async def set_card_pdf_path(self, card_id: str, path: str) -> None:
        await self._writer.call(StoreCore.set_card_pdf_path, card_id, path)

    # -- settings and caches -------------------------------------------------------------------

    async def get_setting(self, key: str, default: Any = None) -> Any:
        return await self._writer.call(StoreCore.get_setting, key, default)

    async def set_setting(self, key: str, value: Any) -> None:
        await self._writer.call(StoreCore.set_setting, key, value)

    async def save_catalog(
        self, profile: str, items: list[dict[str, Any]], fetched_at: datetime
    ) -> None:
        await self._writer.call(StoreCore.save_catalog, profile, items, fetched_at)

    async def load_catalog(self, profile: str) -> tuple[datetime, list[dict[str, Any]]] | None:
        return await self._writer.call(StoreCore.load_catalog, profile)

    # -- history reads -------------------------------------------------------------------------

    async def history(self, flt: HistoryFilter, **options: Any) -> HistoryPage:
        return await self._readers.call(StoreCore.history, flt, **options)

    async def count_history(self, flt: HistoryFilter) -> int:
        return await self._readers.call(StoreCore.count_history, flt)

    async def totals(self, flt: HistoryFilter) -> Totals:
        return await self._readers.call(StoreCore.totals, flt)

    async def daily_totals(self, flt: HistoryFilter) -> list[tuple[str, str, int]]:
        return await self._readers.call(StoreCore.daily_totals, flt)

    async def distinct_values(self, column: str) -> list[str]:
        return await self._readers.call(StoreCore.distinct_values, column)

    # -- shift reports -------------------------------------------------------------------------

    async def shift_preview(self, agent: str, since: datetime, until: datetime) -> ShiftReport:
        return await self._readers.call(StoreCore.shift_preview, agent, since, until)

    async def close_shift(
        self, agent: str, since: datetime, until: datetime, created_by: str
    ) -> ShiftReport:
        return await self._writer.call(StoreCore.close_shift, agent, since, until, created_by)

    async def shift_reports(
        self, agent: str | None = None, *, limit: int | None = None
    ) -> list[ShiftReport]:
        return await self._readers.call(StoreCore.shift_reports, agent, limit=limit)

    async def last_shift_end(self, agent: str) -> datetime | None:
        return await self._readers.call(StoreCore.last_shift_end, agent)
