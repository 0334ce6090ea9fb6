"""Window checks that need a real X server: ``python tests/x11_checks.py CHECK``.

Run by tests/test_ui_window.py under a private Xvfb with the xcb platform, because some
behaviour exists only there: xcb's key bindings (Ctrl+E is "end of line" in a text field on
X11, not offscreen) and the title the window manager is given. Prints one line of JSON.
The environment (XDG dirs, DISPLAY, a keyring that stores nothing) comes from the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from walleo_desktop.engine import Connection, Session
from walleo_desktop.ui.main_window import MainWindow

DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)


async def until(predicate, timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def focus(window: MainWindow, widget: QWidget) -> bool:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    return await until(lambda: QApplication.focusWidget() is widget, 5)


async def export_from_text_fields(window: MainWindow) -> dict[str, object]:
    """Ctrl+E (View → Export the history…) with the focus in two text fields."""
    result: dict[str, object] = {}
    view = window.show_history()
    for name, field in (("search", view.filters.search), ("reference", window.form.reference)):
        if name == "reference":
            window.live_action.trigger()
        result[f"{name}_focused"] = await focus(window, field)
        field.setText("ABC-1")
        field.setCursorPosition(0)
        QTest.keyClick(field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        dialog = view._dialog
        result[name] = dialog is not None and dialog.isVisible()
        result[f"{name}_text"] = field.text()
        if dialog is not None:
            dialog.reject()
            await until(lambda: view._dialog is None, 5)
    return result


CHECKS = {"export": export_from_text_fields}


async def run(check: str) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="walleo-x11-"))
    session = Session.open(DEMO, tmp / "data")
    window = MainWindow(session, settings=QSettings(str(tmp / "w.ini"), QSettings.Format.IniFormat))
    try:
        window.show()
        window.activateWindow()
        active = await until(window.isActiveWindow, 10)
        result = {"active": active, **await CHECKS[check](window)}
    finally:
        window.close()
        await window.shutdown()
        await session.close()
    return result


def main() -> int:
    check = sys.argv[1]
    assert os.environ.get("QT_QPA_PLATFORM") == "xcb", "run under xcb"
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    result = asyncio.run(run(check), loop_factory=lambda: qasync.QEventLoop(app))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
