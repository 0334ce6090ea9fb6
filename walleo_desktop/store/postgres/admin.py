"""Setting up and running a team database: schema, roles, members. SQL only (no keys, no
keyring: ``engine.team`` does those), run by ``walleo-desktop team ...``.

- ``create_team``: as a PostgreSQL superuser (or a role with CREATEROLE and CREATEDB rights on
  that database), once: the owner and group roles, the schema (``schema.migrations``), its
  version. The owner role never logs in.
- ``add_member``: as a team admin: a login role for a person, in their group, with a one-time
  password valid until ``valid_until``; the member's desktop changes it at ``team join``.
- ``remove_member``: the role can no longer log in, and the member row says when it left.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql as pgsql

from walleo_desktop.store import records
from walleo_desktop.store.errors import StoreError
from walleo_desktop.store.postgres.schema import SCHEMA, migrations, team_roles

__all__ = [
    "GROUPS",
    "MemberRole",
    "add_member",
    "create_team",
    "member_name_problem",
    "new_password",
    "remove_member",
    "schema_version",
    "upgrade_team",
]

log = logging.getLogger("walleo_desktop.store.postgres.admin")

MemberRole = Literal["agent", "finance", "admin"]
# The groups a member is put in. An admin issues cards too (and manages members).
GROUPS: dict[str, tuple[str, ...]] = {
    "agent": ("agent",),
    "finance": ("finance",),
    "admin": ("admin", "agent"),
}
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")


def member_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a member's login (None when it can)."""
    if not _NAME.match(name):
        return (
            "A member name is 1 to 63 characters: lower-case letters, digits, '.', '-' or '_', "
            "starting with a letter (it becomes their database login)."
        )
    if name.startswith(("walleo_", "pg_")) or name in ("postgres", "public"):
        return f"The name {name!r} is reserved."
    return None


def new_password() -> str:
    return secrets.token_urlsafe(24)


def schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The team schema's version in this database (None: there is none)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.schema_version"])
        row = cur.fetchone()
        if row is None or row[0] is None:
            return None
        cur.execute(pgsql.SQL("SELECT max(version) FROM {}.schema_version").format(
            pgsql.Identifier(SCHEMA)))  # fmt: skip
        found = cur.fetchone()
        return None if found is None else found[0]


def _now() -> str:
    text = records.to_db_time(records.utcnow())
    assert text is not None
    return text


def _record_version(cur: psycopg.Cursor[Any], version: int) -> None:
    cur.execute(
        pgsql.SQL("INSERT INTO {}.schema_version (version, applied_at) VALUES (%s, %s)").format(
            pgsql.Identifier(SCHEMA)
        ),
        [version, _now()],
    )


def create_team(conn: psycopg.Connection[Any]) -> None:
    """Create the team's roles and schema in the database ``conn`` is connected to (one
    transaction). Refuses a database that already has it (``StoreError``)."""
    if schema_version(conn) is not None:
        raise StoreError(
            "This database already holds a Walleo Desktop team history: nothing was changed. "
            "Invite members with `walleo-desktop team invite`."
        )
    roles = team_roles(conn.info.dbname)
    database = pgsql.Identifier(conn.info.dbname)
    with conn.transaction(), conn.cursor() as cur:
        for role in (roles.owner, *roles.groups):
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                cur.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN").format(pgsql.Identifier(role)))
        # The migrator acts as the owner (SET ROLE) and the admins create members.
        cur.execute(pgsql.SQL("GRANT {} TO CURRENT_USER").format(pgsql.Identifier(roles.owner)))
        cur.execute(
            pgsql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                database, pgsql.Identifier(roles.owner)
            )
        )
        # Only the team's members connect to its database (a server's logins may be many).
        cur.execute(
            pgsql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(database)
        )
        for group in roles.groups:
            cur.execute(
                pgsql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    database, pgsql.Identifier(group)
                )
            )
        for version, script in enumerate(migrations(roles), start=1):
            cur.execute(script)
            _record_version(cur, version)
            cur.execute("RESET ROLE")
        # Removing a member ends their open sessions too (NOLOGIN only refuses new ones). Owned
        # by who runs init (a superuser may end any session), callable by team admins, and only
        # for members already marked removed, in this database.
        cur.execute(
            pgsql.SQL(
                # plpgsql, not one SELECT: a WHERE clause has no evaluation order, and
                # pg_terminate_backend must run only for the rows that passed every test.
                """CREATE FUNCTION {schema}.end_sessions_of(member text) RETURNS integer
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
                DECLARE
                    ended integer := 0;
                    session record;
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM {schema}.members
                                   WHERE name = member AND removed_at IS NOT NULL) THEN
                        RETURN 0;
                    END IF;
                    FOR session IN SELECT pid FROM pg_stat_activity
                            WHERE usename = member AND datname = current_database()
                            AND pid <> pg_backend_pid() LOOP
                        IF pg_terminate_backend(session.pid) THEN
                            ended := ended + 1;
                        END IF;
                    END LOOP;
                    RETURN ended;
                END $$"""
            ).format(schema=pgsql.Identifier(SCHEMA))
        )
        cur.execute(
            pgsql.SQL("REVOKE ALL ON FUNCTION {}.end_sessions_of(text) FROM PUBLIC").format(
                pgsql.Identifier(SCHEMA)
            )
        )
        cur.execute(
            pgsql.SQL("GRANT EXECUTE ON FUNCTION {}.end_sessions_of(text) TO {}").format(
                pgsql.Identifier(SCHEMA), pgsql.Identifier(roles.admin)
            )
        )


