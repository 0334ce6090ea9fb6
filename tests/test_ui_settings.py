"""SettingsDialog: profiles in JSON, credentials in the keyring only, connection test."""

from __future__ import annotations

import json
import threading

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from conftest import wait_signal, wait_until
from PySide6.QtCore import Qt

from walleo_desktop.api.client import Credentials
from walleo_desktop.engine.profiles import KEYRING_SERVICE, Profile, Profiles
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.ui import settings_dialog
from walleo_desktop.ui.settings_dialog import SettingsDialog, session_credentials

API_KEY = "rKc1oJFfEzf0HRbNzLjcvEKijkAFfSL5BYhI-Usidd5PARuHZaSRAL_2eSPOZrT-"
IDENTIFIER = "b5245bbc-8ee7-4e55-92e0-b97e81085154"
SHARED_KEY = "6F2CE47010CF4F79B9767042BAFB1EB4"


@pytest.fixture(autouse=True)
def _fresh_session_credentials():
    session_credentials.clear()
    yield
    session_credentials.clear()


@pytest.fixture
def profiles(tmp_path):
    return Profiles(tmp_path / "config")


@pytest.fixture
def dialog(qtbot, profiles):
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    return dlg


@pytest.fixture
def server():
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, seed=3))
    with serve_in_thread(sim) as srv:
        yield srv


def fill(dlg, *, name="Production", url=None, currency="EUR", creds=None):
    dlg.name_edit.setText(name)
    if url is not None:
        dlg.base_url_edit.setText(url)
    dlg.currency_edit.setText(currency)
    if creds is not None:
        dlg.identifier_edit.setText(creds.identifier)
        dlg.api_key_edit.setText(creds.api_key)
        dlg.shared_key_edit.setText(creds.shared_key)


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def files_containing(root, *needles):
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(needle.encode() in data for needle in needles):
                hits.append(path)
    return hits


