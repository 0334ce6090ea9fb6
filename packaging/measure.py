"""Size and start-up time of the bundle beside the same from the virtual environment.

    python packaging/measure.py [--runs N]      (build first: packaging/build.sh)

Start-up is timed from process start to the window's first paint: the app runs offscreen in
demo mode with a fresh ``--data-dir`` and ``WALLEO_SMOKE_TEST=1``, which prints "window shown"
on stderr at the first paint (then closes the window). The first run of each is reported apart
(cold-ish disk cache); the median of the others is the figure to quote. ``--version`` (no Qt)
is timed the same way, for the cost of starting the interpreter and the imports alone.

Sizes: the bundle folder; the whole venv (it also holds the test tools); and the part of the
venv the app needs at run time (its dependency closure), plus the interpreter's standard
library it runs on, which the bundle carries but the venv borrows from the system.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "walleo-desktop"
EXE = BUNDLE / ("walleo-desktop.exe" if sys.platform == "win32" else "walleo-desktop")
MB = 1024 * 1024


def tree_size(path: Path, skip: tuple[str, ...] = ()) -> int:
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            file = Path(root) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def runtime_closure() -> set[str]:
    """The installed distributions the app needs at run time: ``pyproject.toml``'s
    dependencies (not an editable install's metadata, which may be older) and theirs."""
    from packaging.requirements import Requirement  # pip's vendored copy is not public

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    seen: set[str] = set()
    todo = [Requirement(spec).name for spec in project["dependencies"]]
    while todo:
        current = todo.pop()
        key = current.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def distribution_size(name: str) -> int:
    dist = metadata.distribution(name)
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def time_to_line(cmd: list[str], env: dict[str, str], marker: str | None, timeout: float) -> float:
    """Seconds from start until ``marker`` appears on stderr (or until exit when None)."""
    start = time.perf_counter()
    # S603: the command is this Python or the bundle built here, with fixed arguments.
    proc = subprocess.Popen(  # noqa: S603
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    elapsed = None
    try:
        if marker is None:
            proc.wait(timeout=timeout)
            elapsed = time.perf_counter() - start
        else:
            for line in proc.stderr:
                if marker in line:
                    elapsed = time.perf_counter() - start
                    break
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if elapsed is None or proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} did not show its window (exit {proc.returncode})")
    return elapsed


def measure(cmd: list[str], runs: int, marker: str | None) -> tuple[float, float]:
    """(first run, median of the others) in milliseconds."""
    times = []
    for _ in range(runs + 1):
        with tempfile.TemporaryDirectory(prefix="walleo-measure-") as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("WALLEO_", "XDG_"))}
            for name in ("DATA", "CONFIG", "CACHE", "STATE"):
                env[f"XDG_{name}_HOME"] = str(Path(tmp) / name.lower())
            env["XDG_RUNTIME_DIR"] = tmp
            env.setdefault("QT_QPA_PLATFORM", "offscreen")
            env["WALLEO_SMOKE_TEST"] = "1"
            args = [] if marker is None else ["--data-dir", str(Path(tmp) / "data")]
            times.append(time_to_line([*cmd, *args], env, marker, timeout=120) * 1000)
    return times[0], statistics.median(times[1:])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the first (5)")
    args = parser.parse_args(argv)
    if not EXE.exists():
        print(f"no bundle at {BUNDLE}: run packaging/build.sh first", file=sys.stderr)
        return 2

    venv = Path(sys.prefix)
    closure = runtime_closure()
    runtime = sum(distribution_size(name) for name in closure)
    # the standard library only: not the base interpreter's own site-packages nor its test suite
    stdlib_dir = Path(sysconfig.get_paths()["stdlib"])
    build_config = tuple(p.name for p in stdlib_dir.glob("config-*"))  # static libpython
    stdlib = tree_size(
        stdlib_dir,
        skip=(
            "site-packages",
            "test",
            "idlelib",
            "tkinter",
            "__pycache__",
            "ensurepip",
            *build_config,
        ),
    )
    print("Size")
    print(f"  bundle dist/walleo-desktop:              {tree_size(BUNDLE) / MB:7.1f} MB")
    print(f"  venv {venv} (all, test tools too): {tree_size(venv) / MB:7.1f} MB")
    print(f"  venv, the app's {len(closure)} runtime distributions:  {runtime / MB:7.1f} MB")
    print(f"  + the standard library it borrows:          {stdlib / MB:7.1f} MB")

    venv_cmd = [sys.executable, "-m", "walleo_desktop"]
    print(f"Start-up (ms; first run, then median of {args.runs}; offscreen, demo mode)")
    for label, cmd in (("bundle", [str(EXE)]), ("venv  ", venv_cmd)):
        first, median = measure(cmd, args.runs, "window shown")
        print(f"  {label} to first paint: first {first:6.0f}   median {median:6.0f}")
    for label, cmd in (("bundle", [str(EXE)]), ("venv  ", venv_cmd)):
        first, median = measure([*cmd, "--version"], args.runs, None)
        print(f"  {label} --version:       first {first:6.0f}   median {median:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
