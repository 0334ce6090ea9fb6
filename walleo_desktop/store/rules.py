"""The journal's rules, written once above the backends.

Who may write what (the states of one pull)::

    queued ─► sending ─► waiting ─► processing ─► success
      ▲          │  ▲       │ ▲          │
      │          ▼  │       ▼ │          └────► error       (final; retry = a new linked pull)
      │       in_doubt ─────► waiting/processing/success/error   (a GET found it)
      └───────────┴──(GET: pull_request_not_found, or nothing was sent)
    sending ─► rejected     (a documented refusal: nothing was created)

- A final state (success, error, rejected) is never left (``allowed`` says so, and each backend
  also refuses it itself: a trigger on SQLite, a row-level policy on PostgreSQL).
- Every transition names the state it expects; a writer that finds the pull in another state
  (another process moved it) changes nothing and learns it (``StaleWriteError``).
- Only the process holding a pull's lease drives it. A lease is (owner, until, epoch): claimed
  atomically for unfinished pulls whose lease has expired (or whose owner is a process of this
  machine that no longer runs), renewed while driven, and every engine write is fenced by the
  epoch it was claimed with (``LeaseLostError`` after a takeover).
- A failed pull (error, rejected) has at most one retry, and only a failed pull has one.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from dataclasses import dataclass

from walleo_desktop.store.errors import StoreError
from walleo_desktop.store.records import FINAL_STATES, PullState

__all__ = [
    "CLAIM_BATCH",
    "FAILED_STATES",
    "LEASE_SECONDS",
    "RENEW_EVERY",
    "TRANSITIONS",
    "LeaseLostError",
    "Owner",
    "StaleWriteError",
    "allowed",
    "check_transition",
]

# How long a claim lasts without renewal: a crashed process's pulls are taken over this long
# after its last renewal (at once when it was a process of this machine that no longer runs).
# ``WALLEO_LEASE_SECONDS`` (3 to 600) shortens it for tests and benchmarks of takeovers.


def _lease_seconds() -> float:
    try:
        value = float(os.environ.get("WALLEO_LEASE_SECONDS", "60"))
    except ValueError:
        return 60.0
    return min(max(value, 3.0), 600.0) if math.isfinite(value) else 60.0


LEASE_SECONDS = _lease_seconds()
RENEW_EVERY = LEASE_SECONDS / 3
# At most this many pulls claimed at once, so that several desktops share a backlog.
CLAIM_BATCH = 200

FAILED_STATES = frozenset({PullState.ERROR, PullState.REJECTED})

_S = PullState
TRANSITIONS: dict[PullState, frozenset[PullState]] = {
    _S.QUEUED: frozenset({_S.QUEUED, _S.SENDING}),
    _S.SENDING: frozenset(
        {_S.SENDING, _S.QUEUED, _S.IN_DOUBT, _S.WAITING, _S.PROCESSING, _S.SUCCESS, _S.ERROR}
        | {_S.REJECTED}
    ),
    _S.IN_DOUBT: frozenset(
        {_S.IN_DOUBT, _S.QUEUED, _S.WAITING, _S.PROCESSING, _S.SUCCESS, _S.ERROR}
    ),
    _S.WAITING: frozenset({_S.WAITING, _S.PROCESSING, _S.IN_DOUBT, _S.SUCCESS, _S.ERROR}),
    _S.PROCESSING: frozenset({_S.PROCESSING, _S.WAITING, _S.IN_DOUBT, _S.SUCCESS, _S.ERROR}),
    _S.SUCCESS: frozenset(),
    _S.ERROR: frozenset(),
    _S.REJECTED: frozenset(),
}
assert all(not TRANSITIONS[s] for s in FINAL_STATES)


def allowed(before: PullState, after: PullState) -> bool:
    return after in TRANSITIONS[before]


def check_transition(
    pull_id: int, before: PullState, after: PullState, *, strict: bool = True
) -> None:
    """Refuse leaving a final state; with ``strict`` (the engine's writes), any move the
    table above does not allow."""
    if before in FINAL_STATES and after is not before:
        raise StoreError(f"Pull #{pull_id} is {before.label}: a finished pull never changes state.")
    if strict and not allowed(before, after):
        raise StoreError(f"Pull #{pull_id} cannot go from {before.label} to {after.label}.")


class StaleWriteError(StoreError):
    """The pull is no longer as the writer saw it: another writer moved it. Nothing written."""

    def __init__(self, pull_id: int, expected: PullState, found: PullState) -> None:
        super().__init__(
            f"Pull #{pull_id} is {found.label}, not {expected.label} as expected: another "
            "writer moved it. Nothing was changed."
        )
        self.pull_id = pull_id
        self.expected = expected
        self.found = found


class LeaseLostError(StoreError):
    """Another process holds this pull's lease now (it took over): stop driving it."""

    def __init__(self, pull_id: int, owner: str) -> None:
        super().__init__(f"Pull #{pull_id} is driven by another process now ({owner or '?'}).")
        self.pull_id = pull_id
        self.owner = owner


@dataclass(frozen=True, slots=True)
class Owner:
    """Who drives pulls: one per engine. ``host:pid:start:random`` so that another process of
    this machine can tell a dead owner from a live one without waiting for the lease."""

    text: str

    @classmethod
    def new(cls) -> Owner:
        pid = os.getpid()
        return cls(f"{_host()}:{pid}:{_start_ticks(pid)}:{uuid.uuid4().hex[:8]}")

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def is_dead_here(text: str) -> bool:
        """True when ``text`` names a process of this machine that no longer runs (or whose
        pid was reused by another). False for other machines, live processes, or doubt."""
        parts = text.split(":")
        if len(parts) != 4 or parts[0] != _host():
            return False
        try:
            pid = int(parts[1])
        except ValueError:
            return False
        if pid == os.getpid():
            return False  # ourselves (another engine of this process): alive
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # someone else's live process
        return parts[2] != _start_ticks(pid)  # the pid now belongs to another process


def _host() -> str:
    try:
        return socket.gethostname() or "localhost"
    except OSError:
        return "localhost"


def _start_ticks(pid: int) -> str:
    """When process ``pid`` started (Linux: /proc), to tell a reused pid apart; '' elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            stat = fh.read()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
