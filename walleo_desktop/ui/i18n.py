"""The window's language: French or English, following the system unless told otherwise.

Which language, first match wins:

1. the ``--language fr|en|system`` option of ``walleo-desktop`` (this run only);
2. the ``language`` key of ``preferences.ini`` in the config directory (``fr``, ``en`` or
   ``system``; ``save_language`` writes it);
3. the system locale (``QLocale.system()``): French for any French locale, English otherwise.

``install_translator`` must run before any widget is built (texts are translated when widgets
are made). It loads the app's catalogue (``walleo_<lang>.qm``, package data built from
``resources/translations/walleo_<lang>.ts``) and Qt's own (``qtbase_<lang>.qm``: the Yes/Cancel
of message boxes, the file dialog), and sets the default ``QLocale`` so that dates and amounts
follow the language: ``1 234,50 €`` in French, ``€1,234.50`` in English.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from walleo_desktop.engine.profiles import default_config_dir

__all__ = [
    "LANGUAGES",
    "SYSTEM",
    "install_translator",
    "language_setting",
    "locale_for",
    "preferences",
    "resolve_language",
    "save_language",
    "translation_file",
]

log = logging.getLogger("walleo.ui.i18n")

SOURCE_LANGUAGE = "en"
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
SYSTEM = "system"
SETTING_KEY = "language"
# The territory a language falls back to when the system's does not go with it (an English
# window on a German system): Walleo is a French company, so European English, French French.
_FALLBACK_LOCALES = {"en": "en_GB", "fr": "fr_FR"}

# Translators stay referenced here: QCoreApplication does not own them, and a collected
# translator silently stops translating.
_installed: list[QTranslator] = []


def preferences() -> QSettings:
    """The user's preferences (``preferences.ini`` in the app's config directory)."""
    return QSettings(str(default_config_dir() / "preferences.ini"), QSettings.Format.IniFormat)


def language_setting(settings: QSettings | None = None) -> str:
    """The saved choice: ``fr``, ``en`` or ``system`` (also for a missing or unknown value)."""
    value = (settings or preferences()).value(SETTING_KEY, SYSTEM)
    value = str(value).strip().lower() if value is not None else SYSTEM
    return value if value in LANGUAGES else SYSTEM


def save_language(language: str, settings: QSettings | None = None) -> None:
    """Remember ``fr``, ``en`` or ``system`` for the next start."""
    language = language.strip().lower()
    if language != SYSTEM and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use one of {sorted(LANGUAGES)} or system")
    s = settings or preferences()
    s.setValue(SETTING_KEY, language)
    s.sync()


def resolve_language(
    requested: str | None, settings: QSettings | None = None, system: QLocale | None = None
) -> str:
    """The language to show: ``requested`` (``fr``/``en``; ``system`` or None defer to the
    setting), else the setting, else the system locale's."""
    choice = (requested or "").strip().lower()
    if choice not in LANGUAGES:
        if choice not in ("", SYSTEM):
            log.warning("unknown language %r; following the system", requested)
        choice = language_setting(settings) if choice == "" else SYSTEM
    if choice in LANGUAGES:
        return choice
    system = system or QLocale.system()
    name = system.name().split("_")[0].lower()  # "fr_CA" -> "fr"; the C locale -> "c"
    return name if name in LANGUAGES else SOURCE_LANGUAGE


def locale_for(language: str, system: QLocale | None = None) -> QLocale:
    """The locale for numbers and dates in ``language``: the system's when it speaks that
    language (``fr_BE`` stays ``fr_BE``), else the language's own (``fr_FR``, ``en_GB``)."""
    system = system or QLocale.system()
    if system.name().split("_")[0].lower() == language:
        return system
    return QLocale(_FALLBACK_LOCALES.get(language, language))


def translation_file(language: str) -> Path | None:
    """The app's compiled catalogue for ``language`` (None for the source language or none)."""
    if language == SOURCE_LANGUAGE:
        return None
    ref = resources.files("walleo_desktop.resources") / "translations" / f"walleo_{language}.qm"
    path = Path(str(ref))
    return path if path.is_file() else None


def install_translator(
    app: QCoreApplication,
    language: str | None,
    *,
    settings: QSettings | None = None,
    system: QLocale | None = None,
) -> str:
    """Translate the app into ``language`` (see the module docstring); returns ``fr`` or ``en``.

    Calling it again replaces the previous translators (tests switch languages). Build the
    widgets after it: texts already on screen are not retranslated.
    """
    chosen = resolve_language(language, settings, system)
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    if chosen != SOURCE_LANGUAGE:
        catalogue = translation_file(chosen)
        ours = QTranslator(app)
        if catalogue is not None and ours.load(str(catalogue)):
            app.installTranslator(ours)
            _installed.append(ours)
            qt = QTranslator(app)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if qt.load(f"qtbase_{chosen}", qt_dir):
                app.installTranslator(qt)
                _installed.append(qt)
            else:  # Qt's own buttons stay in English; ours are translated
                log.info("Qt's %s translation not found in %s", chosen, qt_dir)
        else:
            log.warning("no %s translation (%s); the window stays in English", chosen, catalogue)
            chosen = SOURCE_LANGUAGE
    # Numbers and dates follow the language shown, never a third one.
    QLocale.setDefault(locale_for(chosen, system))
    return chosen
