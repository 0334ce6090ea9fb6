"""The pull lifecycle: journal before send, polling, in-doubt recovery.

Invariants (the reason this module exists):

1. An intent is committed to the journal (state ``queued``, request id minted) *before* any POST.
2. Every create for one intent reuses its request id (also as ``X-RequestId``), so sending again is
   always safe: Walleo either replays, answers "Request id is already used" (we then poll), or
   creates the one pull it never saw.
3. The state ``sending`` is committed before the POST goes out. A crash leaves ``sending`` behind,
   which on restart means *in doubt*, never *failed*.
4. An ambiguous answer (timeout, reset, 5xx, garbage) makes the pull *in doubt*; a GET by request id
   resolves it, and only ``pull_request_not_found`` lets the same request id be POSTed again.
5. ``error`` from Walleo is final for that request id; a retry is a new intent, linked to it.
6. Nothing is abandoned: an unfinished pull is polled (slowly, flagged overdue past 30 minutes)
   until Walleo gives a final answer, across restarts.
7. Exactly one process drives an unfinished pull: the engine claims a lease on it (``store
   .rules``), renews it while it drives, fences every write with the lease's epoch, and stops
   driving a pull whose lease another process took over. Pulls nobody drives (a crashed or
   closed process's) are claimed again every ``RENEW_EVERY`` seconds.
8. Walleo's cadence holds whoever drives: no GET of one pull within ``PollPolicy.gap`` (5 s) of
   the previous one (``last_check_at`` is in the journal), the first no sooner than
   ``first_check`` after the create.

Every history call is awaited on the store's database thread: nothing here touches the
database on the loop's thread. Observers (the window, the CLI) subscribe to ``PullEvent``s;
callbacks run on the loop thread. Changes made by other processes to the same history (a
second window, a teammate) reach observers too (``watch``), as ``"changed"`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import random
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from walleo_desktop.api import errors as E
from walleo_desktop.api.client import WalleoClient
from walleo_desktop.api.models import GiftCard, PullRequest, PullStatus
from walleo_desktop.engine.policy import PollPolicy
from walleo_desktop.logs import register_secret
from walleo_desktop.store import (
    AlreadyRetriedError,
    CardConflictError,
    ConstraintError,
    DuplicateIntentError,
    LeaseLostError,
    NotFoundError,
    Owner,
    StaleWriteError,
    Store,
    StoreError,
)
from walleo_desktop.store.records import (
    CardRecord,
    NewPull,
    PullRecord,
    PullState,
    utcnow,
)
from walleo_desktop.store.rules import CLAIM_BATCH, LEASE_SECONDS, RENEW_EVERY

# How long before a lease's end this engine stops trusting it (see PullEngine._sure_until).
LEASE_MARGIN = min(5.0, LEASE_SECONDS / 4)

__all__ = [
    "MAX_AMOUNT",
    "MAX_BATCH",
    "MAX_QUANTITY",
    "AlreadyRetried",
    "BatchLine",
    "PullEngine",
    "PullEvent",
    "new_request_id",
    "validate_amount",
]

# How often the engine looks for changes other processes made to the history (live views);
# with a backend that notifies (PostgreSQL), a notification wakes it sooner and it looks at
# least every TEAM_WATCH_INTERVAL seconds.
WATCH_INTERVAL = 1.0
TEAM_WATCH_INTERVAL = 5.0
# A change sequence number skipped in what a look found is asked for again this long (a
# transaction that took it and had not committed yet), then forgotten (one that rolled back).
GAP_PATIENCE = 60.0

log = logging.getLogger("walleo.engine")

# The most one card may be worth (major units) and the most cards one order may hold: far above
# any real gift card or order, far below what SQLite's 64-bit integers or Walleo's JSON allow.
MAX_AMOUNT = 1_000_000
MAX_QUANTITY = 1000
# The most cards one batch (a bulk order from a file) may hold.
MAX_BATCH = 50_000

# Walleo's documented refusals of a create: each means "nothing was created for this request
# id". Anything else a create can answer (an undocumented 4xx such as 409 "conflict", a 4xx
# without an envelope, an answer we cannot read) may come after Walleo created the pull: the
# pull is in doubt and a GET by request id decides (walleo-api.md, Decision 3).
_DEFINITE_REFUSALS: tuple[type[E.WalleoError], ...] = (
    E.ConfigurationError,  # refused by the client itself: never sent
    E.GiftCardNotFound,
    E.NotEnoughFunds,
    E.OutOfStock,
    E.InvalidAmount,
    E.Unauthorized,
    E.InvalidSignature,
)


class AlreadyRetried(ValueError):
    """A failed pull has at most one retry; this one has it already (``retry``)."""

    def __init__(self, pull: PullRecord, retry: PullRecord) -> None:
        super().__init__(
            f"This pull was already retried as {retry.request_id}: a failure gets one retry."
        )
        self.pull = pull
        self.retry = retry


def _one_line(text: str, what: str) -> str:
    """``text`` stripped, refused when it holds a line break or another control character (a
    reference is one line: a newline in it would forge lines in text reports)."""
    text = text.strip()
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        raise ValueError(f"The {what} must be one line of text, without control characters.")
    return text


def new_request_id() -> str:
    return f"wd-{uuid.uuid4()}"


def default_agent() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in some sandboxes
        return "agent"


def validate_amount(gift_card: GiftCard, amount: int) -> str | None:
    """None if Walleo should accept ``amount`` for this card, else the reason in plain words."""
    return gift_card.facial_values.validate(amount)


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One line of an order: ``count`` cards of ``gift_card`` at ``amount``."""

    gift_card: GiftCard
    amount: int
    count: int = 1
    reference: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class PullEvent:
    """One change to one pull. ``card`` is set when the pull has just succeeded."""

    kind: str  # "added" | "changed"
    pull: PullRecord
    card: CardRecord | None = None


