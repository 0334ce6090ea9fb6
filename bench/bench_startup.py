"""Launch to first paint of the whole process, offscreen: the app beside a bare Qt window.

Each figure is a fresh ``python -m walleo_desktop`` (or ``python bench/bare_window.py``)
process, timed from just before ``Popen`` to the first paint of its main window (the app
prints the moment with ``WALLEO_SMOKE_TEST=first-paint``, then closes). Cases, interleaved so
that the machine's load weighs on each alike, each repeated and reported as the median:

- **bare**: a PySide6 window with one ``QTableView`` (``bench/bare_window.py``);
- **empty**: the app on an empty history (made by a first, unmeasured launch);
- **1M**: the app on a 1,000,000-pull history (``scripts/fill_history.py``), kept in
  ``$XDG_CACHE_HOME/walleo-desktop-bench/history-1000000`` and reused (as
  ``bench/bench_history.py`` does); the first launch on it warms the page cache, unmeasured.

Both app cases use the same connection, a real account's as far as the app can tell:
credentials in the environment (``WALLEO_API_KEY``, ``WALLEO_IDENTIFIER``,
``WALLEO_SHARED_KEY``, the simulator's demo values) and ``WALLEO_BASE_URL`` an https:// address
on 127.0.0.1 where nothing listens (the catalog refresh fails after the first paint, which
does not wait for it). So the history is ``history.sqlite3``, the file ``fill_history.py``
fills, and no keyring is used (the history's key is ``history.key`` beside it). Targets
(issue 11): empty <= 2.5 x bare, 1M <= 1.1 x empty.

    .venv/bin/python bench/bench_startup.py [--repeat 7] [--rows 1000000] [--cache DIR]
                                            [--importtime]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cache_dir, filled_history, load_average

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def _env(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    # As an installed app starts: from bytecode (pip compiles it at install, the bundle ships
    # it). With PYTHONDONTWRITEBYTECODE set, as some shells here have it, every launch would
    # compile the app's sources again (~0.2 s); the unmeasured first launches write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("CONFIG", "STATE"):  # window settings, profiles, logs: the run's own
        (home / name.lower()).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        WALLEO_BASE_URL=base_url,
        # The simulator's demo values: fixed, public, and valid for the client's checks.
        WALLEO_API_KEY="demo-80chjRjjQlFU3-OKDQkRYl-DNedQBCObTRjE7aYhAjV0MBTXFWFIlpmoeP5",
        WALLEO_IDENTIFIER="d2514209-7369-4121-aa94-5b05c32c1d6f",
        WALLEO_SHARED_KEY="9F9560465B6840A438C9BB64C4A3FFC6",
        WALLEO_SMOKE_TEST="first-paint",
    )
    return env


def launch(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from just before ``Popen`` to the first paint the process reports."""
    t0 = time.time()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _out, err = proc.communicate(timeout=120)
    for line in err.splitlines():
        if line.startswith("first paint at "):
            return float(line.split()[-1]) - t0
    raise RuntimeError(f"{cmd[1:]} printed no first paint (exit {proc.returncode}):\n{err[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, help="where the filled history is kept")
    parser.add_argument(
        "--importtime", action="store_true", help="also print the empty case's slowest imports"
    )
    args = parser.parse_args(argv)

    big = filled_history(cache_dir(args.cache), args.rows).parent
    # A loopback address nobody listens on: bound, never listening (connections refused).
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    base_url = f"https://127.0.0.1:{closed.getsockname()[1]}/partners/v1"
    app = [sys.executable, "-m", "walleo_desktop"]
    times: dict[str, list[float]] = {"bare": [], "empty": [], "1M": []}
    with tempfile.TemporaryDirectory(prefix="walleo-startup-") as name:
        tmp = Path(name)
        env = _env(tmp, base_url)
        empty = tmp / "empty-data"
        cases = {
            "bare": [sys.executable, str(BENCH / "bare_window.py")],
            "empty": [*app, "--data-dir", str(empty)],
            "1M": [*app, "--data-dir", str(big)],
        }
        launch(cases["empty"], env)  # creates the empty history and its key: not measured
        warm = launch(cases["1M"], env)  # reads the big file into the page cache
        launch(cases["bare"], env)
        load_before = load_average()
        for _ in range(args.repeat):
            for case, cmd in cases.items():
                times[case].append(launch(cmd, env))
        load_after = load_average()
        if args.importtime:
            done = subprocess.run(
                [sys.executable, "-X", "importtime", *cases["empty"][1:]],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            _print_imports(done.stderr)
    closed.close()

    med = {case: statistics.median(values) for case, values in times.items()}
    print(f"load average {load_before} before, {load_after} after")
    print(f"launch to first paint, offscreen, median of {args.repeat} (all runs):")
    for case, label in (
        ("bare", "bare PySide6 window, one QTableView"),
        ("empty", "Walleo Desktop, empty history"),
        ("1M", f"Walleo Desktop, {args.rows:,}-pull history"),
    ):
        runs = " ".join(f"{t * 1000:.0f}" for t in times[case])
        print(f"  {label:42} {med[case] * 1000:6.0f} ms   ({runs})")
    print(f"  (first launch on the big history, page cache warming: {warm * 1000:.0f} ms)")
    ratio_empty = med["empty"] / med["bare"]
    ratio_big = med["1M"] / med["empty"]
    print(
        f"  empty / bare = {ratio_empty:.2f} (target <= 2.5: "
        f"{'met' if ratio_empty <= 2.5 else 'MISSED'})"
    )
    verdict = "met" if ratio_big <= 1.1 else "MISSED"
    print(f"  1M / empty   = {ratio_big:.2f} (target <= 1.1: {verdict})")
    return 0 if ratio_empty <= 2.5 and ratio_big <= 1.1 else 2


def _print_imports(stderr: str, top: int = 25) -> None:
    """The slowest imports (cumulative) of a ``-X importtime`` run, top-level packages only."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(cumulative), depth, name.strip()))
    print("slowest imports of the empty case (cumulative ms, depth <= 2):")
    for cumulative, depth, name in sorted((r for r in rows if r[1] <= 2), reverse=True)[:top]:
        print(f"  {cumulative / 1000:7.1f}  {'  ' * depth}{name}")


if __name__ == "__main__":
    sys.exit(main())
