"""``walleo-desktop team ...``: set up and run a team that shares one history on PostgreSQL.

The steps a team lead follows (README, "Team mode")::

    walleo-desktop team init postgresql://postgres@db.example/walleo --admin lea
    walleo-desktop team invite sam --role agent     # prints a one-time code for Sam
    walleo-desktop team join CODE                   # on Sam's desktop; prints a fingerprint
    walleo-desktop team approve sam --fingerprint "4895 2F0C 5AB8 4A2D"
    walleo-desktop team status

Secrets are never arguments: the database superuser's password comes from the URL only if the
user put it there (discouraged), else ``PGPASSWORD`` or a prompt; Walleo's credentials from a
prompt or three lines on standard input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

__all__ = ["add_team_parser", "team_command"]

from walleo_desktop.cli import TEAM_HELP
from walleo_desktop.engine.team import SIMULATOR_URL


def add_team_parser(sub: Any) -> None:
    t = sub.add_parser(
        "team",
        help=TEAM_HELP,
        description="Team mode: many desktops share one history on a PostgreSQL server, each "
        "member with their own login and key. An admin creates the team (init), invites "
        "members (invite), each member joins with their code (join), and the admin approves "
        "the key the member's desktop made, after comparing its fingerprint with them "
        "(approve).",
    )
    ts = t.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    ti = ts.add_parser(
        "init",
        help="create the team in an empty database (as its superuser, once)",
        description="Create the team's schema, roles and keys in the database of URL "
        "(postgresql://USER@HOST:PORT/DATABASE, USER a superuser or a role with CREATEROLE), "
        "and make you its first admin on this desktop. The superuser's password is asked for "
        "(or read from PGPASSWORD) and used only now. Walleo's credentials are asked for (or "
        "read as three lines on standard input) and sealed for the team's members.",
    )
    ti.add_argument("url", metavar="URL")
    ti.add_argument("--admin", required=True, metavar="NAME", help="your member name (login)")
    ti.add_argument("--base-url", help="Walleo base URL (default: production)")
    ti.add_argument("--currency", default="EUR")
    ti.add_argument(
        "--walleo-simulator",
        action="store_true",
        help=f"use a `walleo-desktop simulator` on this machine ({SIMULATOR_URL}) and its demo "
        "credentials: for trying team mode, no real cards",
    )
    tv = ts.add_parser("invite", help="add a member; prints the code to give them (admins)")
    tv.add_argument("name", metavar="NAME")
    tv.add_argument("--role", choices=["agent", "finance", "admin"], required=True)
    tj = ts.add_parser(
        "join",
        help="join a team with the code an admin gave you (or - to read it from stdin)",
    )
    tj.add_argument("code", metavar="CODE")
    ta = ts.add_parser("approve", help="give a joined member the team's keys (admins)")
    ta.add_argument("name", metavar="NAME")
    ta.add_argument(
        "--fingerprint",
        help="the fingerprint the member read to you: approval is refused if it differs",
    )
    tr = ts.add_parser(
        "remove", help="remove a member: no more login, new team keys they never get (admins)"
    )
    tr.add_argument("name", metavar="NAME")
    ts.add_parser("status", help="the team, its members and this desktop's access")
    tu = ts.add_parser(
        "upgrade",
        help="bring the team database to this version's schema (as its superuser, once)",
    )
    tu.add_argument("url", metavar="URL")
    ts.add_parser(
        "credentials",
        help="replace the team's Walleo credentials (admins; asked for, or three stdin lines)",
    )
    ts.add_parser(
        "use", help="make the team this desktop's active history again (after `profile use`)"
    )
    ts.add_parser("leave", help="forget this desktop's membership (the team keeps its history)")


def _read_walleo_credentials() -> Any:
    from walleo_desktop.api.client import Credentials

    if sys.stdin.isatty():
        identifier = input("Walleo identifier: ").strip()
        api_key = getpass.getpass("Walleo API key: ").strip()
        shared_key = getpass.getpass("Walleo shared key: ").strip()
    else:
        lines = [line.strip() for line in sys.stdin.read().splitlines()]
        if len(lines) < 3:
            raise _usage("expected the Walleo identifier, API key and shared key on three lines")
        identifier, api_key, shared_key = lines[:3]
    return Credentials(api_key=api_key, identifier=identifier, shared_key=shared_key)


def _usage(text: str) -> Exception:
    from walleo_desktop.cli import UsageError

    return UsageError(text)


def _superuser_password(url: str) -> str | None:
    from urllib.parse import urlsplit

    if urlsplit(url).password or os.environ.get("PGPASSWORD"):
        return None  # libpq reads it there
    if not sys.stdin.isatty():
        return None  # a trusted local socket, or the server will say what it wants
    return getpass.getpass("Password of the database superuser (used only now): ") or None


def _config() -> Any:
    from walleo_desktop.engine.team import load_team_config

    config = load_team_config()
    if config is None:
        raise _usage(
            "this desktop has not joined a team (`walleo-desktop team init` or `team join`)"
        )
    return config


def team_command(args: argparse.Namespace) -> int:
    from walleo_desktop.api.errors import ConfigurationError

    try:
        return _team(args.team_command, args)
    except ConfigurationError as exc:  # TeamError, KeyringUnavailable: a sentence
        raise _usage(str(exc)) from exc


def _activate() -> None:
    from walleo_desktop.engine import Profiles
    from walleo_desktop.engine.profiles import TEAM_PROFILE

    Profiles().set_active(TEAM_PROFILE)


def _team(action: str, args: argparse.Namespace) -> int:
    from walleo_desktop.engine import team

    if action == "init":
        if args.walleo_simulator:
            credentials, base_url = team.simulator_credentials(), SIMULATOR_URL
        else:
            from walleo_desktop.api.client import DEFAULT_BASE_URL

            base_url = args.base_url or DEFAULT_BASE_URL
            credentials = None
        password = _superuser_password(args.url)
        if credentials is None:
            credentials = _read_walleo_credentials()
        config = team.init_team(
            args.url,
            admin_password=password,
            first_admin=args.admin,
            walleo_credentials=credentials,
            walleo_base_url=base_url,
            currency=args.currency.upper(),
        )
        _activate()
        print(f"Team created on {config.label}; you ({config.member}) are its admin.")
        print("This desktop now uses the team's history. Invite members with")
        print("  walleo-desktop team invite NAME --role agent|finance|admin")
        return 0
    if action == "join":
        code = sys.stdin.read() if args.code == "-" else args.code
        config, fingerprint = team.join_team(code)
        _activate()
        print(f"Joined as {config.member} ({config.role}) on {config.label}.")
        print(f"Your key's fingerprint: {fingerprint}")
        print("Read it to your team admin: they approve you with")
        print(f'  walleo-desktop team approve {config.member} --fingerprint "{fingerprint}"')
        return 0
    if action == "upgrade":
        applied = team.upgrade_team(args.url, admin_password=_superuser_password(args.url))
        if applied:
            print(f"The team database is upgraded (version {applied[-1]}).")
        else:
            print("The team database is up to date: nothing was changed.")
        return 0
    if action == "use":
        _config()
        _activate()
        print("This desktop uses the team's history again.")
        return 0
    if action == "leave":
        config = _config()
        team.leave_team(config)
        from walleo_desktop.engine import Profiles

        profiles = Profiles()
        if profiles.active is None:
            profiles.set_active(None)
        print(f"This desktop left {config.label}: its history stays with the team.")
        return 0
    config = _config()
    if action == "invite":
        invite = team.invite_member(config, args.name, args.role)
        print(f"Invited {invite.member} as {invite.role}. Give them this code (valid 48 hours,")
        print("one use; it is worth nothing until you approve their desktop's key):")
        print()
        print(invite.code)
        print()
        print("They run: walleo-desktop team join CODE   (or Settings > Team > Join)")
        return 0
    if action == "approve":
        found = team.approve_member(config, args.name, expected_fingerprint=args.fingerprint)
        if args.fingerprint is None:
            print(f"{args.name}'s key fingerprint is {found}: you checked it with them?")
        print(f"Approved {args.name}: their desktop can open the team's history now.")
        return 0
    if action == "remove":
        key_id = team.remove_member(config, args.name)
        print(f"Removed {args.name}: they can no longer log in. New cards are sealed with the")
        print(f"team's new key {key_id}, which they never had.")
        return 0
    if action == "credentials":
        team.set_team_credentials(config, _read_walleo_credentials())
        print("The team's Walleo credentials are replaced (sealed for its agents).")
        return 0
    if action == "status":
        status = team.team_status(config)
        print(f"Team {status.team_id} on {status.server} (schema {status.schema_version})")
        print(f"You: {status.me} ({status.role}); keys: {', '.join(status.key_versions) or 'none'}")
        print()
        print(f"{'member':<20} {'role':<8} {'state':<22} fingerprint")
        for m in status.members:
            if m.removed:
                state = "removed"
            elif not m.joined:
                state = "invited, not joined"
            elif m.approved:
                state = "active"
            elif status.role == "admin":
                state = "joined, to approve"
            else:  # only admins see who was approved
                state = "joined"
            print(f"{m.name:<20} {m.role:<8} {state:<22} {m.fingerprint}")
        return 0
    raise _usage(f"unknown team action {action}")