class RaisingKeyring(keyring.backend.KeyringBackend):
    """A keyring whose every call fails like keyring's own ``fail`` backend."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def set_password(self, service, username, password):
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    def delete_password(self, service, username):
        raise keyring.errors.NoKeyringError("No recommended backend was available.")


# ---------------------------------------------------------------------- list and editor


def test_demo_entry_is_listed_and_not_editable(dialog):
    first = dialog.profile_list.item(0)
    assert first.text() == "Demo (built-in simulator) (active)"
    assert dialog.profile_list.currentRow() == 0
    assert not dialog.name_edit.isEnabled()
    assert not dialog.api_key_edit.isEnabled()
    assert not dialog.save_button.isEnabled()
    assert not dialog.delete_button.isEnabled()
    assert not dialog.test_button.isEnabled()
    assert not dialog.active_button.isEnabled()  # the demo is already the active one
    assert dialog.demo_label.isVisibleTo(dialog)


def test_new_profile_has_sensible_defaults(dialog, qtbot):
    click(qtbot, dialog.add_button)
    assert dialog.name_edit.isEnabled()
    assert dialog.name_edit.text() == ""
    assert dialog.base_url_edit.text() == "https://api.walleo.io/partners/v1"
    assert dialog.currency_edit.text() == "EUR"
    assert dialog.api_key_edit.echoMode() == dialog.api_key_edit.EchoMode.Password
    assert dialog.shared_key_edit.echoMode() == dialog.shared_key_edit.EchoMode.Password
    click(qtbot, dialog.show_api_key_button)
    assert dialog.api_key_edit.echoMode() == dialog.api_key_edit.EchoMode.Normal
    assert dialog.shared_key_edit.echoMode() == dialog.shared_key_edit.EchoMode.Password


# ---------------------------------------------------------------------- save


async def test_saving_a_profile_puts_the_secrets_in_the_keyring_only(
    dialog, qtbot, profiles, memory_keyring, tmp_path
):
    changed = []
    dialog.profiles_changed.connect(lambda: changed.append(True))
    click(qtbot, dialog.add_button)
    fill(dialog, name="Production", creds=Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
    click(qtbot, dialog.save_button)
    assert dialog.busy  # the keyring call runs in the background
    (name,) = await wait_signal(dialog.saved)

    assert name == "Production"
    assert changed == [True]
    assert profiles.get("Production") == Profile("Production")
    text = profiles.path.read_text("utf-8")
    assert API_KEY not in text and SHARED_KEY not in text and IDENTIFIER not in text
    stored = json.loads(memory_keyring.entries[(KEYRING_SERVICE, "profile:Production")])
    assert stored == {"api_key": API_KEY, "identifier": IDENTIFIER, "shared_key": SHARED_KEY}
    assert files_containing(tmp_path, API_KEY, SHARED_KEY) == []
    assert session_credentials.get("Production") is None
    assert dialog.status_label.text() == "Saved. The credentials are in the system keyring."
    assert dialog.profile_list.currentItem().text() == "Production"


def test_shared_key_not_hex_is_an_inline_error_and_nothing_is_saved(
    dialog, qtbot, profiles, memory_keyring
):
    click(qtbot, dialog.add_button)
    fill(dialog, creds=Credentials(API_KEY, IDENTIFIER, "not-hex-at-all"))
    click(qtbot, dialog.save_button)
    assert dialog.error_label.isVisibleTo(dialog)
    assert dialog.error_label.text() == (
        "The shared key must be hexadecimal (digits 0-9 and letters A-F)."
    )
    assert not dialog.busy
    assert not profiles.path.exists()
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name_edit", "  ", "Give the profile a name."),
        ("base_url_edit", "http://walleo.example/partners/v1", "The base URL must start with"),
        ("base_url_edit", "ftp://walleo.example", "The base URL must start with"),
        ("currency_edit", "EU", "The currency is a 3-letter code such as EUR."),
        ("api_key_edit", "", "Enter the API key Walleo gave you."),
    ],
)
def test_form_validation(dialog, qtbot, profiles, field, value, message):
    click(qtbot, dialog.add_button)
    fill(dialog, creds=Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
    getattr(dialog, field).setText(value)
    click(qtbot, dialog.save_button)
    assert dialog.error_label.text().startswith(message)
    assert not profiles.path.exists()


def test_loopback_http_is_accepted_for_a_local_simulator(dialog, qtbot):
    click(qtbot, dialog.add_button)
    fill(dialog, url="http://127.0.0.1:8765/partners/v1")
    assert dialog._read_form()[1] is None


def test_duplicate_name_is_refused(dialog, qtbot, profiles):
    profiles.save(Profile("Production"))
    click(qtbot, dialog.add_button)
    fill(dialog, name="Production")
    click(qtbot, dialog.save_button)
    assert dialog.error_label.text() == "A profile named “Production” already exists."


async def test_stored_credentials_are_loaded_into_the_editor(qtbot, profiles):
    profiles.save(Profile("Production"))
    profiles.save_credentials("Production", Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    dlg.select_profile("Production")
    (name,) = await wait_signal(dlg.credentials_loaded)
    assert name == "Production"
    assert dlg.identifier_edit.text() == IDENTIFIER
    assert dlg.api_key_edit.text() == API_KEY
    assert dlg.api_key_edit.echoMode() == dlg.api_key_edit.EchoMode.Password


async def test_renaming_keeps_the_credentials(qtbot, profiles, memory_keyring):
    profiles.save(Profile("Prod"))
    profiles.set_active("Prod")
    profiles.save_credentials("Prod", Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    assert dlg.name_edit.text() == "Prod"  # the active profile is selected on opening
    await wait_signal(dlg.credentials_loaded)
    dlg.name_edit.setText("Production")
    click(qtbot, dlg.save_button)
    await wait_signal(dlg.saved)
    assert [p.name for p in profiles.list()] == ["Production"]
    assert profiles.active == "Production"
    assert (KEYRING_SERVICE, "profile:Prod") not in memory_keyring.entries
    assert profiles.load_credentials("Production") == Credentials(API_KEY, IDENTIFIER, SHARED_KEY)


async def test_delete_removes_the_profile_and_its_keyring_entry(qtbot, profiles, memory_keyring):
    profiles.save(Profile("Production"))
    profiles.save_credentials("Production", Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    dlg.select_profile("Production")
    questions = []

    def confirm(text, on_yes):
        questions.append(text)
        on_yes()

    dlg._confirm = confirm
    changed = []
    dlg.profiles_changed.connect(lambda: changed.append(True))
    click(qtbot, dlg.delete_button)
    await wait_until(lambda: changed)
    assert questions == ["Delete the profile “Production” and its stored credentials?"]
    assert profiles.list() == []
    assert memory_keyring.entries == {}
    assert dlg.profile_list.count() == 1  # the demo entry only


def test_make_active(dialog, qtbot, profiles):
    profiles.save(Profile("Production"))
    dialog._reload_list(select="Production")
    changed = []
    dialog.profiles_changed.connect(lambda: changed.append(True))
    click(qtbot, dialog.active_button)
    assert profiles.active == "Production"
    assert dialog.profile_list.currentItem().text() == "Production (active)"
    assert not dialog.active_button.isEnabled()  # already active
    assert changed == [True]
    dialog.select_profile(None)
    click(qtbot, dialog.active_button)
    assert profiles.active is None
    assert dialog.profile_list.item(0).text() == "Demo (built-in simulator) (active)"


# ---------------------------------------------------------------------- test connection


async def test_connection_test_against_the_simulator(dialog, qtbot, server):
    click(qtbot, dialog.add_button)
    fill(dialog, name="Local", url=server.base_url, creds=DEMO_CREDENTIALS)
    click(qtbot, dialog.test_button)
    assert not dialog.test_button.isEnabled()  # disabled while running
    assert dialog.test_result_label.text() == "Testing the connection…"
    ok, message = await wait_signal(dialog.test_finished, timeout=15)

    assert ok
    assert message.startswith("Connected: ") and message.endswith(" gift cards available.")
    assert dialog.test_result_label.text() == message
    assert "#2e7d32" in dialog.test_result_label.styleSheet()
    assert dialog.test_button.isEnabled()


async def test_connection_test_with_a_wrong_key_says_so(dialog, qtbot, server):
    click(qtbot, dialog.add_button)
    wrong = Credentials("wrong-key", DEMO_CREDENTIALS.identifier, DEMO_CREDENTIALS.shared_key)
    fill(dialog, name="Local", url=server.base_url, creds=wrong)
    click(qtbot, dialog.test_button)
    ok, message = await wait_signal(dialog.test_finished, timeout=15)

    assert not ok
    assert message == (
        "Walleo refused the credentials (Not authorized). Check the API key and identifier."
    )
    assert "#c62828" in dialog.test_result_label.styleSheet()
    assert dialog.test_button.isEnabled()


def test_connection_test_needs_all_three_credentials(dialog, qtbot):
    click(qtbot, dialog.add_button)
    fill(dialog, name="Local")
    click(qtbot, dialog.test_button)
    assert dialog.error_label.text() == "Enter the identifier Walleo gave you."
    assert dialog.test_button.isEnabled()


# ---------------------------------------------------------------------- no keyring


async def test_without_a_keyring_credentials_stay_in_memory(qtbot, profiles, tmp_path):
    keyring.set_keyring(RaisingKeyring())  # conftest's memory_keyring fixture restores it
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    click(qtbot, dlg.add_button)
    creds = Credentials(API_KEY, IDENTIFIER, SHARED_KEY)
    fill(dlg, name="Production", creds=creds)
    click(qtbot, dlg.save_button)
    await wait_signal(dlg.saved)

    assert dlg.keyring_label.text() == (
        "No system keyring is available (no Secret Service running). Credentials will be kept "
        "for this session only."
    )
    assert dlg.status_label.text() == "Saved. The credentials are kept for this session only."
    assert session_credentials.get("Production") == creds
    assert "Production" in repr(session_credentials) and API_KEY not in repr(session_credentials)
    assert profiles.get("Production") is not None  # the profile itself is saved
    assert files_containing(tmp_path, API_KEY, SHARED_KEY) == []  # nothing secret on disk

    # Reopening the editor shows the session's credentials without touching the keyring.
    dlg.select_profile(None)
    dlg.select_profile("Production")
    await wait_signal(dlg.credentials_loaded)
    assert dlg.api_key_edit.text() == API_KEY


async def test_fail_backend_is_announced_on_opening(qtbot, profiles):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    await wait_until(lambda: dlg.keyring_usable is False)
    assert dlg.keyring_label.text().startswith("No system keyring is available")


async def test_a_keyring_that_never_answers_is_abandoned(qtbot, profiles, monkeypatch, tmp_path):
    release = threading.Event()

    class HangingKeyring(RaisingKeyring):
        def set_password(self, service, username, password):
            release.wait(10)
            raise keyring.errors.KeyringLocked("locked")

        def get_password(self, service, username):
            release.wait(10)
            return None

    monkeypatch.setattr(settings_dialog, "KEYRING_TIMEOUT", 0.3)
    keyring.set_keyring(HangingKeyring())
    try:
        dlg = SettingsDialog(profiles)
        qtbot.addWidget(dlg)
        click(qtbot, dlg.add_button)
        fill(dlg, name="Production", creds=Credentials(API_KEY, IDENTIFIER, SHARED_KEY))
        click(qtbot, dlg.save_button)
        await wait_signal(dlg.saved, timeout=5)
        assert dlg.keyring_usable is False
        assert dlg.keyring_label.text().startswith("No system keyring is available")
        assert session_credentials.get("Production") is not None
        assert files_containing(tmp_path, API_KEY, SHARED_KEY) == []
    finally:
        release.set()


def test_clipboard_delay_is_edited_in_settings(qtbot, memory_keyring):
    from walleo_desktop.engine import Profiles
    from walleo_desktop.ui.clipboard import saved_clear_after
    from walleo_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Profiles())
    qtbot.addWidget(dialog)
    assert dialog.clear_after_spin.value() == 30
    dialog.clear_after_spin.setValue(45)
    assert saved_clear_after() == 45
