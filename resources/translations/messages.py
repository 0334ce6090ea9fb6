"""Extract the window's translatable texts into a Qt Linguist ``.ts`` file, and compile ``.qm``.

Used by ``resources/update_translations.sh`` and by ``tests/test_i18n.py`` (which extracts into a
temporary copy of the committed ``.ts`` and fails on any text without a French translation).

``pyside6-lupdate`` finds ``self.tr("…")`` and ``QCoreApplication.translate("Context", "…")``,
but not the module-level helpers some modules use, shaped like::

    def _tr(text: str) -> str:
        return QCoreApplication.translate("PullTable", text)

Their texts would never reach the ``.ts`` (and so never be translated), so before extraction
each ``_tr("…")`` call is rewritten, in a temporary copy of the module, into the
``QCoreApplication.translate("PullTable", "…")`` call it stands for. The sources themselves are
never modified. Locations are left out of the ``.ts`` (``-locations none``): the file then only
changes when texts do, not whenever someone adds a line above one.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI_DIR = ROOT / "walleo_desktop" / "ui"
TS_DIR = ROOT / "resources" / "translations"
QM_DIR = ROOT / "walleo_desktop" / "resources" / "translations"
LANGUAGES = ("fr",)


def ts_file(language: str) -> Path:
    return TS_DIR / f"walleo_{language}.ts"


def qm_file(language: str) -> Path:
    return QM_DIR / f"walleo_{language}.qm"


def qt_tool(name: str) -> str:
    """``pyside6-<name>`` next to this Python, else on PATH, else the binary inside PySide6."""
    here = Path(sys.executable).parent / f"pyside6-{name}"
    if here.exists():
        return str(here)
    found = shutil.which(f"pyside6-{name}")
    if found:
        return found
    import PySide6

    inside = Path(PySide6.__file__).parent / name
    if inside.exists():
        return str(inside)
    raise FileNotFoundError(f"pyside6-{name} not found (it ships with PySide6-Essentials)")


def translate_helpers(tree: ast.Module) -> dict[str, str]:
    """Module-level ``def f(text): return QCoreApplication.translate("Ctx", text)`` → {f: Ctx}."""
    helpers: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and len(node.args.args) == 1):
            continue
        body = [n for n in node.body if not isinstance(n, ast.Expr)]  # skip a docstring
        if len(body) != 1 or not isinstance(body[0], ast.Return):
            continue
        call = body[0].value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "translate"
            and len(call.args) == 2
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and isinstance(call.args[1], ast.Name)
            and call.args[1].id == node.args.args[0].arg
        ):
            helpers[node.name] = call.args[0].value
    return helpers


def expand_helpers(source: str) -> str:
    """``source`` with every call of a translate helper spelled out as ``translate``."""
    tree = ast.parse(source)
    helpers = translate_helpers(tree)
    if not helpers:
        return source
    lines = source.splitlines(keepends=True)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in helpers
        and node.args
    ]
    # Right to left, bottom to top: earlier offsets stay valid.
    for call in sorted(calls, key=lambda c: (c.func.lineno, c.func.col_offset), reverse=True):
        func = call.func
        assert isinstance(func, ast.Name)
        line = lines[func.lineno - 1].encode()
        start, end = func.col_offset, func.end_col_offset
        assert end is not None
        replacement = f'QCoreApplication.translate("{helpers[func.id]}", '.encode()
        # "_tr(" -> 'QCoreApplication.translate("Ctx", ' (the "(" is part of what is replaced)
        if line[end : end + 1] != b"(":
            continue  # a space before "(": leave it; lupdate would not see it either way
        lines[func.lineno - 1] = (line[:start] + replacement + line[end + 1 :]).decode()
    return "".join(lines)


def sources() -> list[Path]:
    return sorted(UI_DIR.glob("*.py"))


def extract(ts: Path, *, files: list[Path] | None = None, drop_obsolete: bool = True) -> str:
    """Update ``ts`` (created if missing) with the texts of ``files``; returns lupdate's log."""
    with tempfile.TemporaryDirectory(prefix="walleo-lupdate-") as tmp:
        copies = []
        for path in files or sources():
            copy = Path(tmp) / path.name
            copy.write_text(expand_helpers(path.read_text(encoding="utf-8")), encoding="utf-8")
            copies.append(str(copy))
        cmd = [qt_tool("lupdate"), "-locations", "none", "-source-language", "en"]
        if drop_obsolete:
            cmd.append("-no-obsolete")
        cmd += [*copies, "-ts", str(ts)]
        # S603: PySide6's own lupdate, on copies of our sources.
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"lupdate failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout + done.stderr


def compile_qm(ts: Path, qm: Path) -> str:
    qm.parent.mkdir(parents=True, exist_ok=True)
    cmd = [qt_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
    if done.returncode != 0 or not qm.exists():
        raise RuntimeError(f"lrelease failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout + done.stderr


def main(argv: list[str]) -> int:
    for language in LANGUAGES:
        ts = ts_file(language)
        print(extract(ts).strip())
        compile_qm(ts, qm_file(language))
        print(f"compiled {qm_file(language).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