class _Worker:
    __slots__ = ("check_failures", "create_failures", "task", "wake")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.create_failures = 0
        self.check_failures = 0


class PullEngine:
    """Drives every unfinished pull of one store through one Walleo client.

    ``concurrency`` bounds the requests in flight (and the client's connection pool should be at
    least as large); pulls themselves are unbounded, each one waits cheaply between checks.
    """

    def __init__(
        self,
        client: WalleoClient,
        store: Store,
        *,
        profile: str = "demo",
        currency: str = "EUR",
        agent: str | None = None,
        concurrency: int = 8,
        policy: PollPolicy | None = None,
        rng: random.Random | None = None,
        owner: Owner | None = None,
        watch: bool = True,
        can_issue: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.store = store
        self.profile = profile
        self.currency = currency
        self.agent = agent or default_agent()
        self.policy = policy or PollPolicy()
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self._workers: dict[int, _Worker] = {}
        self._done: dict[int, list[asyncio.Future[PullRecord]]] = {}
        self._observers: list[Callable[[PullEvent], None]] = []
        self._stopped: dict[int, str] = {}
        # Stopped because the history could not be written: driven again once a renewal writes
        # (not those another process took, nor those a bug stopped: they wait for a restart).
        self._resumable: set[int] = set()
        self._renewals_failing = False  # the last renewal of the leases could not be written
        self._failures_logged: set[str] = set()
        self._closed = False
        self.owner = owner or Owner.new()
        self._watch = watch
        self.can_issue = can_issue
        self._seen_seq = 0
        self._gaps: dict[int, float] = {}  # change_seq -> monotonic time first missed
        self._health_observers: list[Callable[[str | None], None]] = []
        # Until when (monotonic) this engine's leases are surely still its own: the start of
        # its last successful claim or renewal, plus a lease, minus a margin. A GET or POST
        # waits past it for the next renewal: a desktop whose renewals are late (a starved
        # machine, a slow database) must not poll a pull a teammate may have taken over.
        self._sure_until = float("inf")
        self._renewed = asyncio.Event()
        self.problem: str | None = None  # why the history cannot be used right now
        self._keeper: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._started = False

    # ------------------------------------------------------------------ observing

    def subscribe(self, callback: Callable[[PullEvent], None]) -> Callable[[], None]:
        """Call ``callback`` for every change; returns a function that unsubscribes."""
        self._observers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._observers.remove(callback)

        return unsubscribe

    def subscribe_health(self, callback: Callable[[str | None], None]) -> Callable[[], None]:
        """Call ``callback(problem)`` when the history stops being usable (a sentence: the
        team database went away, the disk is full) and ``callback(None)`` when it is again."""
        self._health_observers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._health_observers.remove(callback)

        return unsubscribe

    def _set_problem(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        if problem is None:
            log.info("the history can be used again")
        for callback in list(self._health_observers):
            try:
                callback(problem)
            except Exception:
                log.exception("a health observer failed")

    def _refuse_issuing(self) -> None:
        if not self.can_issue:
            raise E.ConfigurationError(
                "This desktop reviews the team's history and issues no cards (finance)."
            )

    def _emit(self, kind: str, pull: PullRecord, card: CardRecord | None = None) -> None:
        event = PullEvent(kind, pull, card)
        for callback in list(self._observers):
            try:
                callback(event)
            except Exception:
                log.exception("a pull observer failed; the pull itself is unaffected")
        if pull.final:
            for fut in self._done.pop(pull.id, []):
                if not fut.done():
                    fut.set_result(pull)

    @property
    def in_flight(self) -> int:
        """Pulls this engine is driving right now."""
        return len(self._workers)

    # ------------------------------------------------------------------ commands

    async def start(self) -> list[PullRecord]:
        """Claim and drive every unfinished pull of this engine's profile that no other process
        drives; from then on renew the leases, take over pulls other processes leave behind,
        and follow the history's changes. Returns the pulls claimed now.

        Pulls journaled under another profile are left alone: resending one with these
        credentials could issue the card on the wrong Walleo account.
        """
        if self._closed:
            raise RuntimeError("the engine is closed")
        if not self._started:
            self._started = True
            self._seen_seq = await self.store.last_change()
            self._sure_until = time.monotonic() + LEASE_SECONDS - LEASE_MARGIN
        loop = asyncio.get_running_loop()
        if not self.can_issue:  # finance: follows the history, drives nothing
            if self._watch and self._watcher is None:
                self._watcher = loop.create_task(self._follow_changes(), name="engine-watch")
            return []
        claimed = await self._claim()
        if self._keeper is None:
            self._keeper = loop.create_task(self._keep_leases(), name="engine-leases")
        if self._watch and self._watcher is None:
            self._watcher = loop.create_task(self._follow_changes(), name="engine-watch")
        if claimed:
            log.info("driving %d unfinished pull(s) from the journal", len(claimed))
        return claimed

    async def _claim(self) -> list[PullRecord]:
        """Claim what nobody drives (in batches), and drive it."""
        claimed: list[PullRecord] = []
        while True:
            batch = await self.store.claim(self.owner, profile=self.profile, limit=CLAIM_BATCH)
            for pull in batch:
                if pull.state is PullState.SENDING:
                    # Its driver stopped while the POST was out: we cannot know.
                    try:
                        pull = await self.store.transition(
                            pull.id,
                            expect=pull.state,
                            epoch=pull.lease_epoch,
                            event="in_doubt",
                            detail={"reason": "interrupted while sending"},
                            state=PullState.IN_DOUBT,
                            next_check_at=self._schedule(self.policy.first_check),
                        )
                    except (LeaseLostError, StaleWriteError):
                        continue
                    self._emit("changed", pull)
                self._spawn(pull)
                claimed.append(pull)
            if len(batch) < CLAIM_BATCH:
                return claimed

    async def _keep_leases(self) -> None:
        """Renew this engine's leases; stop driving what another process took over; take
        over what stopped processes left."""
        while not self._closed:
            # Sooner while pulls wait for the history to be writable again (a full disk, a
            # database that went away): they resume as soon as it is.
            await asyncio.sleep(RENEW_EVERY / 4 if self._resumable else RENEW_EVERY)
            try:
                started = time.monotonic()
                held = await self.store.renew(self.owner)
                self._renewals_failing = False
                self._sure_until = started + LEASE_SECONDS - LEASE_MARGIN
                self._renewed.set()
                self._renewed = asyncio.Event()
                lost = []
                for pull_id, worker in list(self._workers.items()):
                    if pull_id not in held and worker.task is not None:
                        log.info("pull #%d is driven by another process now", pull_id)
                        worker.task.cancel()
                        lost.append(pull_id)
                if lost:  # whoever waits for them gets them back, as the journal has them
                    for pull in await self.store.pulls(lost):
                        self._stopped[pull.id] = "driven by another process now"
                        for fut in self._done.pop(pull.id, []):
                            if not fut.done():
                                fut.set_result(pull)
                await self._resume_stopped(held)
                if self._started:  # takeovers are for an engine that was started
                    await self._claim()
            except asyncio.CancelledError:
                raise
            except StoreError as exc:  # the next round tries again
                log.warning("renewing the pulls' leases failed: %s", exc)
                self._renewals_failing = True
                self._set_problem(str(exc))
            except Exception:  # a bug: said, and the next round tries again (workers wait on it)
                log.exception("renewing the pulls' leases failed")
                self._renewals_failing = True
            else:
                self._set_problem(None)

    async def _resume_stopped(self, held: set[int]) -> None:
        """Drive again the pulls this engine still holds but stopped driving because the
        history could not be written: the renewal just wrote, so it can again."""
        again = sorted(pid for pid in held if pid not in self._workers and pid in self._resumable)
        if not again:
            return
        for pull in await self.store.pulls(again):
            self._resumable.discard(pull.id)
            if not pull.final and pull.lease_owner == str(self.owner):
                self._stopped.pop(pull.id, None)
                self._spawn(pull)
        log.info("driving %d pull(s) again: the history can be written", len(again))

    async def _follow_changes(self) -> None:
        """Tell observers about pulls other processes changed (another window, a teammate)."""
        notified = self.store.notifies_changes
        while not self._closed:
            try:
                if notified:  # a doorbell: the truth is change_seq, read right after
                    await self.store.wait_for_change(
                        WATCH_INTERVAL if self._gaps else TEAM_WATCH_INTERVAL
                    )
                else:
                    await asyncio.sleep(WATCH_INTERVAL)
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except StoreError as exc:
                log.info("following the history's changes failed: %s", exc)
                if not self.can_issue:  # the keeper says it for an engine that drives
                    self._set_problem(str(exc))
                await asyncio.sleep(WATCH_INTERVAL)
            else:
                if not self.can_issue:
                    self._set_problem(None)

    async def catch_up(self) -> int:
        """Emit ``changed`` for every pull changed by someone else since the last look; the
        number of such pulls. Sequence numbers skipped (a transaction not committed yet) are
        asked for again at the next looks (``GAP_PATIENCE``)."""
        seen = 0
        now = time.monotonic()
        for seq, since in list(self._gaps.items()):
            if now - since > GAP_PATIENCE:
                del self._gaps[seq]
        while True:
            changes = await self.store.changes_since(self._seen_seq, gaps=sorted(self._gaps))
            fresh = [p for p in changes if p.change_seq > self._seen_seq]
            found = {p.change_seq for p in changes}
            for seq in found:
                self._gaps.pop(seq, None)
            expected = self._seen_seq + 1
            # SQLite's writers are serialised: no number is taken before an earlier commit.
            for seq in sorted(p.change_seq for p in fresh) if self.store.notifies_changes else ():
                for missing in range(expected, min(seq, expected + 1000)):
                    self._gaps.setdefault(missing, now)
                expected = seq + 1
            while len(self._gaps) > 10_000:  # a burst of rollbacks: forget the oldest
                del self._gaps[min(self._gaps)]
            for pull in changes:
                self._seen_seq = max(self._seen_seq, pull.change_seq)
                if pull.id not in self._workers:
                    seen += 1
                    self._emit("changed", pull)
            if len(fresh) < 1000:
                return seen

    async def submit(
        self,
        gift_card: GiftCard,
        amount: int,
        *,
        count: int = 1,
        reference: str = "",
        note: str = "",
        confirmed_duplicates: Collection[int] = (),
    ) -> list[PullRecord]:
        """Journal ``count`` intents in one transaction, then send them. Returns them, queued.

        Raises ``ValueError`` (nothing journaled, nothing sent) when the amount is not one the
        gift card accepts or ``count`` is out of range, and ``DuplicateIntentError`` when the
        same reference, brand and amount was issued in the last 24 hours (by anyone using this
        history) and those pulls are not in ``confirmed_duplicates``.
        """
        line = BatchLine(gift_card, amount, count=count, reference=reference, note=note)
        return await self.submit_batch([line], confirmed_duplicates=confirmed_duplicates)

    async def submit_batch(
        self,
        lines: Sequence[BatchLine],
        *,
        batch_id: str | None = None,
        confirmed_duplicates: Collection[int] = (),
    ) -> list[PullRecord]:
        """Journal every line's intents in one transaction (all or none), then send them:
        a bulk order from a file is one batch. Each line is checked as ``submit`` checks it
        (``ValueError`` naming the line, nothing journaled); returns the pulls in order."""
        if self._closed:
            raise RuntimeError("the engine is closed")
        self._refuse_issuing()
        if not lines:
            raise ValueError("A batch holds at least one card.")
        batch = batch_id or uuid.uuid4().hex[:12]
        intents: list[NewPull] = []
        for number, line in enumerate(lines, start=1):
            try:
                intents += self._intents(line, batch)
            except ValueError as exc:
                raise ValueError(str(exc) if len(lines) == 1 else f"Line {number}: {exc}") from None
            if len(intents) > MAX_BATCH:
                raise ValueError(f"A batch holds at most {MAX_BATCH:,} cards.")
        return await self._journal_and_spawn(
            intents,
            check_duplicates=any(i.reference for i in intents),
            confirmed=confirmed_duplicates,
        )

    def _intents(self, line: BatchLine, batch: str) -> list[NewPull]:
        gift_card, amount, count = line.gift_card, line.amount, line.count
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_QUANTITY:
            raise ValueError(f"The quantity must be between 1 and {MAX_QUANTITY:,}.")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
            raise ValueError(f"The amount must be a whole number from 1 to {MAX_AMOUNT:,}.")
        problem = validate_amount(gift_card, amount)
        if problem:
            raise ValueError(problem)
        reference = _one_line(line.reference, "reference")
        note = _one_line(line.note, "note")
        return [
            NewPull(
                request_id=new_request_id(),
                gift_card_code=gift_card.code,
                gift_card_name=gift_card.name,
                amount=int(amount),
                currency=self.currency,
                discount=gift_card.discount,
                catalog_snapshot=dict(gift_card.raw) or _snapshot(gift_card),
                agent=self.agent,
                reference=reference,
                note=note,
                profile=self.profile,
                batch_id=batch,
            )
            for _ in range(count)
        ]

    async def retry(self, pull_id: int) -> PullRecord:
        """A new pull, with a new request id, for an intent that ended in error or rejection."""
        if self._closed:
            raise RuntimeError("the engine is closed")
        self._refuse_issuing()
        old = await self.store.get_pull(pull_id)
        if old.state not in (PullState.ERROR, PullState.REJECTED):
            raise ValueError("Only a pull that ended in error or was rejected can be retried.")
        earlier = await self.store.retries_of(old.id)
        if earlier:
            raise AlreadyRetried(old, earlier[0])
        intent = NewPull(
            request_id=new_request_id(),
            gift_card_code=old.gift_card_code,
            gift_card_name=old.gift_card_name,
            amount=old.amount,
            currency=old.currency,
            discount=old.discount,
            catalog_snapshot=old.catalog_snapshot,
            agent=self.agent,
            reference=old.reference,
            note=old.note,
            profile=self.profile,
            batch_id=old.batch_id,
            retry_of=old.id,
        )
        try:
            (new,) = await self._journal_and_spawn([intent])
        except AlreadyRetriedError as exc:  # another window or process retried it meanwhile
            raise AlreadyRetried(old, await self.store.get_pull(exc.retry_id)) from None
        await self.store.add_event(
            old.id, "retried", {"new_pull_id": new.id, "request_id": new.request_id}
        )
        return new

    def check_now(self, pull_id: int) -> bool:
        """Ask for an immediate check of an unfinished pull. False if it is not being driven."""
        worker = self._workers.get(pull_id)
        if worker is None:
            return False
        worker.wake.set()
        return True

    async def wait(self, pull_ids: Iterable[int]) -> list[PullRecord]:
        """Wait until every given pull is final, or no longer driven by this engine; returns
        their records in order.

        A record that is not final means its driving stopped (``stopped_reason`` says why: the
        history could not be written, for one) or that this engine never drove it (another
        profile's pull): it stays in the journal, for a later ``start``. ``wait`` never waits
        for a pull nobody drives.
        """
        ids = list(pull_ids)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[PullRecord]] = []
        unattended: dict[int, list[asyncio.Future[PullRecord]]] = {}
        for pid in ids:  # no await in this loop: a worker cannot end between look and listen
            fut: asyncio.Future[PullRecord] = loop.create_future()
            if pid in self._workers:  # its worker hands it over when it ends
                self._done.setdefault(pid, []).append(fut)
            else:
                unattended.setdefault(pid, []).append(fut)
            futures.append(fut)
        if unattended:  # one read for all of them (a bulk order waits for 500 at a time)
            found = {p.id: p for p in await self.store.pulls(list(unattended))}
            for pid, waiting in unattended.items():
                pull = found.get(pid)
                if pull is None:
                    raise NotFoundError(f"no pull #{pid} in the history")
                if not pull.final:
                    self._stopped.setdefault(pid, "it is not being driven by this session")
                for fut in waiting:
                    fut.set_result(pull)
        return list(await asyncio.gather(*futures))

    def stopped_reason(self, pull_id: int) -> str | None:
        """Why this engine stopped driving an unfinished pull (None: it did not)."""
        return self._stopped.get(pull_id)

    async def close(self) -> None:
        """Stop driving pulls and give up their leases: their journal state stays, and the next
        start (or another process, at once) resumes them."""
        self._closed = True
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in (self._keeper, self._watcher, *tasks):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._keeper, self._watcher, *tasks) if t is not None),
            return_exceptions=True,
        )
        self._workers.clear()
        for futures in self._done.values():
            for fut in futures:
                fut.cancel()
        self._done.clear()
        if self._started or tasks:
            try:
                await self.store.release(self.owner)
            except StoreError as exc:  # they expire by themselves
                log.info("releasing the pulls' leases failed: %s", exc)

    # ------------------------------------------------------------------ internals

    async def _journal_and_spawn(
        self,
        intents: list[NewPull],
        *,
        check_duplicates: bool = False,
        confirmed: Collection[int] = (),
    ) -> list[PullRecord]:
        taken = time.monotonic()
        try:
            pulls = await self.store.add_pulls(  # committed: then send
                intents, owner=self.owner, check_duplicates=check_duplicates, confirmed=confirmed
            )
        except (DuplicateIntentError, AlreadyRetriedError, ConstraintError):
            raise  # a refusal of these intents, not a history that cannot be written
        except StoreError as exc:
            self._set_problem(str(exc))
            raise
        self._sure_until = min(self._sure_until, taken + LEASE_SECONDS - LEASE_MARGIN)
        for pull in pulls:
            self._emit("added", pull)
            self._spawn(pull)
        return pulls

    def _spawn(self, pull: PullRecord) -> None:
        if pull.id in self._workers or pull.final:
            return
        if self._keeper is None and not self._closed:
            # Whoever drives pulls renews their leases, started or not (`pull` drives only its
            # own): a lease that ran out under a live driver is a pull polled by two.
            self._keeper = asyncio.get_running_loop().create_task(
                self._keep_leases(), name="engine-leases"
            )
        worker = _Worker()
        self._workers[pull.id] = worker
        worker.task = asyncio.get_running_loop().create_task(
            self._drive(pull, worker), name=f"pull-{pull.id}"
        )

    async def _update(
        self,
        pull: PullRecord,
        event: str | None = None,
        detail: dict[str, Any] | None = None,
        **fields: Any,
    ) -> PullRecord:
        """Write a step of ``pull`` (fenced: the state it is in, the lease epoch it holds)."""
        updated = await self.store.transition(
            pull.id,
            expect=pull.state,
            epoch=pull.lease_epoch,
            event=event,
            detail=detail,
            **fields,
        )
        self._emit("changed", updated)
        return updated

    async def _drive(self, pull: PullRecord, worker: _Worker) -> None:
        try:
            while not pull.final:
                if pull.state is PullState.QUEUED:
                    pull = await self._create(pull, worker)
                elif pull.state is PullState.SENDING:
                    pull = await self._update(
                        pull,
                        "in_doubt",
                        {"reason": "interrupted while sending"},
                        state=PullState.IN_DOUBT,
                        next_check_at=self._schedule(self.policy.first_check),
                    )
                else:  # in doubt, waiting, processing
                    await self._sleep_until_check(pull, worker)
                    pull = await self._check(pull, worker)
        except asyncio.CancelledError:
            raise
        except (LeaseLostError, StaleWriteError) as exc:  # another process drives it now
            log.info("pull %s: %s", pull.request_id, exc)
            self._stopped[pull.id] = str(exc)
            for fut in self._done.pop(pull.id, []):
                if not fut.done():
                    fut.set_result(pull)
        except Exception as exc:  # a bug or a store failure: keep the pull for the next start
            self._stop_driving(pull, exc)
        finally:
            self._workers.pop(pull.id, None)

    def _stop_driving(self, pull: PullRecord, exc: Exception) -> None:
        """A pull's worker could not go on (the history cannot be written: disk full, read-only
        folder; or a bug). The pull stays in the journal as last written; whoever waits for it
        gets its record back with the reason, instead of waiting forever."""
        reason = str(exc) if isinstance(exc, StoreError) else f"an internal error ({exc!r})"
        self._stopped[pull.id] = reason
        if isinstance(exc, StoreError):
            self._resumable.add(pull.id)
            self._set_problem(reason)
        kind = f"{type(exc).__name__}: {exc}"
        if kind in self._failures_logged:  # the same failure for a thousand pulls: said once
            log.debug("pull %s stopped too (%s)", pull.request_id, reason)
        elif isinstance(exc, StoreError):  # the environment, not a bug: no traceback
            self._failures_logged.add(kind)
            log.error("pull %s stopped (%s); it stays in the journal", pull.request_id, reason)
        else:
            self._failures_logged.add(kind)
            log.exception("pull %s stopped; it stays in the journal", pull.request_id)
        if not isinstance(exc, StoreError):
            task = asyncio.get_running_loop().create_task(
                self.store.add_event(pull.id, "engine_failure", {"error": type(exc).__name__})
            )
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        for fut in self._done.pop(pull.id, []):
            if not fut.done():
                fut.set_result(pull)

    async def _lease_sure(self) -> None:
        """Return once this engine's leases are surely its own (see ``_sure_until``).
        ``StoreError`` once the lease ran out while renewals fail (the history cannot be
        written, or the database is away): the pull stops, whoever waits for it gets it back,
        and it is driven again when a renewal shows its lease is still this engine's. (A
        process that merely slept past its leases waits for the next renewal instead: it may
        find the pull taken over.)"""
        while time.monotonic() > self._sure_until and not self._closed:
            if self._renewals_failing and time.monotonic() > self._sure_until + LEASE_MARGIN:
                raise StoreError(
                    "its lease could not be renewed: the history cannot be written just now"
                )
            await _wait(self._renewed, 1.0)

    async def _sleep_until_check(self, pull: PullRecord, worker: _Worker) -> None:
        """Wait for the pull's agreed check time, and in any case until Walleo's cadence allows
        the next GET (``gap`` after the last one, whoever made it; ``first_check`` after the
        create)."""
        while not worker.wake.is_set():
            # asyncio timers may fire a clock tick early: never check before the agreed time.
            delay = (self._earliest_check(pull) - utcnow()).total_seconds()
            if pull.next_check_at is not None:
                delay = max(delay, (pull.next_check_at - utcnow()).total_seconds())
            if delay <= 0:
                break
            await _wait(worker.wake, delay + 0.005)
        worker.wake.clear()  # a "check now" is consumed by this check
        # Even on "check now", never two GETs of one pull closer than Walleo's cadence allows.
        # (a loop: timers may fire a tick early)
        while (wait := (self._earliest_check(pull) - utcnow()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait + 0.005)

    def _earliest_check(self, pull: PullRecord) -> datetime:
        earliest = pull.created_at
        if pull.last_check_at is not None:
            # A little more than the gap: what Walleo sees is when each GET arrives, and a
            # request can spend a few milliseconds more on the way than the one before.
            gap = self.policy.gap
            earliest = pull.last_check_at + timedelta(seconds=gap + min(0.1, gap / 20))
        return earliest

    def _schedule(self, seconds: float) -> datetime:
        return utcnow() + timedelta(seconds=seconds)

    def _overdue(self, pull: PullRecord) -> bool:
        start = pull.sent_at or pull.created_at
        return (utcnow() - start).total_seconds() >= self.policy.overdue_after

    def _poll_delay(self, pull: PullRecord, failures: int) -> float:
        if self._overdue(pull):
            return self.policy.slow_interval
        if failures:
            return self.policy.backoff(failures, self._rng)
        return self.policy.next_poll(self._rng)

    async def _create(self, pull: PullRecord, worker: _Worker) -> PullRecord:
        pull = await self._update(
            pull,
            "send",
            {"attempt": worker.create_failures + 1},
            state=PullState.SENDING,
            sent_at=pull.sent_at or utcnow(),
            attempts=pull.attempts + 1,
        )
        try:
            async with self._slots:
                await self._lease_sure()
                answer = await self.client.create_pull_request(
                    pull.gift_card_code, pull.amount, pull.request_id
                )
        except E.RequestIdAlreadyUsed:
            # Our own id: the first POST reached Walleo. Poll it; never mint a new id.
            worker.create_failures = 0
            return await self._update(
                pull,
                "already_used",
                {"meaning": "an earlier send reached Walleo; polling it"},
                state=PullState.WAITING,
                next_check_at=self._schedule(self.policy.first_check),
            )
        except (E.NotSentError, E.RateLimitedError) as exc:
            worker.create_failures += 1
            wait = self.policy.create_backoff(worker.create_failures, self._rng)
            if isinstance(exc, E.RateLimitedError) and exc.retry_after is not None:
                wait = max(wait, exc.retry_after)
            pull = await self._update(
                pull,
                "not_sent",
                {"error": exc.code, "retry_in": round(wait, 1)},
                state=PullState.QUEUED,
                error_code=exc.code,
                error_message=exc.message,
                next_check_at=self._schedule(wait),
            )
            worker.wake.clear()
            await _wait(worker.wake, wait)
            return pull
        except _DEFINITE_REFUSALS as exc:
            # A definite refusal (or a request we could not even build): Walleo created
            # nothing for this request id.
            return await self._update(
                pull,
                "rejected",
                {"error": exc.code, "http_status": getattr(exc, "http_status", None)},
                state=PullState.REJECTED,
                error_code=exc.code,
                error_message=exc.message,
                finished_at=utcnow(),
                next_check_at=None,
            )
        except (E.AmbiguousError, E.UnexpectedResponseError, E.ApiError) as exc:
            # The create may have reached Walleo: a lost or unreadable answer, or an answer
            # that is not one of the documented refusals. Ask Walleo by request id.
            worker.create_failures += 1
            return await self._update(
                pull,
                "in_doubt",
                {"error": exc.code, "http_status": getattr(exc, "http_status", None)},
                state=PullState.IN_DOUBT,
                error_code=exc.code,
                error_message=exc.message,
                next_check_at=self._schedule(self.policy.first_check),
            )
        worker.create_failures = 0
        return await self._apply(pull, answer, worker, after_create=True)

    async def _check(self, pull: PullRecord, worker: _Worker) -> PullRecord:
        try:
            async with self._slots:
                await self._lease_sure()
                # When this GET leaves, not when it started waiting for a slot: journaled with
                # whatever it leads to, it is what the next GET keeps Walleo's 5 s from.
                checked_at = utcnow()
                answer = await self.client.get_pull_request(pull.request_id)
        except E.PullRequestNotFound:
            worker.check_failures = 0
            if pull.walleo_id:
                # Walleo confirmed this pull earlier and now denies it: never re-send blindly.
                return await self._update(
                    pull,
                    "check_failed",
                    {"error": "pull_request_not_found", "confirmed_before": True},
                    error_code="pull_request_not_found",
                    error_message="Walleo confirmed this pull earlier but cannot find it now; "
                    "still checking.",
                    next_check_at=self._schedule(self.policy.slow_interval),
                    last_check_at=checked_at,
                )
            # The create never landed: the same request id may be sent again.
            return await self._update(
                pull,
                "not_found",
                {"meaning": "the create never reached Walleo; sending again with the same id"},
                state=PullState.QUEUED,
                error_code="",
                error_message="",
                next_check_at=None,
                last_check_at=checked_at,
            )
        except E.WalleoError as exc:
            worker.check_failures += 1
            delay = self._poll_delay(pull, worker.check_failures)
            if isinstance(exc, E.RateLimitedError) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            return await self._update(
                pull,
                "check_failed",
                {"error": exc.code, "retry_in": round(delay, 1)},
                error_code=exc.code,
                error_message=exc.message,
                next_check_at=self._schedule(delay),
                attempts=pull.attempts + 1,
                overdue=self._overdue(pull),
                last_check_at=checked_at,
            )
        worker.check_failures = 0
        return await self._apply(
            replace(pull, attempts=pull.attempts + 1), answer, worker, checked_at=checked_at
        )

    async def _apply(
        self,
        pull: PullRecord,
        answer: PullRequest,
        worker: _Worker,
        *,
        after_create: bool = False,
        checked_at: datetime | None = None,
    ) -> PullRecord:
        wrong = await self._mismatch(pull, answer)
        if wrong:
            return await self._distrust(
                pull, answer, wrong, worker, after_create=after_create, checked_at=checked_at
            )
        common: dict[str, Any] = {
            "walleo_id": answer.id or pull.walleo_id,
            "walleo_status": answer.status_text,
            "attempts": pull.attempts,
        }
        if checked_at is not None:
            common["last_check_at"] = checked_at
        if answer.status is PullStatus.SUCCESS and answer.card is not None:
            c = answer.card
            register_secret(c.code, c.pin_code)
            card = CardRecord(
                card_id=c.id,
                pull_id=pull.id,
                code=c.code,
                pin_code=c.pin_code,
                expire_at=c.expire_at,
                amount=c.amount,
                gift_card_code=c.gift_card_code or pull.gift_card_code,
                pdf_url=c.pdf_url,
                created_at=utcnow(),
            )
            # One transaction: the card and Walleo's answer about it land together.
            try:
                done = await self.store.record_card(
                    pull.id,
                    card,
                    expect=pull.state,
                    epoch=pull.lease_epoch,
                    detail={"card_id": c.id},
                    **common,
                )
            except CardConflictError as exc:  # that card is another pull's (or this has one)
                return await self._distrust(
                    pull, answer, str(exc), worker, after_create=after_create, checked_at=checked_at
                )
            self._emit("changed", done, card)
            return done
        if answer.status is PullStatus.ERROR:
            return await self._update(
                pull,
                "error",
                {"walleo_status": answer.status_text},
                state=PullState.ERROR,
                error_code="pull_error",
                error_message="Walleo could not issue this card. Nothing was charged for it; "
                "retry to send a new pull.",
                finished_at=utcnow(),
                next_check_at=None,
                overdue=False,
                **common,
            )
        state = (
            PullState.PROCESSING if answer.status is PullStatus.PROCESSING else PullState.WAITING
        )
        unknown = answer.status is PullStatus.UNKNOWN
        if unknown:
            state = (
                pull.state
                if pull.state in (PullState.WAITING, PullState.PROCESSING)
                else PullState.WAITING
            )
            delay = self.policy.slow_interval
        elif after_create:
            delay = self.policy.first_check
        else:
            delay = self._poll_delay(pull, 0)
        event = "unknown_status" if unknown else (None if state is pull.state else state.value)
        return await self._update(
            pull,
            event,
            {"walleo_status": answer.status_text} if event else None,
            state=state,
            error_code="unknown_status" if unknown else "",
            error_message=(
                f"Walleo reports an unknown status {answer.status_text!r}; still checking."
                if unknown
                else ""
            ),
            next_check_at=self._schedule(delay),
            overdue=self._overdue(pull),
            **common,
        )

    async def _mismatch(self, pull: PullRecord, answer: PullRequest) -> str:
        """Why ``answer`` cannot be about ``pull`` ('' when it can): every answer is checked
        against the pull it is for before anything of it is believed."""
        if answer.request_id != pull.request_id:
            return f"it is about another pull (request id {answer.request_id[:80]!r})"
        if pull.walleo_id and answer.id and answer.id != pull.walleo_id:
            return f"it names another Walleo pull ({answer.id[:80]!r}, not {pull.walleo_id!r})"
        if answer.amount_cents is not None and answer.amount_cents != pull.amount * 100:
            return f"it is for {answer.amount_cents / 100:g}, not {pull.amount}"
        card = answer.card
        if card is not None and answer.status is PullStatus.SUCCESS:
            if card.amount is not None and card.amount != pull.amount:
                return f"its card is worth {card.amount}, not {pull.amount}"
            if card.gift_card_code and card.gift_card_code != pull.gift_card_code:
                return (
                    f"its card is a {card.gift_card_code[:40]!r} card, not {pull.gift_card_code!r}"
                )
            owner = await self.store.pull_of_card(card.id)
            if owner is not None and owner != pull.id:
                return f"its card {card.id[:80]!r} is already recorded for pull #{owner}"
        return ""

    async def _distrust(
        self,
        pull: PullRecord,
        answer: PullRequest,
        reason: str,
        worker: _Worker,
        *,
        after_create: bool,
        checked_at: datetime | None,
    ) -> PullRecord:
        """Keep and say an answer that cannot be this pull's, record nothing of it, and ask
        again later (slowly: a server that mixes pulls up needs time to be fixed)."""
        worker.check_failures += 1
        card = answer.card
        detail: dict[str, Any] = {
            "reason": reason,
            "answered_request_id": answer.request_id[:200],
            "answered_walleo_id": answer.id[:200],
            "answered_status": answer.status_text[:64],
            "answered_amount_cents": answer.amount_cents,
        }
        if card is not None:  # never its code or PIN: the event log is not a vault
            detail.update(
                card_id=card.id[:200],
                card_amount=card.amount,
                card_gift_card_code=card.gift_card_code[:64],
            )
        log.warning("pull %s: Walleo's answer not recorded: %s", pull.request_id, reason)
        state = PullState.IN_DOUBT if after_create or pull.state is PullState.SENDING else None
        fields: dict[str, Any] = {"state": state} if state is not None else {}
        if checked_at is not None:
            fields["last_check_at"] = checked_at
        return await self._update(
            pull,
            "answer_mismatch",
            detail,
            error_code="answer_mismatch",
            error_message=(
                f"Walleo's answer could not be about this pull: {reason}. Nothing of it was "
                "recorded; still checking."
            ),
            next_check_at=self._schedule(
                max(self.policy.slow_interval / 2, self._poll_delay(pull, worker.check_failures))
            ),
            attempts=pull.attempts,
            overdue=self._overdue(pull),
            **fields,
        )


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set or ``seconds`` have passed (never a coroutine left un-awaited
    when the wait is cancelled, as ``wait_for(event.wait())`` can leave one)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _snapshot(gift_card: GiftCard) -> dict[str, Any]:
    return {
        "code": gift_card.code,
        "name": gift_card.name,
        "discount": gift_card.discount,
        "validity_period": gift_card.validity_period,
        "facial_values": gift_card.facial_values.to_json(),
    }
