"""``walleo-desktop [--data-dir DIR] [--profile NAME] COMMAND``: the headless tools.

Exit codes: 0 all good, 1 a pull ended in error or was rejected, 2 usage or configuration error,
3 interrupted with pulls unfinished (they stay in the journal: run ``resume``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from walleo_desktop import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 3

log = logging.getLogger("walleo.cli")


class UsageError(Exception):
    """Bad input or configuration: exit 2 with this sentence."""


# The `team` command's one-line help, for the stand-in parser (``build_parser(team=False)``);
# tests/test_cli.py checks it is the real parser's.
TEAM_HELP = "share one history with a team on PostgreSQL (init, invite, join, approve, ...)"


def build_parser(*, team: bool = True) -> argparse.ArgumentParser:
    """The command line's parser. ``team=False``: the `team` command is a stand-in that takes
    whatever follows it, so that team mode (PostgreSQL, HPKE: half a second of imports, which
    the window and the other commands never use) is not imported to parse them; ``main`` parses
    a `team` command again with the real parser."""
    parser = argparse.ArgumentParser(
        prog="walleo-desktop",
        description="Issue and track Walleo gift cards. With no command, opens the window.",
        epilog="Credentials come from the saved profile (OS keyring) or from WALLEO_API_KEY, "
        "WALLEO_IDENTIFIER, WALLEO_SHARED_KEY and WALLEO_BASE_URL; never from arguments. "
        "With neither, the built-in simulator is used (demo mode).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where the history and card files live")
    parser.add_argument("--profile", help="connection profile to use (default: the active one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress on stderr")
    parser.add_argument(
        "--language",
        choices=["fr", "en", "system"],
        help="language of the window (default: the saved setting, else the system's)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("pull", help="issue gift cards and wait for them")
    p.add_argument("gift_card_code", metavar="GIFT_CARD_CODE")
    p.add_argument("amount", metavar="AMOUNT", type=_positive_int)
    p.add_argument("--count", type=_positive_int, default=1, help="how many cards (default 1)")
    p.add_argument("--reference", default="", help="customer or ticket reference")
    p.add_argument("--note", default="")
    p.add_argument(
        "--agent", help="who issues the cards, for the history (default: your user name)"
    )
    p.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="issue even when the same reference, brand and amount was pulled in the last 24 h",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per pull per line")
    p.add_argument("--show-codes", action="store_true", help="print codes and PINs in text mode")
    p.add_argument("--concurrency", type=_positive_int, default=8)

    r = sub.add_parser("resume", help="finish every unfinished pull of the journal")
    r.add_argument("--json", action="store_true")
    r.add_argument("--show-codes", action="store_true")
    r.add_argument("--concurrency", type=_positive_int, default=8)

    h = sub.add_parser("history", help="list pulls from the local history")
    h.add_argument("--since", type=_date, help="YYYY-MM-DD (inclusive)")
    h.add_argument("--until", type=_date, help="YYYY-MM-DD (inclusive)")
    h.add_argument("--status", action="append", default=[], help="state, repeatable")
    h.add_argument("--limit", type=_positive_int, default=200)
    h.add_argument("--json", action="store_true")

    e = sub.add_parser(
        "export",
        help="write the local history (or part of it) to a CSV or XLSX file; works offline",
        description="Write the pulls of the local history matching the filters to a CSV file "
        "or an XLSX workbook (typed numbers, dates and text, and a Totals sheet), newest "
        "first. Reads the history file only: no network, no credentials needed. Dates are days "
        "of this computer's clock.",
    )
    e.add_argument("out", metavar="OUT.csv|OUT.xlsx", type=Path)
    e.add_argument(
        "--format",
        choices=["csv", "xlsx"],
        help="the file's format (default: from OUT's extension, .xlsx or else CSV)",
    )
    e.add_argument("--since", type=_date, help="YYYY-MM-DD (inclusive, local day)")
    e.add_argument("--until", type=_date, help="YYYY-MM-DD (inclusive, local day)")
    e.add_argument("--status", action="append", default=[], help="state, repeatable")
    e.add_argument(
        "--gift-card", action="append", default=[], metavar="CODE", help="brand code, repeatable"
    )
    e.add_argument(
        "--preset",
        choices=["standard", "excel-fr"],
        default=None,
        help="CSV only. standard: comma, ISO 8601 UTC dates, dot decimals; excel-fr: "
        "semicolon, BOM, dd/mm/yyyy hh:mm local dates, decimal comma (default: standard)",
    )
    e.add_argument(
        "--with-codes",
        action="store_true",
        help="include full card codes and PINs (asks for confirmation; logged in the history)",
    )
    e.add_argument(
        "--yes", action="store_true", help="confirm --with-codes without asking (scripts)"
    )

    b = sub.add_parser(
        "bulk",
        help="issue the cards of a CSV or XLSX order file (previewed first)",
        description="Check every row of the order against the catalog, show the problems and "
        "totals, then issue the rows as one batch and write FILE-results-BATCH.csv beside it. "
        "Exit codes: 0 every row issued, 1 some rows not issued, 2 nothing sent (bad file, "
        "refused), 3 interrupted (run the same command again to continue).",
    )
    b.add_argument("file", metavar="FILE", type=Path)
    b.add_argument("--dry-run", action="store_true", help="preview only: nothing is sent")
    b.add_argument("--json", action="store_true", help="JSON lines: preview, rows, summary")
    b.add_argument(
        "--yes", action="store_true", help="issue without asking (needed outside a terminal)"
    )
    b.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="also issue rows issued in the last 24 h, or a file imported before",
    )
    b.add_argument("--concurrency", type=_positive_int, default=8)

    sh = sub.add_parser(
        "shift",
        help="close an agent's shift (a report stored for good) or list closed shifts",
        description="Close an agent's shift: count their pulls of the period per brand (cards "
        "issued, face value, cost; failures, in-doubt and pending pulls apart) and store the "
        "report in the history for good (closing again makes a new report, never an edit). "
        "Reads the history file only: no network.",
    )
    shs = sh.add_subparsers(dest="shift_command", metavar="ACTION", required=True)
    shc = shs.add_parser("close", help="close a shift and print its report")
    shc.add_argument(
        "--agent", help="whose shift (default: the history's agent setting, else your user name)"
    )
    shc.add_argument(
        "--since",
        type=_date,
        help="YYYY-MM-DD, local day the shift starts (default: where the agent's last closed "
        "shift ended, else the start of today)",
    )
    shc.add_argument("--out", type=Path, metavar="FILE.pdf|FILE.csv", help="also save it there")
    shc.add_argument("--json", action="store_true", help="print the report as one JSON object")
    shl = shs.add_parser("list", help="list closed shifts, the newest first")
    shl.add_argument("--agent", help="only this agent's")
    shl.add_argument("--limit", type=_positive_int)
    shl.add_argument("--json", action="store_true", help="one JSON object per report per line")

    dl = sub.add_parser(
        "deliver",
        help="e-mail an issued card to its customer through the team's SMTP server",
        description="E-mail the card of REQUEST_ID (code, PIN, expiry, how to use it, its PDF) "
        "to ADDRESS, through the SMTP server set up for the profile in the window's Settings "
        "(E-mail). Every attempt is recorded in the history. Exit 0 sent, 1 the server "
        "refused or could not be reached, 2 usage or configuration error.",
    )
    dl.add_argument("request_id", metavar="REQUEST_ID")
    dl.add_argument("--email", required=True, metavar="ADDRESS", help="the customer's address")
    dl.add_argument("--agent", help="who sends it, for the history (default: your user name)")
    dl.add_argument("--json", action="store_true", help="the outcome as one JSON object")

    c = sub.add_parser("catalog", help="list the gift cards this partner may pull")
    c.add_argument("--json", action="store_true")

    sub.add_parser(
        "simulator",
        help="run the built-in Walleo simulator as an HTTP server (see `simulator --help`)",
    )

    pr = sub.add_parser("profile", help="manage connection profiles (secrets go to the keyring)")
    prs = pr.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    ps = prs.add_parser("set", help="create or update a profile; prompts for the credentials")
    ps.add_argument("name")
    ps.add_argument("--base-url", help="Walleo base URL (default: production)")
    ps.add_argument("--currency", default=None)
    ps.add_argument("--activate", action="store_true", help="make it the active profile")
    prs.add_parser("list", help="list profiles")
    pu = prs.add_parser("use", help="make a profile the active one ('demo' for none)")
    pu.add_argument("name")
    pd = prs.add_parser("delete", help="delete a profile and its keyring entry")
    pd.add_argument("name")

    if team:
        from walleo_desktop.cli_team import add_team_parser

        add_team_parser(sub)
    else:
        stand_in = sub.add_parser("team", help=TEAM_HELP, add_help=False, prefix_chars="\0")
        stand_in.add_argument("team_arguments", nargs=argparse.REMAINDER)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-25") from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:  # its own parser: argparse.REMAINDER drops leading options
        from walleo_desktop.simulator import run_cli

        return run_cli(argv[1:])
    args = build_parser(team=False).parse_args(argv)
    if args.command == "team":
        args = build_parser().parse_args(argv)
    from walleo_desktop.logs import setup_logging

    setup_logging(verbose=args.verbose, console=True)
    if args.command is None:
        from walleo_desktop.ui.app import run

        return run(args)
    from walleo_desktop.store import StoreError

    try:
        if args.command == "profile":
            return _profile_command(args)
        if args.command == "team":
            from walleo_desktop.cli_team import team_command

            return team_command(args)
        if args.command == "export":
            return _export_command(args)
        if args.command == "history":
            return _history_command(args)
        if args.command == "shift":
            return _shift_command(args)
        return asyncio.run(_run(args))
    except UsageError as exc:
        print(f"walleo-desktop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:  # the history cannot be read or written: a plain sentence
        log.debug("history error", exc_info=True)
        sent = " Nothing was sent to Walleo." if args.command == "pull" and not _journaled else ""
        print(f"walleo-desktop: {exc}{sent}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "walleo-desktop: interrupted; unfinished pulls stay in the journal "
            "(run `walleo-desktop resume`).",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _data_dir(args: argparse.Namespace) -> Path:
    from walleo_desktop.store import default_data_dir

    return args.data_dir or default_data_dir()


_key_warned = False
_journaled = False  # set once `pull` has journaled its intents (they are then in the journal)


def _warn_about_key(warning: str) -> None:
    """Say once per run, plainly, that the history's key is in the fallback file."""
    global _key_warned
    if warning and not _key_warned:
        _key_warned = True
        print(f"walleo-desktop: warning: {warning}", file=sys.stderr)


