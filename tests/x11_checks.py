"""Window checks that need a real X server: ``python tests/x11_checks.py CHECK [LANGUAGE]``.

Run by tests/test_ui_window.py under a private Xvfb (1366×768) with the xcb platform, because
some behaviour exists only there: xcb's key bindings (Ctrl+E is "end of line" in a text field on
X11, not offscreen), the title the window manager is given, and the window at its default size
on a real 1366 px screen (offscreen's is 800 px). Prints one line of JSON. The environment (XDG
dirs, DISPLAY, a keyring that stores nothing) comes from the test.
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

from walleo_desktop.engine import Connection, PollPolicy, Session
from walleo_desktop.store.records import PullState
from walleo_desktop.ui.app import configure_application
from walleo_desktop.ui.main_window import MainWindow

DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)


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


def _inside(widget: QWidget, container: QWidget) -> bool:
    corner = widget.mapTo(container, widget.rect().bottomRight())
    return container.rect().contains(corner)


async def default_layout(window: MainWindow) -> dict[str, object]:
    """The window at its default size, a card shown: what does not fit, or is cut."""
    from walleo_desktop.ui.pull_table_model import Columns

    form, table, pane = window.form, window.table, window.card_pane
    placeholder = form.brand.lineEdit().placeholderText()
    placeholder_fits = (
        form.brand.lineEdit().fontMetrics().horizontalAdvance(placeholder)
        <= form.brand.lineEdit().width() - 12  # its frame and margins
    )
    card = window._session.catalog.find("FNAC")
    assert card is not None
    (pull,) = await window._session.engine.submit(card, 50)
    await until(
        lambda: (p := window.model.pull(pull.id)) is not None and p.state is PullState.SUCCESS
    )
    table.select_pull(pull.id)
    await until(lambda: pane.pdf.state == "ready", 10)
    await asyncio.sleep(0.2)
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    cut = [
        str(window.model.headerData(c, Qt.Orientation.Horizontal))
        for c in Columns
        if metrics.horizontalAdvance(str(window.model.headerData(c, Qt.Orientation.Horizontal))) + 8
        > header.sectionSize(c)
    ]
    screen = window.screen().availableGeometry()
    return {
        "width": window.frameGeometry().width(),
        "screen_width": screen.width(),
        "cut_titles": cut,
        "placeholder": placeholder,
        "placeholder_fits": placeholder_fits,
        "pdf_buttons_inside": all(
            _inside(b, pane) for b in (pane.pdf.save_button, pane.pdf.open_button)
        ),
        "card_pane_inside": _inside(pane, window),
    }


CHECKS = {"export": export_from_text_fields, "title": title, "default_layout": default_layout}


async def run(check: str) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="walleo-x11-"))
    session = await Session.open(DEMO, tmp / "data", simulator_delay_scale=0.01, policy=FAST)
    session.simulator.config.async_error_rate = 0.0
    window = MainWindow(session, settings=QSettings(str(tmp / "w.ini"), QSettings.Format.IniFormat))
    try:
        window.show()
        window.activateWindow()
        active = await until(window.isActiveWindow, 10)
        await window.start()
        await until(lambda: window.form.brand.count() > 0)
        result = {"active": active, **await CHECKS[check](window)}
    finally:
        window.close()
        await window.shutdown()
        await session.close()
    return result


def main() -> int:
    check = sys.argv[1]
    language = sys.argv[2] if len(sys.argv) > 2 else "en"
    assert os.environ.get("QT_QPA_PLATFORM") == "xcb", "run under xcb"
    app = QApplication(sys.argv[:1])
    configure_application(app, language)  # name, icon, language: as walleo-desktop does
    app.setQuitOnLastWindowClosed(False)
    result = asyncio.run(run(check), loop_factory=lambda: qasync.QEventLoop(app))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
