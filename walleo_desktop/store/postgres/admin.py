"""Setting up and running a team database: schema, roles, members. SQL only (no keys, no
keyring: ``engine.team`` does those), run by ``walleo-desktop team ...``.

- ``create_team``: as a PostgreSQL superuser (or a role with CREATEROLE and CREATEDB rights on
  that database), once: the owner and group roles, the schema (``schema.MIGRATIONS``), its
  version. The owner role never logs in.
- ``add_member``: as a team admin: a login role for a person, in their group, with a one-time
  password valid until ``valid_until``; the member's desktop changes it at ``team join``.
- ``remove_member``: the role can no longer log in, and the member row says when it left.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql as pgsql

from walleo_desktop.store import records
from walleo_desktop.store.errors import StoreError
from walleo_desktop.store.postgres.schema import (
    MIGRATIONS,
    OWNER,
    ROLE_ADMIN,
    ROLE_AGENT,
    ROLE_FINANCE,
    SCHEMA,
    SCHEMA_VERSION,
)

__all__ = [
    "GROUPS",
    "MemberRole",
    "add_member",
    "create_team",
    "member_name_problem",
    "new_password",
    "remove_member",
    "schema_version",
]

MemberRole = Literal["agent", "finance", "admin"]
# The group roles a member is put in. An admin issues cards too (and manages members).
GROUPS: dict[str, tuple[str, ...]] = {
    "agent": (ROLE_AGENT,),
    "finance": (ROLE_FINANCE,),
    "admin": (ROLE_ADMIN, ROLE_AGENT),
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


def create_team(conn: psycopg.Connection[Any]) -> None:
    """Create the team's roles and schema in the database ``conn`` is connected to (one
    transaction). Refuses a database that already has it (``StoreError``)."""
    if schema_version(conn) is not None:
        raise StoreError(
            "This database already holds a Walleo Desktop team history: nothing was changed. "
            "Invite members with `walleo-desktop team invite`."
        )
    with conn.transaction(), conn.cursor() as cur:
        for role in (OWNER, ROLE_AGENT, ROLE_FINANCE, ROLE_ADMIN):
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cur.fetchone() is None:
                cur.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN").format(pgsql.Identifier(role)))
        # The migrator acts as the owner (SET ROLE) and the admins create members.
        cur.execute(pgsql.SQL("GRANT {} TO CURRENT_USER").format(pgsql.Identifier(OWNER)))
        cur.execute(
            pgsql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                pgsql.Identifier(conn.info.dbname), pgsql.Identifier(OWNER)
            )
        )
        for version, script in enumerate(MIGRATIONS, start=1):
            cur.execute(script)
            cur.execute(
                pgsql.SQL(
                    "INSERT INTO {}.schema_version (version, applied_at) VALUES (%s, %s)"
                ).format(pgsql.Identifier(SCHEMA)),
                [version, _now()],
            )
            cur.execute("RESET ROLE")
    assert schema_version(conn) == SCHEMA_VERSION


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
                pgsql.SQL("GRANT {} TO {}").format(pgsql.Identifier(group), pgsql.Identifier(name))
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