def upgrade_team(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations this version knows and the database does not have yet, each in its
    own transaction as the team's owner (run by a superuser, like ``create_team``). The
    versions applied; [] when it was up to date. ``StoreError`` for a database without a team
    or one newer than this version."""
    from walleo_desktop.store.postgres import schema

    current = schema_version(conn)
    if current is None:
        raise StoreError(
            "This database holds no Walleo Desktop team: create one with `walleo-desktop team "
            "init`."
        )
    if current > schema.SCHEMA_VERSION:
        raise StoreError(
            f"The team database is at version {current}, newer than this Walleo Desktop "
            f"({schema.SCHEMA_VERSION}): update Walleo Desktop."
        )
    roles = team_roles(conn.info.dbname)
    applied = []
    for version, script in enumerate(migrations(roles), start=1):
        if version <= current:
            continue
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(roles.owner)))
            cur.execute(
                pgsql.SQL("SET LOCAL search_path = {}, public").format(pgsql.Identifier(SCHEMA))
            )
            cur.execute(script)
            _record_version(cur, version)
        applied.append(version)
    return applied


def add_member(
    conn: psycopg.Connection[Any],
    name: str,
    role: MemberRole,
    *,
    valid_for: timedelta = timedelta(days=2),
    password: str | None = None,
    admin_rights: bool = False,
) -> str:
    """Create the login role ``name`` in ``role``'s groups with a one-time password valid for
    ``valid_for`` (the member's desktop replaces it at ``team join``), and its member row.
    Returns the password. ``admin_rights``: may create and remove members (CREATEROLE)."""
    problem = member_name_problem(name)
    if problem:
        raise StoreError(problem)
    if role not in GROUPS:
        raise StoreError(f"A member is an agent, finance or admin, not {role!r}.")
    password = password or new_password()
    roles = team_roles(conn.info.dbname)
    names = {"agent": roles.agent, "finance": roles.finance, "admin": roles.admin}
    until = (datetime.now().astimezone() + valid_for).isoformat()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        if cur.fetchone() is not None:
            raise StoreError(f"There is already a database login named {name!r}.")
        cur.execute(
            pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {} VALID UNTIL {} {}").format(
                pgsql.Identifier(name),
                pgsql.Literal(password),
                pgsql.Literal(until),
                pgsql.SQL("CREATEROLE" if admin_rights else "NOCREATEROLE"),
            )
        )
        for group in GROUPS[role]:
            cur.execute(
                pgsql.SQL("GRANT {} TO {}").format(
                    pgsql.Identifier(names[group]), pgsql.Identifier(name)
                )
            )
        if admin_rights:
            # An admin invites members into any group (PostgreSQL 16+ asks for ADMIN OPTION;
            # 15 lets CREATEROLE grant any role).
            for group in roles.groups:
                cur.execute(
                    pgsql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                        pgsql.Identifier(group), pgsql.Identifier(name)
                    )
                )
        if conn.info.server_version >= 160000:
            # Every admin (not only the one who invited them) may approve or remove this
            # member, without being able to act as them (no SET, no INHERIT).
            cur.execute(
                pgsql.SQL("GRANT {} TO {} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE").format(
                    pgsql.Identifier(name), pgsql.Identifier(roles.admin)
                )
            )
        cur.execute(
            pgsql.SQL("INSERT INTO {}.members (name, role, added_at) VALUES (%s, %s, %s)").format(
                pgsql.Identifier(SCHEMA)
            ),
            [name, role, _now()],
        )
    return password


def remove_member(conn: psycopg.Connection[Any], name: str) -> None:
    """The member can no longer log in; their member row keeps when they were removed (their
    pulls and events stay, in their name)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            pgsql.SQL(
                "UPDATE {}.members SET removed_at = %s WHERE name = %s AND removed_at IS NULL"
            ).format(pgsql.Identifier(SCHEMA)),
            [_now(), name],
        )
        if cur.rowcount != 1:
            raise StoreError(f"There is no current member named {name!r}.")
        cur.execute(pgsql.SQL("ALTER ROLE {} NOLOGIN").format(pgsql.Identifier(name)))


class TeamDb:
    """One plain connection for setting a team up and managing its members (``engine.team``
    holds the keys; this holds the SQL). Autocommit; each method is one transaction."""

    def __init__(self, conn: psycopg.Connection[Any], label: str) -> None:
        self._conn = conn
        self.label = label

    @classmethod
    def connect(cls, url: str, password: str | None) -> TeamDb:
        from walleo_desktop.store.postgres.backend import (
            CONNECT_TIMEOUT,
            ConnectionLostError,
            conn_user,
            describe_server,
            is_local,
            login_problem,
        )

        label = describe_server(url)
        options: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "autocommit": True}
        if password is not None:
            options["password"] = password
        if not is_local(url) and "sslmode=" not in url:
            options["sslmode"] = "verify-full"
        try:
            conn = psycopg.connect(url, **options)
        except psycopg.OperationalError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            refused = login_problem(text, label, conn_user(url))
            if refused is not None:
                raise refused from exc
            raise ConnectionLostError(
                f"The team database {label} cannot be reached: {text}"
            ) from exc
        except psycopg.ProgrammingError as exc:  # a malformed connection string
            raise StoreError(f"This is not a PostgreSQL connection string: {exc}") from exc
        conn.execute(pgsql.SQL("SET search_path = {}, public").format(pgsql.Identifier(SCHEMA)))
        return cls(conn, label)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> TeamDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, query: str | pgsql.Composed, params: Any = None) -> list[tuple[Any, ...]]:
        from walleo_desktop.store.postgres.backend import translate

        try:
            with self._conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall()) if cur.description else []
        except psycopg.Error as exc:
            raise translate(exc, self.label) from exc

    def _transaction(self, statements: list[tuple[str | pgsql.Composed, Any]]) -> None:
        from walleo_desktop.store.postgres.backend import translate

        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                for query, params in statements:
                    cur.execute(query, params)
        except psycopg.Error as exc:
            raise translate(exc, self.label) from exc

    @property
    def dbname(self) -> str:
        return self._conn.info.dbname

    # -- set-up (a superuser's connection) --------------------------------------------------------

    def create_team(self) -> None:
        create_team(self._conn)

    def schema_version(self) -> int | None:
        return schema_version(self._conn)

    def upgrade_team(self) -> list[int]:
        from walleo_desktop.store.postgres.backend import translate

        try:
            return upgrade_team(self._conn)
        except psycopg.Error as exc:
            raise translate(exc, self.label) from exc

    def add_member(
        self,
        name: str,
        role: MemberRole,
        *,
        valid_for: timedelta = timedelta(days=2),
        admin_rights: bool = False,
    ) -> str:
        from walleo_desktop.store.postgres.backend import translate

        try:
            return add_member(
                self._conn, name, role, valid_for=valid_for, admin_rights=admin_rights
            )
        except psycopg.Error as exc:
            raise translate(exc, self.label) from exc

    def remove_member(self, name: str) -> int:
        """Close ``name``'s login and end their open sessions; how many were ended."""
        from walleo_desktop.store.postgres.backend import translate

        try:
            remove_member(self._conn, name)
        except psycopg.Error as exc:
            raise translate(exc, self.label) from exc
        try:
            rows = self._rows("SELECT end_sessions_of(%s)", [name])
        except StoreError as exc:  # init was run by a role that may not end sessions
            log.warning("the open sessions of %s could not be ended: %s", name, exc)
            return 0
        return int(rows[0][0]) if rows else 0

    # -- settings and secrets --------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM settings WHERE key = %s", [key])
        return str(rows[0][0]) if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._rows(
            "INSERT INTO settings (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def secret(self, name: str) -> tuple[str, bytes] | None:
        rows = self._rows("SELECT key_id, value FROM team_secrets WHERE name = %s", [name])
        return (str(rows[0][0]), bytes(rows[0][1])) if rows else None

    def set_secret(self, name: str, key_id: str, value: bytes) -> None:
        self._rows(
            "INSERT INTO team_secrets (name, key_id, value, updated_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, value = excluded.value, "
            "updated_at = excluded.updated_at",
            [name, key_id, value, _now()],
        )

    # -- members and their keys ------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT name, role, public_key, joined_at, removed_at FROM members ORDER BY name"
        )
        return [
            {
                "name": name,
                "role": role,
                "public_key": None if public is None else bytes(public),
                "joined_at": joined,
                "removed_at": removed,
            }
            for name, role, public, joined, removed in rows
        ]

    def member(self, name: str) -> dict[str, Any] | None:
        return next((m for m in self.members() if m["name"] == name), None)

    def publish_key(self, member: str, public_key: bytes, *, new_password: str | None) -> None:
        """A joining member's desktop: its own password (replacing the one-time one) and its
        public key, in one transaction."""
        statements: list[tuple[str | pgsql.Composed, Any]] = []
        if new_password is not None:
            statements.append(
                (
                    pgsql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        pgsql.Identifier(member), pgsql.Literal(new_password)
                    ),
                    None,
                )
            )
        statements.append(
            (
                "UPDATE members SET public_key = %s, joined_at = %s WHERE name = %s",
                [public_key, _now(), member],
            )
        )
        self._transaction(statements)

    def keep_login(self, member: str) -> None:
        """An approved member's login no longer expires (its invite's one did)."""
        self._rows(
            pgsql.SQL("ALTER ROLE {} VALID UNTIL 'infinity'").format(pgsql.Identifier(member))
        )

    def store_wrapped(self, member: str, wrapped: list[tuple[str, str, bytes]]) -> None:
        """Keys (key_id, purpose, wrapped for ``member``), one transaction; a key already given
        stays as it was."""
        now = _now()
        self._transaction(
            [
                (
                    "INSERT INTO team_keys (key_id, purpose, member, wrapped, created_at) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [key_id, purpose, member, value, now],
                )
                for key_id, purpose, value in wrapped
            ]
        )

    def wrapped_for(self, member: str) -> list[tuple[str, str, bytes]]:
        """The keys wrapped for ``member`` that this login may read (its own, or an admin's)."""
        return [
            (str(k), str(p), bytes(w))
            for k, p, w in self._rows(
                "SELECT key_id, purpose, wrapped FROM team_keys WHERE member = %s "
                "ORDER BY created_at, key_id",
                [member],
            )
        ]

    def members_with_keys(self) -> set[str]:
        """Members this login can see keys of (an admin: all approved members)."""
        return {str(r[0]) for r in self._rows("SELECT DISTINCT member FROM team_keys")}
