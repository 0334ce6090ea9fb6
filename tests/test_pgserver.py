"""The PostgreSQL test server itself (walleo_desktop/devtools/pgserver.py, tests/conftest.py):
what the team-mode backend and its tests will lean on, checked against the real server."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from walleo_desktop.devtools import pgserver
from walleo_desktop.devtools.pgserver import PgServer, PgServerError


def test_tcp_needs_the_password_and_the_socket_is_trusted(pg_server, pg_database):
    with psycopg.connect(pg_database.url) as conn:
        user, addr, db = conn.execute(
            "SELECT current_user, host(inet_server_addr()), current_database()"
        ).fetchone()
    assert (user, addr, db) == (pg_server.superuser, "127.0.0.1", pg_database.name)
    assert pg_database.url.startswith(f"postgresql://{pg_server.superuser}:")

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.url(pg_database.name, password="wrong")).close()

    with pg_server.admin_connect(pg_database.name) as conn:
        addr, max_conn = conn.execute(
            "SELECT inet_server_addr(), current_setting('max_connections')::int"
        ).fetchone()
    assert addr is None  # a unix socket
    assert max_conn >= 300  # 20 agent processes with their pools


def test_url_quotes_a_login_and_its_password(pg_server, pg_database):
    role, password = f"agent_{uuid.uuid4().hex[:8]}", "s3cr:t@/?#%"
    with pg_server.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    try:
        url = pg_server.url(pg_database.name, user=role, password=password)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
    finally:
        with pg_server.admin_connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_two_databases_are_isolated(pg_server, pg_database):
    other = pg_server.create_database(f"{pg_database.name[:50]}_other")
    try:
        with pg_database.connect() as conn:
            conn.execute("CREATE TABLE pulls (id int)")
            conn.execute("INSERT INTO pulls VALUES (1)")
        with other.connect() as conn:
            assert conn.execute("SELECT to_regclass('pulls')").fetchone() == (None,)
    finally:
        pg_server.drop_database(other.name)
    with pg_server.admin_connect() as conn:
        names = {name for (name,) in conn.execute("SELECT datname FROM pg_database")}
    assert pg_database.name in names and other.name not in names


def test_a_committed_row_survives_a_hard_kill(pg_server, pg_database):
    url = pg_database.url
    with pg_database.connect() as conn:
        conn.execute("CREATE TABLE pulls (id int PRIMARY KEY)")
        conn.execute("INSERT INTO pulls VALUES (1)")
    in_flight = psycopg.connect(url)
    in_flight.execute("INSERT INTO pulls VALUES (2)")  # its transaction never commits
    try:
        pg_server.kill()
        assert not pg_server.is_running()
        with pytest.raises(psycopg.OperationalError):
            in_flight.execute("SELECT 1")
    finally:
        in_flight.close()
        pg_server.start()  # the same data directory: crash recovery, same port and URL
    assert pg_server.url(pg_database.name) == url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT id FROM pulls ORDER BY id").fetchall() == [(1,)]


def test_listen_notify_arrives_at_commit(pg_database):
    with pg_database.connect(autocommit=True) as listener, pg_database.connect() as sender:
        listener.execute("LISTEN pulls")
        sender.execute("SELECT pg_notify('pulls', '42')")
        assert list(listener.notifies(timeout=0.2, stop_after=1)) == []  # not before commit
        sender.commit()
        [note] = listener.notifies(timeout=2, stop_after=1)
    assert (note.channel, note.payload) == ("pulls", "42")


def test_skip_locked_gives_two_connections_disjoint_rows(pg_database):
    with pg_database.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE pulls (id int PRIMARY KEY, owner text)")
        conn.execute("INSERT INTO pulls SELECT i, NULL FROM generate_series(1, 10) AS i")
    claim = "SELECT id FROM pulls WHERE owner IS NULL ORDER BY id LIMIT 6 FOR UPDATE SKIP LOCKED"
    with pg_database.connect() as alice, pg_database.connect() as bob:
        mine = {row[0] for row in alice.execute(claim)}
        theirs = {row[0] for row in bob.execute(claim)}  # does not wait for alice
    assert len(mine) == 6 and len(theirs) == 4
    assert mine.isdisjoint(theirs) and mine | theirs == set(range(1, 11))


def test_advisory_xact_lock_serialises(pg_database):
    lock = "SELECT pg_advisory_xact_lock(hashtextextended('TCK-1|AMZ|50', 0))"
    got_it = threading.Event()
    with pg_database.connect() as first, pg_database.connect() as second:
        first.execute(lock)

        def wait_for_lock() -> None:
            second.execute(lock)
            got_it.set()
            second.commit()

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        try:
            assert not got_it.wait(0.3), "the second transaction got the lock while held"
            first.commit()  # a transaction-level lock is released at commit
            assert got_it.wait(2), "the second transaction never got the lock"
        finally:
            first.rollback()
            waiter.join(5)


def test_missing_binaries_say_how_to_install_them(tmp_path, monkeypatch):
    monkeypatch.setenv("WALLEO_PG_BINDIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config
    monkeypatch.setattr(pgserver, "DEBIAN_PG_ROOT", tmp_path / "no-postgresql")
    with pytest.raises(PgServerError, match=r"PostgreSQL is not installed: run scripts/boot"):
        PgServer(tmp_path / "cluster").start()
