"""``walleo-desktop bulk FILE``: a bulk order from a CSV or XLSX file, headless.

Preview first (every row checked against the catalog, problems with their row numbers,
totals), then one confirmation, then one batch (engine/bulk.py). ``--dry-run`` stops after
the preview. Without ``--yes`` the order is issued only after a "y" typed in a terminal; not in
a terminal, it is refused. Rows issued in the last 24 hours, or a file imported before, are
issued again only with ``--allow-duplicates`` (or a second "y" in a terminal).

Exit codes: 0 every row of the file issued (dry-run: every row can be); 1 some rows not issued
(a problem in the row, a card that failed, a row left out as already issued); 2 usage, a file
that cannot be read, or an order refused as it stands (nothing sent); 3 interrupted: journaled
cards stay in the journal (``resume``), rows not journaled are in the results file, and
running the same command again continues the order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any

from walleo_desktop.cli import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _printable,
    require_issuing,
)

__all__ = ["bulk_command"]


def _out(args: argparse.Namespace, obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ask(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes", "o", "oui")


async def bulk_command(session: Any, args: argparse.Namespace) -> int:
    from walleo_desktop.api.errors import WalleoError
    from walleo_desktop.engine import bulk

    try:
        await session.catalog.refresh()
    except WalleoError as exc:
        if not session.catalog.cached():
            raise UsageError(f"the catalog could not be loaded: {exc}") from exc
        _err(f"walleo-desktop: checking the order against the cached catalog ({exc})")
    try:
        preview = await bulk.preview_file(
            args.file,
            session.catalog.cached(),
            session.store,
            profile=session.engine.profile,
        )
    except bulk.BulkFileError as exc:
        raise UsageError(f"{args.file}: {exc} Nothing was sent.") from exc
    currency = session.connection.currency
    _show_preview(preview, args, currency)
    if preview.blocking:
        raise UsageError(f"{preview.blocking[0].text} Nothing was sent.")
    if args.dry_run:
        return EXIT_FAILED if preview.error_rows else EXIT_OK
    require_issuing(
        session
    )  # finance may preview; nothing is recorded for an order it cannot issue

    include_duplicates = bool(args.allow_duplicates)
    again = [e for e in preview.earlier if e is not preview.continuing]
    if (again or preview.duplicate_rows) and not include_duplicates:
        what = (
            f"{len(preview.duplicate_rows)} row(s) were issued in the last 24 hours"
            if preview.duplicate_rows
            else f"this file was imported on {again[0].at:%Y-%m-%d %H:%M} UTC by "
            f"{again[0].agent or 'someone'}"
        )
        if not sys.stdin.isatty():
            raise UsageError(
                f"{what}: add --allow-duplicates to issue them again. Nothing was sent."
            )
        include_duplicates = _ask(f"{what.capitalize()}. Issue them again? [y/N] ")
    rows = preview.to_issue(include_duplicates=include_duplicates)
    if not rows:
        raise UsageError("there is nothing to issue in this file. Nothing was sent.")
    cards = sum(r.count or 0 for r in rows)
    value = sum((r.count or 0) * (r.amount or 0) for r in rows)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"issuing {cards:,} card(s) needs a confirmation: add --yes when not running "
                "in a terminal. Nothing was sent."
            )
        if not _ask(f"Issue {cards:,} card(s), {value:,} {currency} in all? [y/N] "):
            _err("Nothing was sent.")
            return EXIT_OK

    async def on_duplicates(hit: list[Any], pulls: list[Any]) -> bool:
        first = pulls[0]
        _err(
            f"walleo-desktop: row(s) {', '.join(str(r.number) for r in hit)} were issued "
            f"meanwhile by {first.agent or 'someone'}: "
            + ("issued again (--allow-duplicates)." if include_duplicates else "left out.")
        )
        return include_duplicates

    run = bulk.BulkRun(
        session.engine,
        preview,
        include_duplicates=include_duplicates,
        on_duplicates=on_duplicates,
    )
    if not args.json:
        continuing = " (continuing the interrupted import)" if preview.continuing else ""
        _err(f"Issuing {cards:,} card(s) from {args.file.name}{continuing}…")
    await session.engine.start()  # cards of an interrupted import resume with the others
    reporter = asyncio.get_running_loop().create_task(_report(run, args))
    interrupted = False
    try:
        await run.run()
    except bulk.ImportTakenError as exc:
        raise UsageError(str(exc)) from exc
    except asyncio.CancelledError:
        interrupted = True
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
    since = run.record.at if run.record is not None else run.started_at
    assert since is not None
    path, results = await asyncio.shield(
        bulk.write_results(
            session.store,
            preview,
            run.batch_id,
            since=since,
            skipped=run.skipped,
            include_duplicates=include_duplicates,
        )
    )
    return _summary(preview, results, path, args, interrupted)


async def _report(run: Any, args: argparse.Namespace) -> None:
    if args.json or not sys.stderr.isatty():
        return
    while True:
        await asyncio.sleep(1.0)
        p = run.progress
        print(
            f"\r{p.journaled:,}/{p.planned:,} journaled, {p.sent:,} sent, {p.issued:,} issued, "
            f"{p.failed:,} failed" + (" (paused)" if p.paused else ""),
            end="",
            file=sys.stderr,
            flush=True,
        )


def _problem(row: Any, problem: Any, severity: str) -> dict[str, Any]:
    return {"row": row.number, "severity": severity, "kind": problem.kind, "message": problem.text}


def _show_preview(preview: Any, args: argparse.Namespace, currency: str) -> None:
    if args.json:
        _out(
            args,
            {
                "type": "preview",
                "file": str(preview.path),
                "rows": len(preview.rows),
                "rows_ok": sum(1 for r in preview.rows if r.ok),
                "empty_rows_skipped": preview.skipped_empty,
                "cards": preview.cards,
                "value": preview.value,
                "currency": currency,
                "totals": [
                    {"gift_card_code": t.code, "name": t.name, "cards": t.cards, "value": t.value}
                    for t in preview.totals
                ],
                "notes": [n.text for n in preview.notes],
                "blocking": [b.text for b in preview.blocking],
                "problems": [_problem(r, p, "error") for r in preview.rows for p in r.errors]
                + [_problem(r, p, "warning") for r in preview.rows for p in r.warnings],
                "already_issued": [
                    {
                        "row": r.number,
                        "pulls": len(r.duplicates),
                        "first_at": r.duplicates[0].created_at.isoformat(),
                        "agent": r.duplicates[0].agent,
                    }
                    for r in preview.duplicate_rows
                ],
                "earlier_imports": [
                    {
                        "batch_id": e.batch_id,
                        "at": e.at.isoformat(),
                        "agent": e.agent,
                        "cards": e.cards,
                        "state": e.state,
                    }
                    for e in preview.earlier
                ],
                "continuing": preview.continuing.batch_id if preview.continuing else None,
            },
        )
        return
    out = sys.stdout
    for note in preview.notes:
        print(f"note: {note.text}", file=out)
    for row in preview.rows:
        for p in row.errors:
            print(f"row {row.number}: error: {_printable(p.text)}", file=out)
        for p in row.warnings:
            print(f"row {row.number}: warning: {_printable(p.text)}", file=out)
    for row in preview.duplicate_rows:
        first = row.duplicates[0]
        print(
            f"row {row.number}: already issued on {first.created_at:%Y-%m-%d %H:%M} UTC by "
            f"{_printable(first.agent or 'someone')} ({len(row.duplicates)} card(s))",
            file=out,
        )
    for e in preview.earlier:
        if e is preview.continuing:
            done = sum(len(r.journaled) for r in preview.rows)
            print(
                f"interrupted import of {e.at:%Y-%m-%d %H:%M} UTC: {done:,} card(s) journaled; "
                "the rest will be issued with the same batch",
                file=out,
            )
        else:
            print(
                f"imported before on {e.at:%Y-%m-%d %H:%M} UTC by {_printable(e.agent)} "
                f"({e.cards:,} card(s), batch {e.batch_id})",
                file=out,
            )
    for t in preview.totals:
        print(f"{t.name:<22} {t.cards:>7,} card(s) {t.value:>12,} {currency}", file=out)
    bad = len(preview.error_rows)
    print(
        f"{'total':<22} {preview.cards:>7,} card(s) {preview.value:>12,} {currency}; "
        f"{len(preview.rows) - bad:,} row(s) ready, {bad:,} with problems, "
        f"{preview.skipped_empty:,} empty skipped",
        file=out,
        flush=True,
    )


def _summary(
    preview: Any, results: list[Any], path: Any, args: argparse.Namespace, interrupted: bool
) -> int:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        if args.json:
            _out(
                args,
                {
                    "type": "row",
                    "row": result.number,
                    "status": result.status,
                    "request_ids": [h.pull.request_id for h in result.pulls],
                    "card_states": [h.pull.state.value for h in result.pulls],
                    "card_last4": [h.card_code_last4 or None for h in result.pulls],
                    "detail": result.detail or None,
                },
            )
    unfinished = counts.get("in_progress", 0) + counts.get("in_doubt", 0)
    if args.json:
        _out(args, {"type": "summary", "results_file": str(path), "rows": counts})
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        text = ", ".join(
            f"{n:,} {status.replace('_', ' ')}" for status, n in sorted(counts.items())
        )
        _err(f"Rows: {text}. Results: {path}")
    if interrupted or unfinished or counts.get("not_journaled"):
        _err(
            "walleo-desktop: the order is not finished: journaled cards stay in the journal "
            "(`walleo-desktop resume`); run the same bulk command again to issue the rows not "
            "journaled."
        )
        return EXIT_INTERRUPTED
    if any(status != "issued" for status in counts):
        return EXIT_FAILED
    return EXIT_OK