async def _open_session(args: argparse.Namespace) -> Any:
    from walleo_desktop.api.errors import ConfigurationError
    from walleo_desktop.engine import Profiles, Session, resolve_connection

    profiles = Profiles()
    try:
        connection = resolve_connection(profiles, args.profile)
        if connection.demo:
            print(
                "walleo-desktop: no profile or WALLEO_* credentials: using the built-in "
                "simulator (demo mode, no real cards).",
                file=sys.stderr,
            )
        session = await Session.open(
            connection,
            _data_dir(args),
            concurrency=getattr(args, "concurrency", 8),
            agent=getattr(args, "agent", None),
            profiles=profiles,
        )
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc
    _warn_about_key(session.key_warning)
    return session


async def _run(args: argparse.Namespace) -> int:
    if args.command == "deliver":
        _check_email(args.email)  # a typo is said before anything is opened
    session = await _open_session(args)
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, lambda: main_task and main_task.cancel())
    try:
        if args.command == "pull":
            return await _pull(session, args)
        if args.command == "resume":
            return await _resume(session, args)
        if args.command == "catalog":
            return await _catalog(session, args)
        if args.command == "bulk":
            from walleo_desktop.cli_bulk import bulk_command

            return await bulk_command(session, args)

        if args.command == "deliver":
            return await _deliver(session, args)
        raise UsageError(f"unknown command {args.command}")
    except asyncio.CancelledError:
        print(
            "walleo-desktop: stopped; unfinished pulls stay in the journal "
            "(run `walleo-desktop resume`).",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
        await session.close()


def require_issuing(session: Any) -> None:
    """``UsageError`` for a desktop that issues no cards (finance), before anything is done."""
    if not session.can_issue:
        raise UsageError(
            f"{_profile_label(session)} reviews the team's history and issues no cards "
            "(finance); an agent's desktop issues them."
        )


async def _pull(session: Any, args: argparse.Namespace) -> int:
    from walleo_desktop.api.errors import WalleoError

    require_issuing(session)
    if session.connection.team is not None and args.agent not in (None, session.engine.agent):
        raise UsageError(
            f"in a team, pulls are issued in your own name ({session.engine.agent}); "
            "--agent cannot change it."
        )
    code = args.gift_card_code
    gift_card = session.catalog.find(code)
    if gift_card is None:
        try:
            await session.catalog.refresh()
        except WalleoError as exc:
            raise UsageError(f"the catalog could not be loaded: {exc}") from exc
        gift_card = session.catalog.find(code)
    if gift_card is None:
        raise UsageError(
            f"there is no gift card {code!r} in the catalog (see `walleo-desktop catalog`)"
        )
    from walleo_desktop.store import DuplicateIntentError

    confirmed: tuple[int, ...] = ()
    while True:
        try:
            pulls = await session.engine.submit(
                gift_card,
                args.amount,
                count=args.count,
                reference=args.reference,
                note=args.note,
                confirmed_duplicates=confirmed,
            )
            break
        except ValueError as exc:
            raise UsageError(f"{gift_card.name}: {exc}") from exc
        except DuplicateIntentError as exc:
            if not args.allow_duplicate or confirmed:
                raise UsageError(
                    f"{exc} Add --allow-duplicate to issue it anyway."
                    if not args.allow_duplicate
                    else str(exc)
                ) from exc
            confirmed = tuple(m.id for m in exc.matches)
    global _journaled
    _journaled = True
    if not args.json:
        print(
            f"Journaled {len(pulls)} pull(s) of {gift_card.name} {args.amount} "
            f"{session.connection.currency}; sending…",
            file=sys.stderr,
        )
    return await _finish(session, [p.id for p in pulls], args)


async def _resume(session: Any, args: argparse.Namespace) -> int:
    if not session.can_issue:
        raise UsageError(
            f"{_profile_label(session)} drives no pulls (finance); agents' desktops finish them."
        )
    pending = await session.engine.start()
    if not pending:
        others = await _unfinished_elsewhere(session)
        if others:
            names = ", ".join(f"{name} ({count})" for name, count in sorted(others.items()))
            print(
                f"Nothing to resume for {_profile_label(session)}, but unfinished pulls of "
                f"other profiles wait in the journal: {names}. Resume them with their own "
                "credentials: `walleo-desktop --profile NAME resume`.",
                file=sys.stderr,
            )
        elif not args.json:
            print("Nothing to resume: every pull in the journal is finished.", file=sys.stderr)
        return EXIT_OK
    if not args.json:
        print(f"Resuming {len(pending)} unfinished pull(s)…", file=sys.stderr)
    return await _finish(session, [p.id for p in pending], args)


def _profile_label(session: Any) -> str:
    connection = session.connection
    if connection.team is not None:
        return f"{connection.team.member} ({connection.team.role}) on the team"
    return "demo mode" if connection.demo else f"profile {connection.profile!r}"


async def _unfinished_elsewhere(session: Any) -> dict[str, int]:
    """Unfinished pulls of other profiles in this history: profile -> count."""
    counts: dict[str, int] = {}
    for pull in await session.store.unfinished_pulls():
        if pull.profile != session.engine.profile:
            counts[pull.profile or "?"] = counts.get(pull.profile or "?", 0) + 1
    return counts


async def _finish(session: Any, ids: list[int], args: argparse.Namespace) -> int:
    out = sys.stdout
    printed: set[int] = set()
    wanted = set(ids)
    ready: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()

    def on_event(event: Any) -> None:  # as each pull ends, in the order they end
        pull = event.pull
        if pull.id in wanted and pull.final and pull.id not in printed:
            printed.add(pull.id)
            ready.put_nowait((pull, event.card))

    async def printer() -> None:
        while True:
            pull, card = await ready.get()
            await _print_pull(session, pull, card, args, out)
            ready.task_done()

    unsubscribe = session.engine.subscribe(on_event)
    printing = asyncio.get_running_loop().create_task(printer())
    try:
        final = await session.engine.wait(ids)
        await ready.join()
    finally:
        unsubscribe()
        printing.cancel()
    for pull in final:  # pulls that were already final before we subscribed
        if pull.id not in printed and pull.final:
            printed.add(pull.id)
            await _print_pull(session, pull, None, args, out)
    unfinished = [p for p in final if not p.final]
    failed = sum(1 for p in final if p.final and p.state.value != "success")
    if not args.json:
        ok = len(final) - failed - len(unfinished)
        print(f"{ok} issued, {failed} failed.", file=sys.stderr)
    if unfinished:
        reasons = sorted(
            {(session.engine.stopped_reason(p.id) or "unknown").rstrip(".") for p in unfinished}
        )
        print(
            f"walleo-desktop: {len(unfinished)} pull(s) could not be finished: "
            f"{'; '.join(reasons)}. They stay in the journal (nothing is lost): fix the problem, "
            "then run `walleo-desktop resume`.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failed else EXIT_OK


async def _print_pull(
    session: Any, pull: Any, card: Any, args: argparse.Namespace, out: TextIO
) -> None:
    from walleo_desktop.api.models import WALLEO_TIMEZONE, expiry_day

    if card is None and pull.card_id:
        card = await session.store.card_for_pull(pull.id)
    if args.json:
        obj = {
            "request_id": pull.request_id,
            "status": pull.state.value,
            "gift_card_code": pull.gift_card_code,
            "amount": pull.amount,
            "card": None
            if card is None
            else {
                "id": card.card_id,
                "code": card.code,
                "pin_code": card.pin_code,
                "expire_at": card.expire_at.astimezone(WALLEO_TIMEZONE).isoformat()
                if card.expire_at
                else None,
                "pdf_url": card.pdf_url,
            },
            "error": {"code": pull.error_code, "message": pull.error_message}
            if pull.state.value != "success" and pull.error_code
            else None,
        }
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()
        return
    brand = _printable(pull.gift_card_name or pull.gift_card_code)
    line = (
        f"{pull.state.label:<9} {brand} {pull.amount} {_printable(pull.currency)}  "
        f"{_printable(pull.request_id)}"
    )
    if card is not None:
        if args.show_codes:
            pin = f"  PIN {card.pin_code}" if card.pin_code else ""
            line += f"  code {card.code}{pin}"
        else:
            line += f"  code …{card.code[-4:]}"
        if card.expire_at:
            line += f"  expires {expiry_day(card.expire_at).isoformat()}"
    elif pull.error_message:
        line += f"  — {_printable(pull.error_message)}"
    print(line, file=out, flush=True)


def _parse_states(values: list[str]) -> tuple[Any, ...]:
    """``--status`` values ("in doubt", "in_doubt", "Success"...) as PullStates."""
    from walleo_desktop.store.records import PullState

    try:
        return tuple(PullState(v.strip().lower().replace(" ", "_")) for v in values)
    except ValueError:
        choices = ", ".join(s.value for s in PullState)
        raise UsageError(f"--status must be one of: {choices}") from None


def _local_day_range(
    first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """``--since``/``--until`` are the user's local days, both inclusive."""
    local = datetime.now().astimezone().tzinfo

    def midnight(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), local)

    return (
        midnight(first) if first else None,
        midnight(last + timedelta(days=1)) if last else None,
    )


def _open_history_to_read(args: argparse.Namespace, *, need_codes: bool) -> Any:
    """The history the window would open, for reading it offline (no credentials, no network).

    Without its key, the history is still readable (everything but the full codes and PINs:
    last 4 digits, amounts, states, totals): said on stderr, and refused only when the codes
    themselves are asked for."""
    from walleo_desktop.engine.datakey import open_history
    from walleo_desktop.store import StoreError
    from walleo_desktop.store.crypto import KeyUnavailableError
    from walleo_desktop.store.sqlite import open_core

    team = _active_team(args)
    if team is not None:
        from walleo_desktop.api.errors import ConfigurationError
        from walleo_desktop.engine.team import open_team
        from walleo_desktop.store.core import StoreCore

        try:
            access = open_team(team)
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from exc
        return StoreCore(access.backend.main, access.backend.cipher)
    path = _export_history_path(args)
    if not path.exists():
        raise UsageError(f"there is no history at {path} (see --data-dir and --profile)")
    try:
        store, data_key = open_history(path)  # the key: codes, and a history to encrypt
    except KeyUnavailableError as exc:
        if need_codes:
            raise UsageError(str(exc)) from exc
        print(
            f"walleo-desktop: warning: {exc} Card codes and PINs cannot be read; everything "
            "else in the history can.",
            file=sys.stderr,
        )
        try:
            return open_core(path)
        except StoreError as again:
            raise UsageError(str(again)) from again
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    _warn_about_key(data_key.warning)
    return store


def _history_command(args: argparse.Namespace) -> int:
    from walleo_desktop.store import HistoryFilter

    states = _parse_states(args.status)
    since, until = _local_day_range(args.since, args.until)
    flt = HistoryFilter(since=since, until=until, states=states)
    with _open_history_to_read(args, need_codes=False) as store:
        page = store.history(flt, limit=args.limit)
    for row in page.rows:
        p = row.pull
        if args.json:
            print(
                json.dumps(
                    {
                        "id": p.id,
                        "request_id": p.request_id,
                        "created_at": p.created_at.isoformat(),
                        "status": p.state.value,
                        "gift_card_code": p.gift_card_code,
                        "amount": p.amount,
                        "currency": p.currency,
                        "agent": p.agent,
                        "reference": p.reference,
                        "card_id": p.card_id or None,
                        "card_last4": row.card_code_last4 or None,
                        "error": {"code": p.error_code, "message": p.error_message}
                        if p.error_code
                        else None,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            last4 = f"…{_printable(row.card_code_last4)}" if row.card_code_last4 else ""
            print(
                f"{p.created_at.astimezone().strftime('%Y-%m-%d %H:%M')}  {p.state.label:<10} "
                f"{_printable(p.gift_card_code):<12} {p.amount:>6} {_printable(p.currency)}  "
                f"{_printable(p.reference):<16} {_printable(p.request_id)} {last4}"
            )
    return EXIT_OK


def _printable(text: str) -> str:
    """``text`` for one line of a text report: line breaks and other control characters shown
    as escapes (``\\n``), so that a value can never forge a line of its own."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _active_team(args: argparse.Namespace) -> Any:
    """The team whose history this desktop uses, when it does (as ``resolve_connection``)."""
    import os

    from walleo_desktop.engine import Profiles
    from walleo_desktop.engine.profiles import ENV_VARS, TEAM_PROFILE
    from walleo_desktop.engine.team import load_team_config

    if args.profile and args.profile != TEAM_PROFILE:
        return None
    if not args.profile and (
        any(os.environ.get(var) for var in (*ENV_VARS, "WALLEO_BASE_URL"))
        or Profiles().active != TEAM_PROFILE
    ):
        return None
    return load_team_config()


def _export_history_path(args: argparse.Namespace) -> Path:
    """The history file the window would open, decided without the keyring or the network:
    the demo file when no profile and no WALLEO_* variable is set (as ``resolve_connection``)."""
    import os

    from walleo_desktop.engine import Profiles
    from walleo_desktop.engine.profiles import ENV_VARS

    configured = (
        bool(args.profile)
        or any(os.environ.get(var) for var in (*ENV_VARS, "WALLEO_BASE_URL"))
        or Profiles().active is not None
    )
    name = "history.sqlite3" if configured else "demo-history.sqlite3"
    return _data_dir(args) / name


def _export_command(args: argparse.Namespace) -> int:
    from walleo_desktop.engine.pulls import default_agent
    from walleo_desktop.store import HistoryFilter, StoreError
    from walleo_desktop.store.export import export_csv

    states = _parse_states(args.status)
    since, until = _local_day_range(args.since, args.until)

    flt = HistoryFilter(
        since=since,
        until=until,
        states=states,
        gift_card_codes=tuple(code.strip() for code in args.gift_card if code.strip()),
    )
    out: Path = args.out
    file_format = _export_format(out, args.format, args.preset)
    if not out.parent.is_dir():
        raise UsageError(f"the folder {out.parent} does not exist")
    with _open_history_to_read(args, need_codes=args.with_codes) as store:
        if args.with_codes and not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    "--with-codes writes every card's full code and PIN: add --yes to confirm "
                    "when not running in a terminal"
                )
            count = store.count_history(flt)
            answer = input(
                f"Write the full codes and PINs of {count:,} pull(s) to {out}? Anyone with "
                "the file can spend the cards; the export is logged. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing exported.", file=sys.stderr)
                return EXIT_USAGE
        show_progress = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show_progress:
                print(f"\r{done:,} / {total:,} rows", end="", file=sys.stderr, flush=True)

        try:
            agent = store.get_setting("agent") or default_agent()
            if file_format == "xlsx":
                from walleo_desktop.store.export_xlsx import export_xlsx

                result = export_xlsx(
                    store, flt, out, with_codes=args.with_codes, progress=progress, agent=agent
                )
            else:
                result = export_csv(
                    store,
                    flt,
                    out,
                    preset=args.preset or "standard",
                    with_codes=args.with_codes,
                    progress=progress,
                    agent=agent,
                )
        except KeyboardInterrupt:
            print("\nwalleo-desktop: export interrupted; no file was written.", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (OSError, StoreError) as exc:
            raise UsageError(f"the export failed: {exc}") from exc
        finally:
            if show_progress:
                print(file=sys.stderr)
    print(f"{result.rows} rows written to {out}")
    return EXIT_OK


def _shift_command(args: argparse.Namespace) -> int:
    from walleo_desktop.engine import shift
    from walleo_desktop.engine.pulls import default_agent

    if args.shift_command == "list":
        with _open_history_to_read(args, need_codes=False) as store:
            reports = store.shift_reports(args.agent, limit=args.limit)
        for report in reports:
            if args.json:
                print(json.dumps(report.to_json(), ensure_ascii=False))
                continue
            local = "%Y-%m-%d %H:%M"
            closed = report.created_at.astimezone().strftime(local) if report.created_at else ""
            money = ", ".join(
                f"{t.face_value} {t.currency} (cost {t.cost_cents // 100}.{t.cost_cents % 100:02d})"
                for t in report.totals
            )
            print(
                f"#{report.id:<5} {_printable(report.agent):<16} "
                f"{report.period_start.astimezone().strftime(local)} -> "
                f"{report.period_end.astimezone().strftime(local)}  {report.pulls} pulls, "
                f"{report.cards} issued{', ' + money if money else ''}; "
                f"closed {closed} by {_printable(report.created_by)}"
            )
        return EXIT_OK
    out: Path | None = args.out
    if out is not None:
        if out.suffix.lower() not in (".pdf", ".csv"):
            raise UsageError(f"{out.name}: the report is saved as .pdf or .csv")
        if not out.parent.is_dir():
            raise UsageError(f"the folder {out.parent} does not exist")
    since, _until = _local_day_range(args.since, None)
    team = _active_team(args)
    with _open_history_to_read(args, need_codes=False) as store:
        # In a team, who closes is the member's login (the database checks it), not the OS user.
        me = team.member if team is not None else store.get_setting("agent") or default_agent()
        agent = args.agent or me
        try:
            start, end = shift.default_period(store, agent, since=since)
            report = store.close_shift(agent, start, end, me)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(shift.report_text(report), end="")
    if out is not None:
        data = (
            shift.report_pdf(report) if out.suffix.lower() == ".pdf" else shift.report_csv(report)
        )
        try:
            shift.write_report(out, data)
        except OSError as exc:
            raise UsageError(
                f"the report #{report.id} is stored, but {out} could not be written: {exc}. "
                "Save it again from the window, or run `walleo-desktop shift list`."
            ) from exc
        print(f"Report #{report.id} written to {out}", file=sys.stderr)
    return EXIT_OK


def _export_format(out: Path, asked: str | None, preset: str | None) -> str:
    """``csv`` or ``xlsx``: ``--format``, else OUT's extension; a name that says the other
    format, or a CSV preset for a workbook, is refused (a file must be what its name says)."""
    suffix = out.suffix.lower()
    chosen = asked or ("xlsx" if suffix == ".xlsx" else "csv")
    if suffix in (".csv", ".xlsx") and suffix != f".{chosen}":
        raise UsageError(f"{out.name} ends in {suffix}, but --format {chosen} was asked")
    if chosen == "xlsx" and preset is not None:
        raise UsageError("--preset is for CSV files: an XLSX workbook has typed cells")
    return chosen


async def _catalog(session: Any, args: argparse.Namespace) -> int:
    from walleo_desktop.api.errors import WalleoError

    try:
        cards = await session.catalog.refresh()
    except WalleoError as exc:
        cards = session.catalog.cached()
        if not cards:
            raise UsageError(f"the catalog could not be loaded: {exc}") from exc
        print(f"walleo-desktop: showing the cached catalog ({exc})", file=sys.stderr)
    for g in cards:
        if args.json:
            print(json.dumps(g.raw or {"code": g.code, "name": g.name}, ensure_ascii=False))
        else:
            discount = f"-{g.discount}%" if g.discount else ""
            print(f"{g.code:<14} {g.name:<22} {g.facial_values.describe():<28} {discount}")
    return EXIT_OK


def _check_email(address: str) -> None:
    from walleo_desktop.engine.delivery import InvalidAddress, validate_address

    try:
        validate_address(address)
    except InvalidAddress as exc:
        raise UsageError(str(exc)) from exc


def _mail_language(args: argparse.Namespace) -> str:
    """The customer's e-mail speaks --language, else the system's language (fr or en)."""
    if args.language in ("fr", "en"):
        return str(args.language)
    import os

    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "fr"


async def _deliver(session: Any, args: argparse.Namespace) -> int:
    from walleo_desktop.api.errors import ConfigurationError
    from walleo_desktop.engine.delivery import CardDelivery, DeliveryError, SmtpNotConfigured

    delivery = CardDelivery.for_session(session)
    try:
        settings = delivery.configured()
        pull = await session.store.find_pull(args.request_id)
        if pull is None:
            raise UsageError(f"there is no pull {args.request_id!r} in this history")
        if not pull.card_id:
            raise UsageError(
                f"pull {args.request_id} has no card to send (status: {pull.state.label})"
            )
        # Blocking, like every keyring read of the CLI (resolve_connection's included).
        password = delivery.load_password() if settings.username else None
        status = await delivery.send(
            pull.id, args.email, password=password, language=_mail_language(args)
        )
    except (SmtpNotConfigured, ConfigurationError) as exc:
        raise UsageError(str(exc)) from exc
    except DeliveryError as exc:  # refused before any attempt (no card...)
        raise UsageError(str(exc)) from exc
    error = status.error
    if args.json:
        print(
            json.dumps(
                {
                    "request_id": pull.request_id,
                    "to": status.to,
                    "status": status.state,
                    "reason": status.reason or None,
                    "message": error.message if error is not None else None,
                    "pdf_attached": status.pdf_attached,
                    "attempts": status.attempts,
                },
                ensure_ascii=False,
            )
        )
    elif error is None:
        pdf = "with its PDF" if status.pdf_attached else "without a PDF (none could be had)"
        print(
            f"E-mailed the card of {_printable(pull.request_id)} to {status.to} {pdf}.",
            file=sys.stderr,
        )
    if error is not None:
        print(f"walleo-desktop: the e-mail to {status.to} failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _profile_command(args: argparse.Namespace) -> int:
    from walleo_desktop.api.client import DEFAULT_BASE_URL, Credentials
    from walleo_desktop.api.errors import ConfigurationError
    from walleo_desktop.engine import Profile, Profiles

    profiles = Profiles()
    try:
        if args.profile_command == "list":
            active = profiles.active
            for p in profiles.list():
                mark = "*" if p.name == active else " "
                print(f"{mark} {p.name:<20} {p.base_url}  {p.currency}")
            if active is None:
                print("* demo (built-in simulator)")
            return EXIT_OK
        if args.profile_command == "use":
            if args.name == "demo":
                profiles.set_active(None)
            elif profiles.get(args.name) is None:
                raise UsageError(f"there is no profile named {args.name!r}")
            else:
                profiles.set_active(args.name)
            return EXIT_OK
        if args.profile_command == "delete":
            profiles.delete(args.name)
            return EXIT_OK
        # set
        existing = profiles.get(args.name)
        profile = Profile(
            name=args.name,
            base_url=args.base_url or (existing.base_url if existing else DEFAULT_BASE_URL),
            currency=(args.currency or (existing.currency if existing else "EUR")).upper(),
        )
        if sys.stdin.isatty():
            identifier = input("Identifier: ").strip()
            api_key = getpass.getpass("API key: ").strip()
            shared_key = getpass.getpass("Shared key: ").strip()
        else:  # scripted: three lines on standard input, never arguments
            lines = [line.strip() for line in sys.stdin.read().splitlines()]
            if len(lines) < 3:
                raise UsageError("expected identifier, API key and shared key on three lines")
            identifier, api_key, shared_key = lines[:3]
        creds = Credentials(api_key=api_key, identifier=identifier, shared_key=shared_key)
        profiles.save_credentials(profile.name, creds)
        profiles.save(profile)
        if args.activate:
            profiles.set_active(profile.name)
        print(f"Profile {profile.name!r} saved; credentials are in the system keyring.")
        return EXIT_OK
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc
