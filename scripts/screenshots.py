"""Screenshots of the real window, for the docs: ``python scripts/screenshots.py [OUT_DIR]``.

Runs the actual ``MainWindow`` on a demo session (the built-in simulator, real engine, real
store in a throw-away directory), issues a few pulls through the pull form, and saves:

- ``window-mid-pull.png``: pulls still waiting or processing, a rejected one selected;
- ``card-pane.png``: a successful card selected in the card pane.

Headless by default (``QT_QPA_PLATFORM=offscreen``, with a 1600×1000 virtual screen so the
1280×800 window is not clamped); set ``QT_QPA_PLATFORM=xcb`` under Xvfb for the real thing.
Nothing touches the user's profile: data and settings live in a temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)

log = logging.getLogger("screenshots")


def _prepare_environment(tmp: Path) -> None:
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        os.environ[f"XDG_{name}_HOME"] = str(path)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp))
    if "QT_QPA_PLATFORM" not in os.environ:
        config = tmp / "offscreen.json"
        screen = {"name": "Offscreen", "x": 0, "y": 0, "width": 1600, "height": 1000}
        screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        config.write_text(json.dumps({"screens": [screen]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    sys.path.insert(0, str(ROOT))


async def _wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def issue_through_form(
    form: Any, code: str, amount: int, count: int = 1, reference: str = ""
) -> list[Any]:
    """Fill the real pull form and confirm, as an agent would (no engine shortcut); the pulls
    once journaled (the form journals on the database thread and says so with ``submitted``;
    its fields stay disabled until then, so the next order waits for this one)."""
    form.brand.setCurrentIndex(form.brand.findData(code))
    if form.amount.currentWidget() is form.amount_choice:
        form.amount_choice.setCurrentIndex(form.amount_choice.findData(amount))
    else:
        form.amount_spin.setValue(amount)
    form.quantity.setValue(count)
    form.reference.setText(reference)
    if not form.request_confirmation():
        raise RuntimeError(form.form_error.text())
    journaled: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

    def on_submitted(pulls: list[Any]) -> None:
        if not journaled.done():
            journaled.set_result(list(pulls))

    form.submitted.connect(on_submitted)
    try:
        form.confirm()
        return await asyncio.wait_for(journaled, 10)
    except TimeoutError:
        problem = form.form_error.text()
        raise RuntimeError(f"the form did not journal the order: {problem}") from None
    finally:
        form.submitted.disconnect(on_submitted)


async def _shoot(out: Path, tmp: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from walleo_desktop.engine import Connection, PollPolicy, Session
    from walleo_desktop.store.records import PullRecord, PullState
    from walleo_desktop.ui.main_window import MainWindow

    demo = Connection(profile="demo", base_url="", credentials=None, demo=True)
    # Brand delays as in the demo (1.5 to 6 s); polls a little quicker than Walleo's guidance.
    policy = PollPolicy(first_check=1.0, min_interval=1.5, max_interval=2.5, slow_interval=10.0)
    session = await Session.open(demo, tmp / "data", policy=policy, agent="alice")
    session.simulator.config.async_error_rate = 0.0  # the demo's random failures: not here
    settings = QSettings(str(tmp / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, recent=await session.store.recent_pulls(500))
    window.resize(*SIZE)
    window.show()
    form = window.form
    try:
        await window.start()
        await _wait(lambda: form.brand.count() > 0, 10, "the catalog")

        async def issue(
            code: str, amount: int, count: int = 1, reference: str = ""
        ) -> list[PullRecord]:
            return await issue_through_form(form, code, amount, count, reference)

        done = await issue("FNAC", 50, reference="TCK-20931")
        done += await issue("GOOGLE-PLAY", 25, 2, reference="TCK-20932")
        done += await issue("DECATHLON", 30, reference="TCK-20935")
        await _wait(
            lambda: all((p := window.model.pull(d.id)) and p.final for d in done), 20, "first pulls"
        )
        (rejected,) = await issue("SPOTIFY", 60, reference="TCK-20940")  # no stock at 60
        await issue("LEROY-MERLIN", 100, 3, reference="TCK-20941")
        await issue("IKEA", 75, reference="TCK-20944")
        await issue("BOULANGER", 200, reference="TCK-20945")
        await _wait(
            lambda: (p := window.model.pull(rejected.id)) and p.state is PullState.REJECTED,
            10,
            "the rejection",
        )
        await asyncio.sleep(1.3)  # some checks answered "waiting", some "processing"
        window.table.select_pull(rejected.id)
        window.form.brand.setCurrentIndex(window.form.brand.findData("SEPHORA"))
        window.form.amount_choice.setCurrentIndex(window.form.amount_choice.findData(50))
        window.form.quantity.setValue(2)
        window.form.reference.setText("TCK-20950")
        await asyncio.sleep(0.6)  # stock hint, batch flush
        window.form.request_confirmation()  # the agent pressed Enter: the review is showing
        QApplication.processEvents()
        _save(window, out / "window-mid-pull.png")
        window.form.cancel_confirmation()
        window.form.reference.clear()
        window.form.quantity.setValue(1)

        await _wait(lambda: session.engine.in_flight == 0, 30, "every pull to finish")
        window.table.select_pull(done[0].id)
        await asyncio.sleep(0.3)
        pdf = window.card_pane.pdf
        await _wait(lambda: pdf.pdf_path is not None, 10, "the card's PDF")
        pdf.show_button.setChecked(True)  # the agent pressed "Show PDF"
        window.grab()  # the first paint asks for the page image, rendered in the background
        await asyncio.sleep(1.0)
        QApplication.processEvents()
        _save(window, out / "card-pane.png")
    finally:
        window.close()
        await window.shutdown()
        await session.close()


def _save(window: object, path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    assert isinstance(window, QWidget)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    log.info("wrote %s", path)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(argv[1]).resolve() if len(argv) > 1 else DEFAULT_OUT
    with tempfile.TemporaryDirectory(prefix="walleo-shots-") as name:
        tmp = Path(name)
        _prepare_environment(tmp)
        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        app.setApplicationName("Walleo Desktop")
        app.setOrganizationName("Walleo")
        # As the app does (ui/app.py): closing the window must not stop the loop before the
        # window's shutdown and the session's close have run.
        app.setQuitOnLastWindowClosed(False)
        asyncio.run(_shoot(out, tmp), loop_factory=lambda: qasync.QEventLoop(app))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
