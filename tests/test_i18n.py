"""Languages: every visible text has a French translation, the compiled catalogue is current,
the language follows the system or the user's choice, and amounts follow the language.

A new ``self.tr("…")`` without its French fails ``test_every_text_has_a_french_translation``:
run ``resources/update_translations.sh``, translate the new entries of
``resources/translations/walleo_fr.ts``, run the script again and commit the .ts and the .qm.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QSettings

from walleo_desktop.engine import Connection, PollPolicy, Session
from walleo_desktop.ui import i18n
from walleo_desktop.ui.formatting import format_amount

ROOT = Path(__file__).resolve().parent.parent


def _load_messages():
    """resources/translations/messages.py, the extraction helper (not a package)."""
    path = ROOT / "resources" / "translations" / "messages.py"
    spec = importlib.util.spec_from_file_location("walleo_translation_messages", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and friends look modules up by name
    spec.loader.exec_module(module)
    return module


messages = _load_messages()

TS = messages.ts_file("fr")
QM = messages.qm_file("fr")
SPACES = {"\u00a0": " ", "\u202f": " "}  # no-break spaces: amounts never wrap
PLACEHOLDER = re.compile(r"\{\w*\}|%n|%s|%\d")


def _plain(text: str) -> str:
    for nbsp, space in SPACES.items():
        text = text.replace(nbsp, space)
    return text


@pytest.fixture
def restore_language(qapp):
    """Tests switch languages: put back English translators and the default locale after."""
    default = QLocale()
    yield
    i18n.install_translator(qapp, "en", system=QLocale("en_US"))
    QLocale.setDefault(default)


# ------------------------------------------------------------------------- the catalogue


def _messages(ts: Path) -> list[tuple[str, ET.Element]]:
    root = ET.parse(ts).getroot()  # noqa: S314  (our own committed file)
    return [
        (context.findtext("name") or "", message)
        for context in root.iter("context")
        for message in context.iter("message")
    ]


def _translations(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    assert translation is not None
    if message.get("numerus") == "yes":
        return [form.text or "" for form in translation.iter("numerusform")]
    return [translation.text or ""]


def test_every_text_has_a_french_translation(tmp_path):
    """Extract the texts of walleo_desktop/ui/*.py afresh (pyside6-lupdate, merged into a copy
    of the committed .ts): each one must have a finished, non-empty French translation."""
    fresh = tmp_path / "walleo_fr.ts"
    shutil.copyfile(TS, fresh)
    messages.extract(fresh)
    found = _messages(fresh)
    assert len(found) > 150, "lupdate found suspiciously few texts"
    missing = []
    for context, message in found:
        translation = message.find("translation")
        assert translation is not None
        texts = _translations(message)
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not all(
            t.strip() for t in texts
        ):
            missing.append(f"{context}: {message.findtext('source')!r}")
    assert not missing, (
        f"{len(missing)} text(s) without a French translation; run "
        "resources/update_translations.sh, translate them in resources/translations/walleo_fr.ts, "
        "run it again:\n  " + "\n  ".join(missing)
    )


def test_translations_keep_placeholders_and_mnemonics():
    """A lost ``{name}`` breaks ``.format()`` at run time; a lost ``&`` loses an Alt key."""
    problems = []
    for context, message in _messages(TS):
        source = message.findtext("source") or ""
        wanted = sorted(PLACEHOLDER.findall(source))
        mnemonic = source.replace("&&", "").count("&")
        for text in _translations(message):
            if message.get("numerus") == "yes":
                got = sorted(PLACEHOLDER.findall(text))
                ok = set(got) <= set(wanted) and sorted(set(got)) == sorted(
                    set(wanted) - {"%n"} | ({"%n"} & set(got))
                )
            else:
                got = sorted(PLACEHOLDER.findall(text))
                ok = got == wanted
            if not ok:
                problems.append(f"{context}: {source!r} -> {text!r} (placeholders)")
            if text.replace("&&", "").count("&") != mnemonic:
                problems.append(f"{context}: {source!r} -> {text!r} (keyboard mnemonic)")
    assert not problems, "\n".join(problems)


def test_menu_mnemonics_do_not_clash_in_french():
    """Alt+letter must reach one place: the menu bar's titles, the tabs and the pull form's
    labels share the window."""
    root = ET.parse(TS).getroot()  # noqa: S314  (our own committed file)

    def keys(context: str, sources: set[str]) -> list[str]:
        out = []
        for ctx in root.iter("context"):
            if ctx.findtext("name") != context:
                continue
            for message in ctx.iter("message"):
                if message.findtext("source") in sources:
                    text = (message.findtext("translation") or "").replace("&&", "")
                    out.append(text[text.index("&") + 1].lower())
        return out

    menus = keys("MainWindow", {"&File", "&Pulls", "&Help", "&Live pulls", "&History"})
    form = keys("PullForm", {"&Brand", "&Amount", "&Quantity", "&Reference", "&Note", "&Issue…"})
    assert len(menus) >= 3 and len(form) == 6
    together = menus + form
    assert len(set(together)) == len(together), together


def test_committed_qm_is_compiled_from_the_committed_ts(tmp_path):
    compiled = tmp_path / "walleo_fr.qm"
    messages.compile_qm(TS, compiled)
    assert QM.exists(), f"{QM} is missing: run resources/update_translations.sh"
    assert compiled.read_bytes() == QM.read_bytes(), (
        f"{QM.name} is older than {TS.name}: run resources/update_translations.sh and commit both"
    )


def test_extraction_sees_through_translate_helpers():
    """``_tr("x")`` helpers (``QCoreApplication.translate("Ctx", text)``) are spelled out for
    lupdate, in the right context; other calls are left alone."""
    source = (
        "from PySide6.QtCore import QCoreApplication\n"
        "def _tr(text: str) -> str:\n"
        '    return QCoreApplication.translate("PullTable", text)\n'
        'A = _tr("Status")\n'
        'B = {1: _tr("Brand"), 2: other("x")}\n'
    )
    expanded = messages.expand_helpers(source)
    assert 'A = QCoreApplication.translate("PullTable", "Status")' in expanded
    assert 'QCoreApplication.translate("PullTable", "Brand"), 2: other("x")}' in expanded
    assert "def _tr(text: str) -> str:" in expanded
    assert messages.expand_helpers("x = 1\n") == "x = 1\n"


def test_lupdate_ships_with_pyside6():
    tool = messages.qt_tool("lupdate")
    done = subprocess.run([tool, "-version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "lupdate" in (done.stdout + done.stderr)


# ------------------------------------------------------------------------- choosing a language


@pytest.fixture
def prefs(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "preferences.ini"), QSettings.Format.IniFormat)


@pytest.mark.parametrize(
    ("requested", "saved", "system", "expected"),
    [
        (None, None, "fr_FR", "fr"),  # the system decides
        (None, None, "fr_CA", "fr"),
        (None, None, "de_DE", "en"),  # a language the app does not speak: English
        (None, None, "C", "en"),
        (None, "fr", "en_US", "fr"),  # the saved setting beats the system
        (None, "system", "fr_BE", "fr"),
        (None, "klingon", "en_US", "en"),  # a broken setting: the system
        ("en", "fr", "fr_FR", "en"),  # --language beats both
        ("fr", None, "en_US", "fr"),
        ("system", "en", "fr_FR", "fr"),  # --language system ignores the setting
    ],
)
def test_language_choice(prefs, requested, saved, system, expected):
    if saved is not None:
        prefs.setValue(i18n.SETTING_KEY, saved)
    assert i18n.resolve_language(requested, prefs, QLocale(system)) == expected


def test_language_option(capsys):
    from walleo_desktop.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--language", "fr"]).language == "fr"
    assert parser.parse_args([]).language is None  # the setting, else the system
    with pytest.raises(SystemExit):
        parser.parse_args(["--language", "de"])
    assert "--language" in capsys.readouterr().err


def test_save_language_round_trip(prefs):
    i18n.save_language("FR", prefs)
    assert i18n.language_setting(prefs) == "fr"
    i18n.save_language("system", prefs)
    assert i18n.language_setting(prefs) == "system"
    with pytest.raises(ValueError):
        i18n.save_language("de", prefs)


def test_default_preferences_live_in_the_config_dir(isolated_dirs):
    path = Path(i18n.preferences().fileName())
    assert path.name == "preferences.ini"
    assert path.is_relative_to(isolated_dirs)


def test_locale_follows_the_language():
    assert i18n.locale_for("fr", QLocale("fr_BE")).name() == "fr_BE"  # the system's own
    assert i18n.locale_for("fr", QLocale("en_US")).name() == "fr_FR"
    assert i18n.locale_for("en", QLocale("fr_FR")).name() == "en_GB"
    assert i18n.locale_for("en", QLocale("en_US")).name() == "en_US"


def test_french_translates_and_formats_amounts_the_french_way(qapp, prefs, restore_language):
    assert i18n.install_translator(qapp, "fr", settings=prefs, system=QLocale("en_US")) == "fr"
    assert QCoreApplication.translate("MainWindow", "&File") == "&Fichier"
    assert QCoreApplication.translate("PullTable", "Brand") == "Enseigne"  # a _tr() helper text
    # Qt's own catalogue too: the buttons of standard dialogs
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Annuler"
    amount = format_amount(1234.5, "EUR")
    assert _plain(amount) == "1 234,50 €"
    assert " " not in amount  # no-break spaces only: "1 234,50 €" never wraps
    assert _plain(format_amount(50, "EUR")) == "50 €"


def test_english_formats_amounts_the_english_way(qapp, prefs, restore_language):
    i18n.install_translator(qapp, "fr", settings=prefs, system=QLocale("fr_FR"))
    assert i18n.install_translator(qapp, "en", settings=prefs, system=QLocale("fr_FR")) == "en"
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"  # French removed
    assert format_amount(1234.5, "EUR") == "€1,234.50"
    assert format_amount(50, "EUR") == "€50"


def test_a_missing_catalogue_falls_back_to_english(qapp, prefs, restore_language, monkeypatch):
    monkeypatch.setattr(i18n, "translation_file", lambda language: None)
    assert i18n.install_translator(qapp, "fr", settings=prefs, system=QLocale("en_US")) == "en"
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"
    assert QLocale().language() == QLocale.Language.English  # dates match the words shown


# ------------------------------------------------------------------------- the window in French

DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)


def _menus(window) -> list[str]:
    return [action.text() for action in window.menuBar().actions() if action.menu()]


async def test_main_window_built_in_french_has_french_menus(
    qapp, qtbot, tmp_path, prefs, restore_language
):
    from walleo_desktop.ui.main_window import MainWindow

    session = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    windows = {}
    try:
        for language in ("en", "fr"):
            i18n.install_translator(qapp, language, settings=prefs, system=QLocale("en_US"))
            ini = QSettings(str(tmp_path / f"window-{language}.ini"), QSettings.Format.IniFormat)
            window = MainWindow(session, settings=ini)
            qtbot.addWidget(window)
            windows[language] = window
        en, fr = _menus(windows["en"]), _menus(windows["fr"])
        assert en[:2] == ["&File", "&Pulls"] and "&Help" in en
        assert fr[:2] == ["&Fichier", "É&missions"] and "&Aide" in fr
        untranslated = [title for title in fr if title in en]
        assert not untranslated, f"menu titles left in English: {untranslated}"
        french = windows["fr"]
        assert french.new_pull_action.text() == "&Nouvelle émission"
        assert french.windowTitle().endswith("DÉMO")
        assert french.table.model().headerData(1, french.table.horizontalHeader().orientation())
    finally:
        for window in windows.values():
            window.close()
            await window.shutdown()
        await session.close()
