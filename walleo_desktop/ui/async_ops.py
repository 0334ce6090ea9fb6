"""Run coroutines from Qt slots without the usual traps (style.md practice 7).

``AsyncOps.run(key, factory, trigger=...)``:

- refuses to start a second operation with the same ``key`` while one is in flight (two clicks
  never give two concurrent operations) and then does not even build the coroutine;
- disables ``trigger`` (a QWidget or QAction) until the operation ends, success or failure;
- sends every failure to one presenter (the main window's), unless the caller handles it;
- keeps a strong reference to the task, and ``cancel_all()`` ends them all on close.

Slots stay plain functions: nothing here nests an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from walleo_desktop.api.errors import WalleoError

__all__ = ["AsyncOps", "BackgroundTasks", "call_in_thread", "keyring_call"]

log = logging.getLogger("walleo.ui.ops")

Trigger = QWidget | QAction
CoroFactory = Callable[[], Coroutine[Any, Any, Any]]


class AsyncOps(QObject):
    """Owns the background operations the window starts.

    Signals:
        failed(str): an operation failed and nobody handled it; the text is for the user.
        busy_changed(str, bool): an operation with that key started (True) or ended (False).
    """

    failed = Signal(str)
    busy_changed = Signal(str, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def busy(self, key: str) -> bool:
        return key in self._tasks

    def busy_any(self) -> bool:
        """Whether any operation is still in flight (an audit event being written...)."""
        return bool(self._tasks)

    def run(
        self,
        key: str,
        factory: CoroFactory,
        *,
        trigger: Trigger | None = None,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[Any] | None:
        """Start ``factory()`` as a task unless ``key`` is already running. Returns the task.

        None, and nothing started, while ``key`` is in flight, or when no event loop runs: a
        timer that fires while Qt events are processed outside the loop (at shutdown, between
        tests) has nothing to run on.
        """
        if key in self._tasks:
            log.debug("operation %s already in flight; ignored", key)
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.info("no event loop running: operation %s not started", key)
            return None
        if trigger is not None:
            trigger.setEnabled(False)
        try:
            task = loop.create_task(factory(), name=f"ui:{key}")
        except BaseException:
            if trigger is not None:
                trigger.setEnabled(True)
            raise
        self._tasks[key] = task
        self.busy_changed.emit(key, True)
        task.add_done_callback(lambda t: self._finished(key, t, trigger, on_success, on_error))
        return task

    def _finished(
        self,
        key: str,
        task: asyncio.Task[Any],
        trigger: Trigger | None,
        on_success: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        try:
            if self._tasks.get(key) is task:
                del self._tasks[key]
            if trigger is not None and isValid(trigger):
                trigger.setEnabled(True)
            if task.cancelled():
                return
            exc = task.exception()
            if exc is None:
                if on_success is not None:
                    on_success(task.result())
                return
            if on_error is not None:
                on_error(exc)
                return
            if isinstance(exc, WalleoError):
                log.warning("operation %s failed: %s", key, exc)
                self.failed.emit(str(exc))
            else:
                log.error("operation %s failed unexpectedly", key, exc_info=exc)
                self.failed.emit(
                    self.tr("Something went wrong ({error}). The details are in the log.").format(
                        error=type(exc).__name__
                    )
                )
        except Exception:  # a callback bug must not vanish silently, nor kill the loop
            log.exception("handling the end of operation %s failed", key)
        finally:
            if isValid(self):  # gone with its window when the task ends after it
                self.busy_changed.emit(key, False)

    async def cancel_all(self) -> None:
        """Cancel every operation in flight and wait until they have ended."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class BackgroundTasks:
    """A widget's background coroutines (no trigger, no presenter: a refresh, a keyring read):
    kept referenced until they end, each failure logged once with ``what``; a failure after
    ``owner`` was deleted (its dialog closed mid-call) is only a debug line."""

    def __init__(self, owner: QObject, what: str) -> None:
        self._owner = owner
        self._what = what
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Run ``coro`` on the running loop; None (and ``coro`` closed) when there is none."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            log.debug("no running event loop; %s skipped", self._what)
            return None
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        if not isValid(self._owner):
            log.debug("%s ended after its window closed: %r", self._what, task.exception())
            return
        log.error("%s failed", self._what, exc_info=task.exception())


async def call_in_thread[T](fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a daemon thread; bound the wait with ``asyncio.timeout``.

    Like ``run_in_executor``, except that a call that never returns cannot keep the process
    alive at exit (executor threads are joined at interpreter shutdown; daemon threads are not).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: object) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result: object = fn(*args)
            ok = True
        except BaseException as exc:
            result, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, ok, result)

    name = f"walleo-{getattr(fn, '__name__', 'call')}"
    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


async def keyring_call[T](fn: Callable[[], T], timeout: float) -> T:
    """A blocking keyring call off the GUI thread; ``KeyringUnavailable`` when the keyring has
    not answered within ``timeout`` seconds (a locked keyring's prompt may never come)."""
    from walleo_desktop.engine.profiles import KeyringUnavailable

    try:
        return await asyncio.wait_for(call_in_thread(fn), timeout)
    except TimeoutError:
        raise KeyringUnavailable(
            f"The system keyring did not answer within {timeout:.0f} s."
        ) from None
