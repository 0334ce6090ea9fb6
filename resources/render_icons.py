"""Render the application icon's PNG sizes from its SVG master, with QtSvg.

``python resources/render_icons.py`` (from anywhere; no display needed) writes:

- ``resources/icons/hicolor/<N>x<N>/apps/io.walleo.Desktop.png`` for N in 16..512, plus
  ``resources/icons/hicolor/scalable/apps/io.walleo.Desktop.svg``: the freedesktop icon theme
  layout, ready to copy under ``/usr/share/icons/hicolor`` (or ``~/.local/share/icons/hicolor``);
- ``walleo_desktop/resources/icons/``: the copies the app itself loads for its window and
  taskbar icon (the SVG and the PNGs up to 256 px, package data, so a wheel or a frozen bundle
  carries them and a missing SVG plugin never leaves the window without an icon).

The outputs are committed; ``tests/test_packaging.py`` fails when they no longer match the SVG.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.walleo.Desktop"
MASTER = ROOT / "resources" / "icons" / f"{APP_ID}.svg"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
PACKAGE_ICONS = ROOT / "walleo_desktop" / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PACKAGE_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int):  # -> QImage (imported lazily: Qt needs the env set first)
    """The icon at ``size`` × ``size`` pixels, on a transparent background."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG that QtSvg can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
    finally:
        painter.end()
    return image


def png_path(size: int) -> Path:
    return HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    scalable = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MASTER, scalable)
    PACKAGE_ICONS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MASTER, PACKAGE_ICONS / f"{APP_ID}.svg")
    for size in SIZES:
        image = render(MASTER, size)
        path = png_path(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        if size in PACKAGE_SIZES:
            shutil.copyfile(path, PACKAGE_ICONS / f"{APP_ID}-{size}.png")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
