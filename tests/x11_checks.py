"""Window checks that need a real X server: ``python tests/x11_checks.py CHECK``.

Run by tests/test_ui_window.py under a private Xvfb with the xcb platform, because some
behaviour exists only there: xcb's key bindings (Ctrl+E is "end of line" in a text field on
X11, not offscreen) and the title the window manager is given. Prints one line of JSON.
The environment (XDG dirs, DISPLAY, a keyring that stores nothing) comes from the test.
"""

from __future__ import annotations

import asyncio
import ctypes
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
from walleo_desktop.ui.app import configure_application
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


def x11_window_name(window_id: int) -> str:
    """``_NET_WM_NAME`` of an X window: the title a window manager shows (libX11, ctypes)."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    ulong, pointer = ctypes.c_ulong, ctypes.POINTER
    x11.XGetWindowProperty.argtypes = [
        ctypes.c_void_p,
        ulong,
        ulong,
        ctypes.c_long,
        ctypes.c_long,
        ctypes.c_int,
        ulong,
        pointer(ulong),
        pointer(ctypes.c_int),
        pointer(ulong),
        pointer(ulong),
        pointer(ctypes.c_void_p),
    ]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        raise RuntimeError("cannot open the X display")
    try:
        atom = x11.XInternAtom(display, b"_NET_WM_NAME", 0)
        kind, fmt, count, after = ulong(), ctypes.c_int(), ulong(), ulong()
        data = ctypes.c_void_p()
        status = x11.XGetWindowProperty(
            display, window_id, atom, 0, 4096, 0, 0, kind, fmt, count, after, data
        )
        if status != 0 or not data.value:
            return ""
        try:
            return ctypes.string_at(data.value, count.value).decode("utf-8")
        finally:
            x11.XFree(data)
    finally:
        x11.XCloseDisplay(display)


async def title(window: MainWindow) -> dict[str, object]:
    """The window's title as Qt has it and as X11 (the window manager) is given it."""
    await asyncio.sleep(0.3)  # the xcb connection is flushed when the loop idles
    return {"title": window.windowTitle(), "x11_title": x11_window_name(int(window.winId()))}


CHECKS = {"export": export_from_text_fields, "title": title}


async def run(check: str) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="walleo-x11-"))
    session = await Session.open(DEMO, tmp / "data")
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
    configure_application(app, "en")  # name, icon, language: as walleo-desktop does
    app.setQuitOnLastWindowClosed(False)
    result = asyncio.run(run(check), loop_factory=lambda: qasync.QEventLoop(app))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
