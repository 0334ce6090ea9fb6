"""Screenshots of the real app at 200 % scaling and in a dark palette, to check both by eye.

    python scripts/screenshots_extra.py [OUT_DIR] [--language fr] [--only 200pct|dark]

Saves ``window-200pct.png`` (``QT_SCALE_FACTOR=2``) and ``window-dark.png`` (Fusion style with a
dark ``QPalette``, as a dark desktop theme gives) to ``docs/screenshots/`` by default. Each shot
runs in its own process (the scale factor is read when Qt starts) through the app's real start-up,
``walleo_desktop.ui.app.run``: demo mode on the built-in simulator, a throw-away data and config
directory, the window's icon and translator as users get them. A few pulls are issued through
the pull form, one successful card is selected, then the window is grabbed and closed.

Headless by default (offscreen, on a virtual screen big enough for the window at 2×); set
``QT_QPA_PLATFORM=xcb`` under Xvfb for the real thing. ``WALLEO_SHOTS_ABOUT=1`` also saves the
About dialog (``window-<variant>-about.png``), for a look.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from screenshots import _wait, issue_through_form  # the sibling script's helpers

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)  # logical pixels, as in scripts/screenshots.py
VARIANTS = {
    "200pct": {"QT_SCALE_FACTOR": "2"},
    "dark": {},
}

log = logging.getLogger("screenshots_extra")


def dark_palette():  # -> QPalette
    """Fusion's usual dark palette: what a dark KDE/GNOME/Windows theme hands a Qt app."""
    from PySide6.QtGui import QColor, QPalette

    window, base, text, mid = QColor("#2b2b2b"), QColor("#1e1e1e"), QColor("#e8e8e8"), "#3a3a3a"
    disabled = QColor("#7f7f7f")
    highlight = QColor("#3d8ee6")
    p = QPalette()
    Role, Group = QPalette.ColorRole, QPalette.ColorGroup
    p.setColor(Role.Window, window)
    p.setColor(Role.WindowText, text)
    p.setColor(Role.Base, base)
    p.setColor(Role.AlternateBase, QColor("#262626"))
    p.setColor(Role.ToolTipBase, QColor("#3c3c3c"))
    p.setColor(Role.ToolTipText, text)
    p.setColor(Role.PlaceholderText, QColor("#9a9a9a"))
    p.setColor(Role.Text, text)
    p.setColor(Role.Button, QColor(mid))
    p.setColor(Role.ButtonText, text)
    p.setColor(Role.BrightText, QColor("#ff5c5c"))
    p.setColor(Role.Link, QColor("#6cb4ff"))
    p.setColor(Role.LinkVisited, QColor("#b48cff"))
    p.setColor(Role.Highlight, highlight)
    p.setColor(Role.HighlightedText, QColor("#ffffff"))
    p.setColor(Role.Light, QColor("#505050"))
    p.setColor(Role.Midlight, QColor("#444444"))
    p.setColor(Role.Mid, QColor("#303030"))
    p.setColor(Role.Dark, QColor("#1a1a1a"))
    p.setColor(Role.Shadow, QColor("#000000"))
    for role in (Role.WindowText, Role.Text, Role.ButtonText, Role.HighlightedText):
        p.setColor(Group.Disabled, role, disabled)
    p.setColor(Group.Disabled, Role.Highlight, QColor("#505050"))
    return p


