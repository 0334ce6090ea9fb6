"""Help → About: version, where the app keeps its files, and a "Copy details" for support.

Support's first questions are always the same (which version, which system, where are the logs),
so the answers are one click away: "Copy details" puts them on the clipboard as plain text.
Nothing secret is in them: no credentials, no card codes, only paths and versions.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QLocale, QSize, Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop import APP_NAME, __version__
from walleo_desktop.engine.profiles import default_config_dir
from walleo_desktop.logs import default_log_dir
from walleo_desktop.store import default_data_dir
from walleo_desktop.ui.icons import app_icon  # here for the callers that knew it here

__all__ = ["AboutDialog", "app_icon"]


class AboutDialog(QDialog):
    """Version, data/log/config directories, licence, and a "Copy details" button.

    Open it with ``open()`` (never ``exec()``: the window runs on a qasync loop).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        data_dir: Path | None = None,
        environment: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About {app}").format(app=APP_NAME))
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.log_dir = default_log_dir()
        self.config_dir = default_config_dir()
        self.environment = environment

        icon = QLabel(self)
        icon.setObjectName("aboutIcon")
        icon.setPixmap(app_icon().pixmap(QSize(64, 64)))
        icon.setAccessibleName(self.tr("{app} icon").format(app=APP_NAME))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<b>{APP_NAME}</b>", self)
        title.setObjectName("aboutTitle")
        title.setTextFormat(Qt.TextFormat.RichText)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        title.setFont(font)
        self.version_label = QLabel(self.tr("Version {version}").format(version=__version__), self)
        self.version_label.setObjectName("aboutVersion")
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        summary = QLabel(self.tr("Issue, track and reconcile Walleo gift cards."), self)
        summary.setWordWrap(True)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(title)
        heading.addWidget(self.version_label)
        heading.addWidget(summary)
        top = QHBoxLayout()
        top.setSpacing(16)
        top.addWidget(icon)
        top.addLayout(heading, 1)

        self.data_label = self._path_label(self.data_dir, "aboutDataDir")
        self.log_label = self._path_label(self.log_dir, "aboutLogDir")
        self.config_label = self._path_label(self.config_dir, "aboutConfigDir")
        places = QFormLayout()
        places.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        places.addRow(*self._buddy(self.tr("&History and cards:"), self.data_label))
        places.addRow(*self._buddy(self.tr("&Logs:"), self.log_label))
        places.addRow(*self._buddy(self.tr("&Settings:"), self.config_label))
        if environment:
            places.addRow(self.tr("Connection:"), QLabel(environment, self))

        self.licence_label = QLabel(
            self.tr(
                "Proprietary software © Walleo. All rights reserved. "
                "Built with Qt {qt} and PySide6 {pyside} (LGPL v3)."
            ).format(qt=qVersion(), pyside=pyside_version),
            self,
        )
        self.licence_label.setObjectName("aboutLicence")
        self.licence_label.setWordWrap(True)
        small = self.licence_label.font()  # small print, but the normal colour: still readable
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.licence_label.setFont(small)

        self.copy_button = QPushButton(self.tr("&Copy details"), self)
        self.copy_button.setObjectName("copyDetails")
        self.copy_button.setToolTip(
            self.tr("Copy the version, system and folders, to paste into a message to support")
        )
        self.copy_button.clicked.connect(self.copy_details)
        self.copied_label = QLabel(self)
        self.copied_label.setObjectName("aboutCopied")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setFocus()  # not the first path label: no text cursor blinking in it

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addLayout(places)
        layout.addWidget(self.licence_label)
        layout.addWidget(self.copied_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def _path_label(self, path: Path, name: str) -> QLabel:
        label = QLabel(str(path), self)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reachable with Tab, to select text
        return label

    def _buddy(self, text: str, field: QLabel) -> tuple[QLabel, QLabel]:
        label = QLabel(text, self)
        label.setBuddy(field)
        field.setAccessibleName(text.replace("&", "").rstrip(":").strip())
        return label, field

    def details(self) -> str:
        """The plain-text block "Copy details" copies (English: it is read by support)."""
        app = QGuiApplication.instance()
        platform_name = QGuiApplication.platformName() if app is not None else ""
        lines = [
            f"{APP_NAME} {__version__}",
            f"Python {platform.python_version()} ({sys.platform}), "
            f"Qt {qVersion()}, PySide6 {pyside_version}",
            f"System: {platform.platform()} (Qt platform: {platform_name or 'none'})",
            f"Frozen bundle: {'yes' if getattr(sys, 'frozen', False) else 'no'}",
            f"Locale: {QLocale().name()}",
        ]
        if self.environment:
            lines.append(f"Connection: {self.environment}")
        lines += [
            f"History and cards: {self.data_dir}",
            f"Logs: {self.log_dir}",
            f"Settings: {self.config_dir}",
        ]
        return "\n".join(lines) + "\n"

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details())
        self.copied_label.setText(self.tr("Details copied. Paste them into your message."))
