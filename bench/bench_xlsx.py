"""The XLSX export at scale, beside XlsxWriter alone writing the same cells, in the same run.

    .venv/bin/python bench/bench_xlsx.py [--rows 1000000] [--cache DIR]

The filled history is made once by ``scripts/fill_history.py``'s ``fill()`` and kept in the
cache dir (default ``$XDG_CACHE_HOME/walleo-desktop-bench``: ~2 GB and ~1 min for 1M pulls);
later runs reuse it. Each figure is taken in a fresh process, so RSS is the export's own:

- the export: ``export_xlsx`` of the whole history (no filter, newest first, no codes): wall
  time, and peak RSS beside the RSS just before it started (history open, modules imported).
  The goal is a flat profile: at most +100 MB whatever the number of rows;
- the baseline: XlsxWriter, in the same constant-memory mode with the same formats, writing
  the same number of rows of cells of the same kinds (16 a row: 12 strings where the history
  has text, a date-time, a date, two numbers) taken from a plain list made in memory before
  the clock starts (10,000 distinct rows, cycled). What the export adds to it is the query,
  the decryption-free streaming from SQLite, the per-kind conversions and the Totals sheet.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import cache_dir, filled_history, rss_mib

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _peak_mib() -> float:
    """This process's peak RSS (VmHWM). Not ``ru_maxrss``: Linux carries that over ``exec``
    from the parent at fork time, so a child would report the parent's peak (the fill's)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- child processes -----------------------------------------------------------------------


def child_export(history: Path, out: Path) -> dict[str, float]:
    import xlsxwriter  # noqa: F401 - imported before "before": the export's own memory only

    from walleo_desktop.engine.datakey import open_history
    from walleo_desktop.store import HistoryFilter
    from walleo_desktop.store.export_xlsx import export_xlsx

    core, _key = open_history(history)
    with core:
        before = rss_mib()
        started = time.perf_counter()
        result = export_xlsx(core, HistoryFilter(), out, agent="bench")
        seconds = time.perf_counter() - started
    return {
        "rows": result.rows,
        "seconds": seconds,
        "before_mib": before,
        "peak_mib": _peak_mib(),
        "size_mib": out.stat().st_size / 2**20,
    }


def child_baseline(rows: int, out: Path) -> dict[str, float]:
    import random

    import xlsxwriter

    rng = random.Random(1)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    epoch = datetime(1899, 12, 30)

    def text(n: int) -> str:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(n))

    distinct = [
        (
            ((t0 + timedelta(minutes=i)).replace(tzinfo=None) - epoch) / timedelta(days=1),
            f"agent.{i % 20}",
            f"TCK-{i:06d}",
            "Geste commercial" if i % 12 == 0 else "",
            "CARREFOUR",
            "Carrefour",
            50,
            "EUR",
            48.5,
            "success",
            f"wd-{text(36)}",
            text(36),
            f"{i % 10000:04d}",
            46000 + i % 400,
            "",
            "",
        )
        for i in range(10_000)
    ]
    before = rss_mib()
    started = time.perf_counter()
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "tmpdir": str(out.parent)})
    ws = wb.add_worksheet("History")
    time_fmt = wb.add_format({"num_format": 22})
    date_fmt = wb.add_format({"num_format": 14})
    money = wb.add_format({"num_format": '#,##0 "€"'})
    cents = wb.add_format({"num_format": '#,##0.00 "€"'})
    for i in range(16):
        ws.write_string(0, i, f"Column {i}")
    string, number = ws.write_string, ws.write_number
    texts = (1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 14, 15)
    for r in range(1, rows + 1):
        row = distinct[r % 10_000]
        for i in texts:
            value = row[i]
            if value:
                string(r, i, value)
        number(r, 0, row[0], time_fmt)
        number(r, 13, row[13], date_fmt)
        number(r, 6, row[6], money)
        number(r, 8, row[8], cents)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, rows, 15)
    wb.close()
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "before_mib": before,
        "peak_mib": _peak_mib(),
        "size_mib": out.stat().st_size / 2**20,
    }


def _run_child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "export":
            print(json.dumps(child_export(Path(rest[0]), Path(rest[1]))))
        else:
            print(json.dumps(child_baseline(int(rest[0]), Path(rest[1]))))
        return 0

    history = filled_history(cache_dir(args.cache), args.rows)
    with tempfile.TemporaryDirectory(prefix="walleo-bench-xlsx-") as tmp:
        export = _run_child("export", str(history), str(Path(tmp) / "export.xlsx"))
        baseline = _run_child("baseline", str(int(export["rows"])), str(Path(tmp) / "plain.xlsx"))
    rows = int(export["rows"])
    grown = export["peak_mib"] - export["before_mib"]
    print(f"\nXLSX export of {rows:,} rows (16 columns, whole history, newest first):")
    print(
        f"  export_xlsx             {export['seconds']:6.1f} s  "
        f"({export['seconds'] / rows * 1e6:.1f} µs/row)  peak RSS {export['peak_mib']:.0f} MiB "
        f"vs {export['before_mib']:.0f} MiB before it (+{grown:.0f} MiB; goal <= +100)  "
        f"file {export['size_mib']:.0f} MiB"
    )
    print(
        f"  XlsxWriter, same cells  {baseline['seconds']:6.1f} s  "
        f"({baseline['seconds'] / rows * 1e6:.1f} µs/row)  peak RSS {baseline['peak_mib']:.0f} "
        f"MiB vs {baseline['before_mib']:.0f} MiB before it  file {baseline['size_mib']:.0f} MiB"
    )
    print(f"  the export takes {export['seconds'] / baseline['seconds']:.2f}x XlsxWriter's time")
    return 0 if grown <= 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