def _prepare_environment(tmp: Path, variant: str) -> None:
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        os.environ[f"XDG_{name}_HOME"] = str(path)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp)
    for key in ("WALLEO_BASE_URL", "WALLEO_API_KEY", "WALLEO_IDENTIFIER", "WALLEO_SHARED_KEY"):
        os.environ.pop(key, None)  # demo mode, whatever the developer's shell has
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ.update(VARIANTS[variant])
    if "QT_QPA_PLATFORM" not in os.environ:
        # A virtual screen in device pixels: at 2x the 1280x800 window needs 2560x1600.
        config = tmp / "offscreen.json"
        screen = {"name": "Offscreen", "x": 0, "y": 0, "width": 2800, "height": 1800}
        screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        config.write_text(json.dumps({"screens": [screen]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    sys.path.insert(0, str(ROOT))


async def _drive(out: Path, scene: str, problems: list[BaseException]) -> None:
    """Find the window the app opened, use it like an agent would, grab it, close it.

    ``scene``: ``card`` shows a successful card in the card pane; ``review`` shows a rejected
    pull's explanation and the pull form's confirmation panel (the coloured parts).
    """
    from PySide6.QtWidgets import QApplication

    from walleo_desktop.store.records import PullState
    from walleo_desktop.ui.main_window import MainWindow

    window = None
    try:

        def found() -> MainWindow | None:
            for widget in QApplication.topLevelWidgets():
                if isinstance(widget, MainWindow) and widget.isVisible():
                    return widget
            return None

        await _wait(found, 20, "the main window")
        window = found()
        assert window is not None
        window.resize(*SIZE)
        form = window.form
        await _wait(lambda: form.brand.count() > 0, 20, "the catalog")

        async def issue(code: str, amount: int, count: int = 1, reference: str = "") -> list:
            return await issue_through_form(form, code, amount, count, reference)

        first = await issue("FNAC", 50, reference="TCK-20931")
        await issue("GOOGLE-PLAY", 25, 2, reference="TCK-20932")
        (rejected,) = await issue("SPOTIFY", 60, reference="TCK-20940")  # no stock at 60
        await issue("LEROY-MERLIN", 100, 2, reference="TCK-20941")
        pull_id = first[0].id
        await _wait(
            lambda: (p := window.model.pull(pull_id)) and p.state is PullState.SUCCESS,
            30,
            "the first card",
        )
        await asyncio.sleep(1.5)  # a few more states change
        window.table.select_pull(rejected.id if scene == "review" else pull_id)
        await asyncio.sleep(0.5)
        form.brand.setCurrentIndex(form.brand.findData("SEPHORA"))
        form.reference.setText("TCK-20950")
        await asyncio.sleep(0.6)  # stock hint
        if scene == "review":
            form.request_confirmation()  # the agent pressed Enter: the review is showing
        QApplication.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out)):
            raise OSError(f"could not write {out}")
        log.info("wrote %s", out)
        if os.environ.get("WALLEO_SHOTS_ABOUT"):  # the About dialog too, for a look
            window.about_action.trigger()
            await asyncio.sleep(0.3)
            for widget in QApplication.topLevelWidgets():
                if widget.objectName() == "aboutDialog" and widget.isVisible():
                    about = out.with_name(out.stem + "-about.png")
                    widget.grab().save(str(about))
                    log.info("wrote %s", about)
                    widget.close()
    except BaseException as exc:  # reported by the caller; the window must still close
        problems.append(exc)
    finally:
        if window is not None:
            window.close()


def shoot(variant: str, out_dir: Path, language: str) -> int:
    """One screenshot, in this process (called in a child process per variant)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="walleo-shots-") as name:
        tmp = Path(name)
        _prepare_environment(tmp, variant)
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        from walleo_desktop.cli import build_parser
        from walleo_desktop.ui.app import run

        app = QApplication([sys.argv[0]])
        if variant == "dark":
            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        suffix = "" if language == "en" else f"-{language}"
        scene = "review" if variant == "dark" else "card"
        out = out_dir / f"window-{variant}{suffix}.png"
        problems: list[BaseException] = []
        tasks: list[asyncio.Task[None]] = []
        # Once run() has its loop going, drive the window it opens.
        QTimer.singleShot(
            0, lambda: tasks.append(asyncio.ensure_future(_drive(out, scene, problems)))
        )
        args = build_parser().parse_args(["--data-dir", str(tmp / "data"), "--language", language])
        code = run(args)
        if problems:
            raise problems[0]
        return code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--language", choices=["en", "fr"], default="en")
    parser.add_argument("--only", choices=sorted(VARIANTS))
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.variant:  # the child process
        return shoot(args.variant, out, args.language)
    status = 0
    for variant in [args.only] if args.only else list(VARIANTS):
        cmd = [sys.executable, __file__, str(out), "--variant", variant]
        cmd += ["--language", args.language]
        # S603: this very script, with fixed arguments.
        done = subprocess.run(cmd, check=False, timeout=180)  # noqa: S603
        status = status or done.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
