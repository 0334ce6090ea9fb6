"""Shared test set-up.

- One qasync event loop for the whole session (stack-notes §3: a loop per test segfaults).
- Every test gets its own XDG data/config/cache/state dirs under tmp_path: nothing touches the
  developer's real profile, and nothing leaks between tests.
- The keyring is an in-memory backend (never keyrings.alt, never the developer's keyring).
- ``pg_server`` / ``pg_database``: one real PostgreSQL server per session, started only when a
  test asks for it, and a fresh database per test (team mode; walleo_desktop/devtools/pgserver).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import keyring
import keyring.backend
import keyring.errors
import pytest


def _qasync_loop():
    import qasync
    from PySide6.QtWidgets import QApplication

    return qasync.QEventLoop(QApplication.instance() or QApplication([]))


# One mapping holding one function object: pytest-asyncio parametrizes its loop fixture with these
# values, and a new lambda per test would be a new parameter, hence a new loop per test.
_LOOP_FACTORIES = {"qasync": _qasync_loop}


def pytest_asyncio_loop_factories(config, item):
    return _LOOP_FACTORIES


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture(scope="session", autouse=True)
def _app_keeps_running_when_windows_close(qapp):
    """As in ``ui.app.run``: closing the last window must not quit the Qt application (and
    with it the session's qasync loop) under a test that has more to do."""
    qapp.setQuitOnLastWindowClosed(False)


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    base = tmp_path / "xdg"
    for name in ("DATA", "CONFIG", "CACHE", "STATE", "RUNTIME"):
        path = base / name.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(
            f"XDG_{name}_HOME" if name != "RUNTIME" else "XDG_RUNTIME_DIR", str(path)
        )
    for var in ("WALLEO_BASE_URL", "WALLEO_API_KEY", "WALLEO_IDENTIFIER", "WALLEO_SHARED_KEY"):
        monkeypatch.delenv(var, raising=False)
    return base


async def wait_signal(signal, timeout: float = 5.0):
    """Await one emission of a Qt signal (never qtbot.wait* inside a coroutine)."""
    fut = asyncio.get_running_loop().create_future()

    def slot(*args):
        if not fut.done():
            fut.set_result(args)

    signal.connect(slot)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        signal.disconnect(slot)


async def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Await until ``predicate()`` is true, letting the loop (and Qt) run meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def confirm(form, timeout: float = 10.0) -> list:
    """Press the form's confirmation (``PullForm.confirm``) and await the journaled pulls it
    emits (``submitted``); fails if the form refused instead."""
    fut = asyncio.get_running_loop().create_future()

    def slot(pulls):
        if not fut.done():
            fut.set_result(list(pulls))

    form.submitted.connect(slot)
    try:
        form.confirm()
        return await asyncio.wait_for(fut, timeout)
    finally:
        form.submitted.disconnect(slot)


# --- PostgreSQL (team mode) -------------------------------------------------------------------
# A real server (Debian's PostgreSQL 15, installed by scripts/bootstrap.sh --test), as root run
# as the postgres user. The PostgreSQL cases never skip silently (team-scale §4): when the
# server cannot be started, every test that asks for it fails with the reason.


@pytest.fixture(scope="session")
def pg_server():
    """The session's PgServer: a throwaway cluster under /tmp, TCP on 127.0.0.1 (password) and
    a unix socket (trusted), fsync off. Started at the first test that asks, removed at the end."""
    from walleo_desktop.devtools.pgserver import PgServer, PgServerError

    try:
        server = PgServer.temporary()
    except PgServerError as exc:
        failure = str(exc)
    else:
        try:
            server.start()
        except PgServerError as exc:
            server.remove()
            failure = str(exc)
        else:
            failure = None
    if failure is not None:
        pytest.fail(f"PostgreSQL could not be started for the tests: {failure}", pytrace=False)
    yield server
    server.remove()


_pg_database_numbers = itertools.count(1)


@pytest.fixture
def pg_database(pg_server, request):
    """A new, empty database for this test (a PgDatabase: ``.name``, ``.url``, ``.connect()``),
    dropped WITH (FORCE) afterwards, so connections the test left open do not matter.

    Made from template0: for an empty database a prepared template is no faster (measured).
    """
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())
    name = f"t{next(_pg_database_numbers)}_{slug}"[:63]
    database = pg_server.create_database(name, template="template0")
    yield database
    pg_server.drop_database(name)


@pytest.fixture
def team_db(pg_database):
    """``pg_database`` for a team: its roles (server-wide, unlike the database: every test's
    team has members named lea, sam...) are dropped afterwards."""
    yield pg_database
    from psycopg import sql

    from walleo_desktop.store.postgres.schema import team_roles

    roles = team_roles(pg_database.name)
    with pg_database.connect(autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('walleo.members')").fetchone()[0]
        names = [r[0] for r in conn.execute("SELECT name FROM walleo.members")] if found else []
        names = [
            n
            for (n,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                [[*names, roles.owner, *roles.groups]],
            )
        ]
        if names:
            idents = sql.SQL(", ").join(map(sql.Identifier, names))
            conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(idents))
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS walleo CASCADE"))
            conn.execute(sql.SQL("DROP ROLE {}").format(idents))
