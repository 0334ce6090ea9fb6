"""Shipping like a desktop app: desktop entry, AppStream metadata, icons, and the frozen bundle.

The ``slow`` tests build ``dist/walleo-desktop/`` with ``packaging/build.sh`` when it is missing
or was built from other sources (``packaging/fingerprint.py``), then run the bundled binary as a
user would: ``--version``, a headless command, the window (offscreen and, when Xvfb is there,
under X11), and the bundled simulator serving a card PDF. CI runs them all.
"""

from __future__ import annotations

import asyncio
import configparser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from walleo_desktop import APP_ID, APP_NAME, __version__

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
DESKTOP_FILE = RESOURCES / f"{APP_ID}.desktop"
METAINFO = RESOURCES / f"{APP_ID}.metainfo.xml"
SCRIPT = "walleo-desktop"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- desktop integration


def _validator(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (Debian: apt-get install "
            f"{'desktop-file-utils' if name == 'desktop-file-validate' else 'appstream'}; "
            "scripts/bootstrap.sh --test installs it)"
        )
    return path


def test_desktop_file_is_valid():
    done = subprocess.run(
        [_validator("desktop-file-validate"), str(DESKTOP_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output


def test_metainfo_is_valid():
    done = subprocess.run(
        [_validator("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # errors and warnings both fail


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_metainfo_and_app_agree():
    entry = _desktop_entry()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert SCRIPT in scripts
    assert entry["Name"] == APP_NAME
    assert entry["Icon"] == APP_ID  # the icon theme name of resources/icons/hicolor/*
    assert entry["Exec"].split()[0] == SCRIPT
    assert entry["StartupWMClass"] == SCRIPT  # X11 instance name: the executable's
    component = ET.parse(METAINFO).getroot()  # noqa: S314  (our own committed file)
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == DESKTOP_FILE.name
    assert component.findtext("provides/binary") == SCRIPT
    assert component.findtext("icon") == APP_ID
    releases = [r.get("version") for r in component.iter("release")]
    assert releases and releases[0] == __version__, (
        f"add a <release version={__version__!r}> on top of {METAINFO.name}"
    )


# ------------------------------------------------------------------------- icons

render_icons = _load(RESOURCES / "render_icons.py", "render_icons")


def _difference(a, b) -> float:
    """Mean absolute difference per channel, 0..255, of two same-sized images."""
    from PySide6.QtGui import QImage

    a = a.convertToFormat(QImage.Format.Format_ARGB32)
    b = b.convertToFormat(QImage.Format.Format_ARGB32)
    assert a.size() == b.size()
    da, db = bytes(a.constBits()), bytes(b.constBits())
    return sum(abs(x - y) for x, y in zip(da, db, strict=True)) / len(da)


def test_icon_pngs_are_rendered_from_the_svg(qapp):
    """The committed PNGs match the SVG master (run resources/render_icons.py after editing it),
    and the app's own copies match the theme ones."""
    from PySide6.QtGui import QImage

    master = render_icons.MASTER.read_bytes()
    assert (render_icons.HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg").read_bytes() == master
    assert (render_icons.PACKAGE_ICONS / f"{APP_ID}.svg").read_bytes() == master
    for size in render_icons.SIZES:
        path = render_icons.png_path(size)
        committed = QImage(str(path))
        assert not committed.isNull(), f"{path} is missing: run resources/render_icons.py"
        assert (committed.width(), committed.height()) == (size, size)
        assert committed.hasAlphaChannel()
        fresh = render_icons.render(render_icons.MASTER, size)
        assert _difference(committed, fresh) < 0.5, f"{path} is stale: run render_icons.py"
        if size in render_icons.PACKAGE_SIZES:
            copy = render_icons.PACKAGE_ICONS / f"{APP_ID}-{size}.png"
            assert copy.read_bytes() == path.read_bytes()


def test_app_icon_has_every_size(qapp):
    from PySide6.QtCore import QSize

    from walleo_desktop.ui.about_dialog import app_icon

    icon = app_icon()
    assert not icon.isNull()
    for size in (16, 32, 48, 256):
        assert icon.pixmap(QSize(size, size)).width() == size


def test_about_dialog_shows_version_folders_and_copies_details(qtbot, tmp_path, isolated_dirs):
    from PySide6.QtGui import QGuiApplication

    from walleo_desktop.ui.about_dialog import AboutDialog

    dialog = AboutDialog(data_dir=tmp_path / "data", environment="DEMO")
    qtbot.addWidget(dialog)
    dialog.open()  # never exec(): the app runs on a qasync loop
    assert dialog.isVisible() and dialog.windowTitle() == f"About {APP_NAME}"
    assert __version__ in dialog.version_label.text()
    assert dialog.data_label.text() == str(tmp_path / "data")
    for label in (dialog.log_label, dialog.config_label):  # the user's dirs, under XDG here
        assert Path(label.text()).is_relative_to(isolated_dirs)
        assert label.accessibleName()
    assert "Proprietary" in dialog.licence_label.text()
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.details()
    for expected in (__version__, str(tmp_path / "data"), dialog.log_label.text(), "Qt 6."):
        assert expected in copied
    assert dialog.copied_label.text()
    dialog.reject()
    assert not dialog.isVisible()


async def test_help_about_opens_the_about_dialog(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from walleo_desktop.engine import Connection, Session
    from walleo_desktop.ui.about_dialog import AboutDialog
    from walleo_desktop.ui.main_window import MainWindow

    demo = Connection(profile="demo", base_url="", credentials=None, demo=True)
    session = await Session.open(demo, tmp_path / "data", simulator_delay_scale=0.01)
    ini = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=ini)
    qtbot.addWidget(window)
    try:
        window.about_action.trigger()
        dialogs = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
        assert len(dialogs) == 1
        assert dialogs[0].isModal()  # open() on a parented dialog: window-modal, no nested loop
        assert dialogs[0].data_label.text() == str(tmp_path / "data")
        dialogs[0].reject()  # the window then deletes it (deleteLater)
        del dialogs  # no Python reference may outlive the C++ dialog (shiboken crashes)
        await asyncio.sleep(0.05)
        assert not window.findChildren(AboutDialog)
    finally:
        window.close()
        await window.shutdown()
        await session.close()


def test_version_option_prints_the_project_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert project == __version__
    done = subprocess.run(
        [sys.executable, "-m", "walleo_desktop", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{SCRIPT} {__version__}"


# ------------------------------------------------------------------------- the frozen bundle

fingerprint = _load(ROOT / "packaging" / "fingerprint.py", "walleo_fingerprint")
EXE = fingerprint.BUNDLE / (f"{SCRIPT}.exe" if sys.platform == "win32" else SCRIPT)
BUILD_TIMEOUT = 900


@pytest.fixture(scope="session")
def bundle() -> Path:
    """dist/walleo-desktop/walleo-desktop, built first when missing or stale."""
    if not fingerprint.is_current():
        if importlib.util.find_spec("PyInstaller") is None:
            pytest.fail("PyInstaller is missing: pip install -e '.[test]'")
        done = subprocess.run(
            ["bash", str(ROOT / "packaging" / "build.sh")],
            env={**os.environ, "PYTHON": sys.executable},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        if done.returncode != 0:
            pytest.fail(f"packaging/build.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        assert fingerprint.is_current(), "the build did not leave a current bundle"
    return EXE


def bundle_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no venv, no source tree, no credentials, a fresh home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WALLEO_", "PYTHON", "XDG_", "QT_")) and k != "VIRTUAL_ENV"
    }
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        path = tmp_path / "home" / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(path)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "home")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def run_bundle(exe: Path, args: list[str], env: dict[str, str], timeout: float = 120):
    return subprocess.run(
        [str(exe), *args],
        env=env,
        cwd=env["XDG_RUNTIME_DIR"],  # not the repository: nothing may come from the source tree
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_prints_the_version(bundle, tmp_path):
    done = run_bundle(bundle, ["--version"], bundle_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{SCRIPT} {__version__}"


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_contents(bundle):
    internal = bundle.parent / "_internal"
    qt = internal / "PySide6" / "Qt"
    plugins = qt / "plugins"
    for plugin in (
        "platforms/libqoffscreen.so",
        "platforms/libqxcb.so",
        "platforms/libqwayland.so",
        "imageformats/libqsvg.so",
        "iconengines/libqsvgicon.so",
    ):
        assert (plugins / plugin).exists(), plugin
    for lib in ("libQt6Pdf.so.6", "libQt6PdfWidgets.so.6", "libQt6Svg.so.6"):
        assert (qt / "lib" / lib).exists(), lib
    assert (qt / "translations" / "qtbase_fr.qm").exists()
    package = internal / "walleo_desktop"
    assert (package / "simulator" / "catalog.json").exists()
    assert (package / "resources" / "translations" / "walleo_fr.qm").exists()
    assert (package / "resources" / "icons" / f"{APP_ID}.svg").exists()
    assert list((internal / "reportlab" / "fonts").glob("*.ttf")), "reportlab's fonts"
    # Not needed at run time, so not shipped (sqlite-utils only imports pip in its own CLI).
    assert not (internal / "pip").exists()
    assert not list(internal.rglob("*WebEngine*"))
    assert not (plugins / "platformthemes" / "libqgtk3.so").exists()


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_catalog_headless_in_demo_mode(bundle, tmp_path):
    done = run_bundle(
        bundle, ["--data-dir", str(tmp_path / "data"), "catalog", "--json"], bundle_env(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    cards = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(cards) >= 10 and all(card["code"] and card["name"] for card in cards)
    assert "demo mode" in done.stderr


def _assert_window_shown(done: subprocess.CompletedProcess[str], title: str) -> None:
    assert done.returncode == 0, done.stderr
    assert f"window shown: {title}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "Cannot load library" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_window_starts_offscreen_in_french(bundle, tmp_path):
    env = bundle_env(tmp_path, WALLEO_SMOKE_TEST="1")
    args = ["--data-dir", str(tmp_path / "data"), "--language", "fr"]
    done = run_bundle(bundle, args, env)
    _assert_window_shown(done, f"{APP_NAME} — DÉMO")  # the French catalogue was loaded
    assert (tmp_path / "data" / "demo-history.sqlite3").exists()


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_window_starts_under_x11(bundle, tmp_path):
    """The xcb platform plugin and the X libraries it needs are in the bundle."""
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is not installed (scripts/bootstrap.sh --test installs xvfb)")
    env = bundle_env(tmp_path, WALLEO_SMOKE_TEST="1", QT_QPA_PLATFORM="xcb")
    env.pop("DISPLAY", None)
    screen = "-screen 0 1280x800x24"
    args = ["--language", "en", "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(
        [xvfb_run, "-a", "-s", screen, str(bundle), *args],
        env=env,
        cwd=env["XDG_RUNTIME_DIR"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_window_shown(done, f"{APP_NAME} — DEMO")


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_bundle_simulator_issues_a_card_with_its_pdf(bundle, tmp_path):
    """The bundled simulator (uvicorn, starlette, reportlab and its fonts) serves a card PDF to
    the bundled CLI: the demo mode's whole chain, frozen."""
    import httpx

    from walleo_desktop.simulator._catalog import load_catalog

    brand = next(
        b for b in load_catalog() if b.facial_values["type"] == "fixed" and b.async_error_rate == 0
    )
    env = bundle_env(tmp_path)
    server = subprocess.Popen(
        [str(bundle), "simulator", "--port", "0", "--delay-scale", "0.05"],
        env=env,
        cwd=env["XDG_RUNTIME_DIR"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first)
        assert match, first
        base_url = match.group(1)
        amount = str(brand.facial_values["amounts"][0])
        pull = run_bundle(
            bundle,
            ["--data-dir", str(tmp_path / "data"), "pull", brand.code, amount, "--json"],
            {**env, "WALLEO_BASE_URL": base_url},  # a local simulator: demo credentials
        )
        assert pull.returncode == 0, pull.stderr
        card = json.loads(pull.stdout.splitlines()[0])["card"]
        response = httpx.get(card["pdf_url"], timeout=30)
        assert response.status_code == 200, response.text[:2000]
        assert response.content.startswith(b"%PDF-")
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
