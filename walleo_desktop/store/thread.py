"""Database threads: every history call of the engine and the window runs here, awaited.

A ``DatabaseThread`` owns one ``StoreCore`` (one connection) and runs calls on it one at a
time, in the order they were made, and hands each result to the asyncio loop that asked for it.
The writer thread does the journal (and the engine's reads, which must see its own writes); a
small pool of reader threads, each with its own connection, answers the history view's
queries, so a page never waits behind a journal write (WAL) and a query whose filter changed
meanwhile can be stopped (``cancel`` interrupts it on its connection).

The threads are daemons: a call stuck in the database (a lock held by another process) cannot
keep the process alive at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from walleo_desktop.store.core import StoreCore

__all__ = ["DatabaseThread", "ReaderPool"]

log = logging.getLogger("walleo_desktop.store.thread")

_STOP = object()


class DatabaseThread:
    """One thread, one ``StoreCore``: ``call(fn, *args)`` runs ``fn(core, *args)`` there."""

    def __init__(self, name: str, make_core: Callable[[], StoreCore]) -> None:
        self.name = name
        self._make_core = make_core
        self._core: StoreCore | None = None
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._running: Future[Any] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        self._closed = False

    def submit[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        if self._closed:
            raise RuntimeError(f"{self.name} is closed")
        future: Future[T] = Future()
        self._jobs.put((future, fn, args, kwargs))
        return future

    async def call[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(core, *args, **kwargs)`` on this thread, awaited. Cancelling the await cancels
        the call if it has not started, and interrupts its query if it is running."""
        future = self.submit(fn, *args, **kwargs)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self.cancel(future)
            raise

    def cancel(self, future: Future[Any]) -> None:
        if future.cancel():
            return
        with self._lock:
            running = self._running is future
            core = self._core
        if running and core is not None:
            core.interrupt()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                break
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            with self._lock:
                self._running = future
            try:
                if self._core is None:
                    self._core = self._make_core()
                result = fn(self._core, *args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._running = None
        if self._core is not None:
            with contextlib.suppress(Exception):
                self._close_core(self._core)

    def _close_core(self, core: StoreCore) -> None:
        core.close()

    def close_blocking(self, *, close_core: bool = True) -> None:
        """``close`` for code without an event loop (scripts, tests)."""
        if self._closed:
            return
        if not close_core:
            self._close_core = lambda core: None  # type: ignore[method-assign]
        self._closed = True
        self._jobs.put(_STOP)
        self._thread.join(30.0)

    async def close(self, *, close_core: bool = True) -> None:
        """Run what is queued, then stop (closing the thread's connection when asked)."""
        if self._closed:
            return
        if not close_core:
            self._close_core = lambda core: None  # type: ignore[method-assign]
        self._closed = True
        self._jobs.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 30.0)


class ReaderPool:
    """A few ``DatabaseThread``s for reads, each with its own connection. ``call`` picks the
    least busy (round robin: reads are short)."""

    def __init__(self, name: str, make_core: Callable[[], StoreCore], size: int = 2) -> None:
        self._threads = [DatabaseThread(f"{name}-{i}", make_core) for i in range(size)]
        self._next = 0

    def _pick(self) -> DatabaseThread:
        thread = self._threads[self._next % len(self._threads)]
        self._next += 1
        return thread

    async def call[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._pick().call(fn, *args, **kwargs)

    def on(self, index: int) -> DatabaseThread:
        """A given thread of the pool (a view's page queries on one, its sums on another, so
        a page never waits behind a slow sum)."""
        return self._threads[index % len(self._threads)]

    async def close(self) -> None:
        await asyncio.gather(*(t.close() for t in self._threads))

    def close_blocking(self) -> None:
        for thread in self._threads:
            thread.close_blocking()
