"""Delivering a card from the window: Copy all, E-mail to customer (a real SMTP server on
127.0.0.1), Print (to a PDF file through QPrinter, read back with QtPdf), and the e-mail tab of
the settings.

Async tests wait with ``await`` (conftest ``wait_until`` / ``wait_signal``), never with
``qtbot.wait*`` (stack-notes §3); dialogs are opened with ``open()`` and answered in the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import wait_signal, wait_until
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid
from smtp_server import PASSWORD, USER, SmtpServer, self_signed

from walleo_desktop.engine import Connection, PollPolicy, Profile, Profiles, Session
from walleo_desktop.engine.delivery import (
    EMAIL_EVENT,
    CardContent,
    SmtpSecurity,
    SmtpSettings,
    SmtpSettingsStore,
)
from walleo_desktop.engine.profiles import KEYRING_SERVICE
from walleo_desktop.store.records import CardRecord, PullRecord, PullState
from walleo_desktop.ui.card_pane import CardPane
from walleo_desktop.ui.card_print import card_page_html, print_card_page
from walleo_desktop.ui.delivery import PRINT_EVENT, EmailCardDialog, session_smtp_passwords
from walleo_desktop.ui.main_window import MainWindow
from walleo_desktop.ui.settings_dialog import SettingsDialog

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
CUSTOMER = "claire.martin@example.com"
CODE = "4929123456783456"
PIN = "8342"


@pytest.fixture(autouse=True)
def _clean_clipboard_and_passwords(qapp):
    QGuiApplication.clipboard().clear()
    session_smtp_passwords.clear()
    yield
    QGuiApplication.clipboard().clear()
    session_smtp_passwords.clear()


# ------------------------------------------------------------------------------ Copy all


def make_pull(**kw) -> PullRecord:
    now = datetime.now(UTC)
    values = {
        "id": 1,
        "request_id": "req-1",
        "gift_card_code": "AMZ-FR",
        "gift_card_name": "Amazon.fr",
        "amount": 50,
        "currency": "EUR",
        "state": PullState.SUCCESS,
        "created_at": now,
        "updated_at": now,
        "card_id": "card-1",
    }
    values.update(kw)
    return PullRecord(**values)


def make_card(**kw) -> CardRecord:
    now = datetime.now(UTC)
    values = {
        "card_id": "card-1",
        "pull_id": 1,
        "code": CODE,
        "pin_code": PIN,
        "expire_at": datetime(2027, 6, 23, 22, 0, tzinfo=UTC),  # 24 June in Paris
        "amount": 50,
        "gift_card_code": "AMZ-FR",
        "pdf_url": "",
        "created_at": now,
    }
    values.update(kw)
    return CardRecord(**values)


async def test_copy_all_puts_code_pin_and_expiry_on_the_secure_clipboard(qtbot):
    pane = CardPane()
    qtbot.addWidget(pane)
    pane.clipboard.clear_after = 0.2
    audits, copied = [], []
    pane.audit.connect(lambda card_id, action: audits.append((card_id, action)))
    pane.copied.connect(lambda card_id, what: copied.append((card_id, what)))
    pane.show_pull(make_pull(), make_card())
    assert pane.copy_all_button.isEnabled()

    qtbot.mouseClick(pane.copy_all_button, Qt.MouseButton.LeftButton)
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == f"Code: {CODE}\nPIN: {PIN}\nValid until Thursday, 24 June 2027"
    assert bytes(clipboard.mimeData().data("x-kde-passwordManagerHint")) == b"secret"
    assert CODE not in pane.code_label.text()  # still masked on screen
    assert audits == [("card-1", "copy_all")] and copied == [("card-1", "all")]
    await wait_until(lambda: clipboard.text() == "", timeout=3)  # wiped like the others

    pane.show_pull(make_pull(id=2, card_id="card-2"), make_card(card_id="card-2", pin_code=""))
    qtbot.mouseClick(pane.copy_all_button, Qt.MouseButton.LeftButton)
    assert clipboard.text() == f"Code: {CODE}\nValid until Thursday, 24 June 2027"


# ------------------------------------------------------------------------------ the window


@pytest.fixture
def profiles(tmp_path):
    return Profiles(tmp_path / "config")


@pytest.fixture
def smtp_store(profiles):
    return SmtpSettingsStore(profiles.config_dir)


@pytest.fixture
def smtp():
    server = SmtpServer.start(auth=True, refuse={"nobody@example.com"})
    yield server
    server.stop()


@pytest.fixture
async def session(tmp_path):
    s = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    s.simulator.config.async_error_rate = 0.0
    await s.catalog.refresh()
    yield s
    await s.close()


@pytest.fixture
async def window(session, qtbot, tmp_path, profiles):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    w = MainWindow(session, settings=settings, profiles=profiles)
    qtbot.addWidget(w)
    w.show()
    yield w
    if isValid(w):
        w.close()
    await w.shutdown()


async def show_issued_card(window, session, reference: str = CUSTOMER):
    """Issue a real FNAC card (code, PIN, PDF) and show it in the card pane."""
    fnac = session.catalog.find("FNAC")
    [pull] = await session.engine.submit(fnac, 50, reference=reference)
    [pull] = await session.engine.wait([pull.id])
    assert pull.state is PullState.SUCCESS
    await wait_until(lambda: window.model.pull(pull.id) is not None)
    window.table.select_pull(pull.id)
    pane = window.card_pane
    await wait_until(lambda: pane.card is not None and pane.card.card_id == pull.card_id)
    return pull, pane.card


def local_smtp(server: SmtpServer, **kw) -> SmtpSettings:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": SmtpSecurity.NONE,
        "sender_address": "cartes@agence.example",
        "sender_name": "Agence Walleo",
        "username": USER,
    }
    values.update(kw)
    return SmtpSettings(**values)


def current_dialog(kind):
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, found
    return found[0]


async def test_email_to_customer_from_the_card_pane(window, session, smtp, smtp_store, qtbot):
    smtp_store.save("demo", local_smtp(smtp))
    smtp_store.save_password("demo", PASSWORD)
    pull, card = await show_issued_card(window, session)
    pane = window.card_pane
    await wait_until(lambda: pane.delivery_label.text() == "Not e-mailed yet.")

    qtbot.mouseClick(pane.email_button, Qt.MouseButton.LeftButton)
    dialog = current_dialog(EmailCardDialog)
    assert dialog.isModal()  # opened with open(): window-modal, no nested event loop
    assert dialog.address_edit.text() == CUSTOMER  # the pull's reference is an address
    preview = dialog.preview.toPlainText()
    assert "Fnac" in preview and card.code[-4:] in preview
    assert card.code not in preview and card.pin_code not in preview  # masked: not revealed
    assert dialog.masked_label.isVisibleTo(dialog)
    assert "Fnac" in dialog.subject_label.text()

    dialog.address_edit.setText("claire@example")  # a typo is refused in the dialog
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisibleTo(dialog) and "not a valid" in dialog.error_label.text()
    assert dialog.isVisible()

    dialog.address_edit.setText(CUSTOMER)
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    pull_id, status = await wait_signal(window.delivery.status_shown, timeout=10)
    assert pull_id == pull.id and status.state == "sent"
    assert pane.delivery_label.text().startswith(f"E-mailed to {CUSTOMER} on ")
    assert pane.delivery_label.property("severity") == "ok"
    assert not pane.delivery_retry_button.isVisibleTo(pane)
    [received] = smtp.received
    assert received.rcpt_tos == [CUSTOMER]
    assert card.code in received.message.get_body(("plain",)).get_content()
    [event] = [e for e in await session.store.events(pull.id) if e.kind == EMAIL_EVENT]
    assert event.detail["agent"] == session.engine.agent and event.detail["to"] == CUSTOMER


async def test_revealed_code_is_shown_in_the_preview(window, session, smtp, smtp_store, qtbot):
    smtp_store.save("demo", local_smtp(smtp, username=""))
    _pull, card = await show_issued_card(window, session, reference="TCK-1")
    pane = window.card_pane
    qtbot.mouseClick(pane.reveal_code_button, Qt.MouseButton.LeftButton)
    dialog = window.delivery.open_email_dialog()
    assert dialog.address_edit.text() == ""  # "TCK-1" is no address
    preview = dialog.preview.toPlainText()
    assert card.code in preview and card.pin_code not in preview
    dialog.reject()


async def test_a_failed_email_says_why_and_retry_sends_it_again(
    window, session, smtp, smtp_store, memory_keyring, qtbot
):
    smtp_store.save("demo", local_smtp(smtp))
    smtp_store.save_password("demo", "an-old-password-9")
    errors = []
    window.delivery.failed.connect(errors.append)
    pull, _card = await show_issued_card(window, session)
    pane = window.card_pane

    window.delivery.send(pull.id, CUSTOMER, "en")
    _pull_id, status = await wait_signal(window.delivery.status_shown, timeout=10)
    assert status.state == "failed" and status.reason == "auth"
    assert "failed on" in pane.delivery_label.text()
    assert "user name or password refused" in pane.delivery_label.text()
    assert pane.delivery_label.property("severity") == "error"
    assert pane.delivery_retry_button.isVisibleTo(pane)
    assert "refused the user name or password" in errors[-1] and "535" in errors[-1]
    assert smtp.received == []

    smtp_store.save_password("demo", PASSWORD)  # the agent fixes it in Settings
    qtbot.mouseClick(pane.delivery_retry_button, Qt.MouseButton.LeftButton)
    _pull_id, status = await wait_signal(window.delivery.status_shown, timeout=10)
    assert status.state == "sent" and status.attempts == 2 and status.to == CUSTOMER
    assert len(smtp.received) == 1
    assert not pane.delivery_retry_button.isVisibleTo(pane)


async def test_copy_all_is_audited_like_the_other_copies(window, session, qtbot):
    pull, card = await show_issued_card(window, session)
    window.card_pane.clipboard.clear_after = 0.2
    qtbot.mouseClick(window.card_pane.copy_all_button, Qt.MouseButton.LeftButton)
    assert card.code in QGuiApplication.clipboard().text()

    async def copies():
        return [e for e in await session.store.events(pull.id) if e.kind == "card_copy_all"]

    await wait_until(lambda: not window.ops.busy_any())
    [event] = await copies()
    assert event.detail == {"card_id": card.card_id, "agent": session.engine.agent}


async def test_email_without_smtp_settings_says_where_to_set_them(window, session, qtbot):
    errors = []
    window.delivery.failed.connect(errors.append)
    await show_issued_card(window, session)
    qtbot.mouseClick(window.card_pane.email_button, Qt.MouseButton.LeftButton)
    assert [w for w in QApplication.topLevelWidgets() if isinstance(w, EmailCardDialog)] == []
    assert "File → Settings… → E-mail" in errors[-1]
    assert window.card_pane.delivery_label.text() == errors[-1]


# ------------------------------------------------------------------------------ printing


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def dark_share(image: QImage) -> float:
    """The share of sampled pixels that are not white (0: a blank page)."""
    dark = total = 0
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            total += 1
            color = image.pixelColor(x, y)  # QtPdf leaves what is not drawn transparent
            dark += color.alpha() > 128 and color.lightness() < 200
    return dark / total


def answer_print_dialog(window, out: Path):
    """Replace the print dialog by an immediate answer: print to the PDF file ``out``."""

    def choose(printer, accepted, _rejected):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        accepted()

    window.delivery._choose_printer = choose


async def test_print_renders_the_cards_pdf_pages(window, session, tmp_path, qtbot):
    out = tmp_path / "printed.pdf"
    answer_print_dialog(window, out)
    pull, card = await show_issued_card(window, session)
    qtbot.mouseClick(window.card_pane.print_button, Qt.MouseButton.LeftButton)
    printed, text = await wait_signal(window.delivery.print_finished, timeout=15)
    assert printed, text
    assert text.startswith("The card was sent to the printer (1 page")

    source, result = QPdfDocument(), QPdfDocument()
    source.load(str(await session.cards.pdf(card)))
    assert result.load(str(out)) == QPdfDocument.Error.None_
    assert result.pageCount() == source.pageCount() == 1
    # The card's page is drawn as an image: the printed page looks like the card's PDF.
    printed_page = result.render(0, source.pagePointSize(0).toSize())
    original = source.render(0, source.pagePointSize(0).toSize())
    assert dark_share(printed_page) > 0.02
    assert abs(dark_share(printed_page) - dark_share(original)) < 0.05
    await wait_until(lambda: window.ops.busy_any() is False)
    [event] = [e for e in await session.store.events(pull.id) if e.kind == PRINT_EVENT]
    assert event.detail["outcome"] == "printed" and event.detail["source"] == "pdf"
    assert event.detail["pages"] == 1 and event.detail["agent"] == session.engine.agent
    assert card.code not in json.dumps(event.detail)


async def test_print_without_a_pdf_draws_a_card_page(window, session, tmp_path, qtbot, monkeypatch):
    out = tmp_path / "printed.pdf"
    answer_print_dialog(window, out)

    async def no_pdf(card):
        raise FileNotFoundError("Walleo gave no PDF for this card.")

    pull, card = await show_issued_card(window, session)
    monkeypatch.setattr(session.cards, "pdf", no_pdf)
    monkeypatch.setattr(type(window.card_pane.pdf), "pdf_path", property(lambda self: None))
    qtbot.mouseClick(window.card_pane.print_button, Qt.MouseButton.LeftButton)
    printed, text = await wait_signal(window.delivery.print_finished, timeout=15)
    assert printed, text

    result = QPdfDocument()
    assert result.load(str(out)) == QPdfDocument.Error.None_
    words = " ".join(result.getAllText(i).text() for i in range(result.pageCount()))
    words = " ".join(words.split())
    fnac = session.catalog.find("FNAC")
    for expected in ("Fnac", "€50", card.code, card.pin_code, "Valid until", "How to use it"):
        assert expected in words, expected
    assert " ".join(fnac.how_to_use_online.split()[:6]) in words
    await wait_until(lambda: window.ops.busy_any() is False)
    [event] = [e for e in await session.store.events(pull.id) if e.kind == PRINT_EVENT]
    assert event.detail["source"] == "page" and event.detail["outcome"] == "printed"


async def test_print_dialog_opens_without_blocking_and_cancel_is_said(window, session, qtbot):
    pull, _card = await show_issued_card(window, session)
    messages, finished = [], []
    window.delivery.message.connect(messages.append)
    window.delivery.print_finished.connect(lambda *args: finished.append(args))
    qtbot.mouseClick(window.card_pane.print_button, Qt.MouseButton.LeftButton)
    dialog = current_dialog(QPrintDialog)  # we are here: open() did not block
    assert dialog.isModal()
    dialog.reject()
    text = "Printing cancelled: nothing was printed."
    assert finished == [(False, text)] and messages[-1] == text
    assert [e for e in await session.store.events(pull.id) if e.kind == PRINT_EVENT] == []


@pytest.mark.qt_log_ignore("QPainter::begin")
async def test_a_printer_that_cannot_be_opened_is_said_plainly(window, session, tmp_path, qtbot):
    answer_print_dialog(window, tmp_path / "no" / "such" / "x.pdf")
    errors = []
    window.delivery.failed.connect(errors.append)
    pull, _card = await show_issued_card(window, session)
    qtbot.mouseClick(window.card_pane.print_button, Qt.MouseButton.LeftButton)
    printed, text = await wait_signal(window.delivery.print_finished, timeout=15)
    assert not printed
    assert "The printer could not be opened" in text and errors[-1] == text
    await wait_until(lambda: window.ops.busy_any() is False)
    [event] = [e for e in await session.store.events(pull.id) if e.kind == PRINT_EVENT]
    assert event.detail["outcome"] == "failed" and event.detail["pages"] == 0


def test_the_card_page_escapes_catalog_text(tmp_path):
    content = CardContent(
        brand="<b>Brand</b>", amount=20, currency="EUR", code="ABCD-1234", terms="a < b"
    )
    page = card_page_html(content)
    assert "<b>Brand</b>" not in page and "&lt;b&gt;Brand&lt;/b&gt;" in page
    out = tmp_path / "page.pdf"
    assert print_card_page(pdf_printer(out), content) == 1
    document = QPdfDocument()
    document.load(str(out))
    text = document.getAllText(0).text()
    assert "<b>Brand</b>" in text and "ABCD-1234" in text and "No expiry date" in text


# ------------------------------------------------------------------------------ settings


@pytest.fixture
def dialog(qtbot, profiles):
    profiles.save(Profile("Production", base_url="https://api.walleo.example/partners/v1"))
    dlg = SettingsDialog(profiles)
    qtbot.addWidget(dlg)
    return dlg


def select(dlg, name):
    dlg.select_profile(name)
    dlg.editor_tabs.setCurrentIndex(1)
    assert dlg.editor_pages.currentWidget() is dlg.smtp_panel
    return dlg.smtp_panel


def fill_smtp(
    qtbot, panel, server: SmtpServer, *, password=PASSWORD, security="none", host="127.0.0.1"
):
    panel.host_edit.setText(host)
    panel.security_combo.setCurrentIndex(panel.security_combo.findData(security))
    panel.port_spin.setValue(server.port)
    panel.sender_address_edit.setText("cartes@agence.example")
    panel.sender_name_edit.setText("Agence Walleo")
    panel.username_edit.setText(USER)
    panel.password_edit.clear()
    qtbot.keyClicks(panel.password_edit, password)  # typed, as a person does


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


async def test_smtp_settings_are_saved_with_the_password_in_the_keyring_only(
    dialog, smtp, smtp_store, memory_keyring, qtbot, tmp_path
):
    panel = select(dialog, "Production")
    assert panel.profile == "Production" and "Production" in panel.profile_label.text()
    fill_smtp(qtbot, panel, smtp)
    click(qtbot, panel.save_button)
    (profile,) = await wait_signal(panel.saved)
    assert profile == "Production"
    assert "password is in the system keyring" in panel.status_label.text()
    assert smtp_store.get("Production") == local_smtp(smtp)
    assert memory_keyring.entries[(KEYRING_SERVICE, "smtp:Production")] == PASSWORD
    for path in tmp_path.rglob("*"):  # the password is in no file
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path

    # shown again: the password comes back from the keyring, masked
    select(dialog, None)
    panel = select(dialog, "Production")
    await wait_signal(panel.loaded)
    assert panel.password_edit.text() == PASSWORD
    assert panel.password_edit.echoMode() == panel.password_edit.EchoMode.Password


async def test_send_a_test_email_from_the_settings(dialog, smtp, qtbot):
    panel = select(dialog, "Production")
    fill_smtp(qtbot, panel, smtp, password="wrong-password-1")
    click(qtbot, panel.test_button)
    ok, text = await wait_signal(panel.test_finished, timeout=10)
    assert not ok and "refused the user name or password" in text and "535" in text
    assert panel.status_label.property("ok") is False

    panel.password_edit.setText(PASSWORD)
    panel.test_address_edit.setText("desk@example.com")
    click(qtbot, panel.test_button)
    ok, text = await wait_signal(panel.test_finished, timeout=10)
    assert ok, text
    assert text == "Test e-mail sent to desk@example.com: check that it arrived."
    [received] = smtp.received
    assert received.rcpt_tos == ["desk@example.com"]


async def test_settings_refuse_plain_smtp_to_another_computer(dialog, smtp, smtp_store, qtbot):
    panel = select(dialog, "Production")
    fill_smtp(qtbot, panel, smtp, host="smtp.example.com")
    click(qtbot, panel.save_button)
    assert panel.error_label.isVisibleTo(panel)
    assert "only a server on this computer" in panel.error_label.text()
    assert smtp_store.get("Production") is None


async def test_settings_trust_a_ca_file_for_starttls(dialog, smtp_store, qtbot, tmp_path):
    certificate = self_signed(tmp_path / "tls")
    server = SmtpServer.start(auth=True, starttls=certificate.server_context())
    try:
        panel = select(dialog, "Production")
        fill_smtp(qtbot, panel, server, security="starttls")
        click(qtbot, panel.test_button)
        ok, text = await wait_signal(panel.test_finished, timeout=10)
        assert not ok and "No secure connection" in text and "Trust this CA file" in text

        panel._choose_ca_file = lambda accept: accept(str(certificate.cert))
        click(qtbot, panel.browse_button)
        assert panel.ca_file_edit.text() == str(certificate.cert)
        click(qtbot, panel.test_button)
        ok, text = await wait_signal(panel.test_finished, timeout=10)
        assert ok, text
        assert [r.tls for r in server.received] == [True]
    finally:
        server.stop()


async def test_deleting_a_profile_forgets_its_smtp_settings(
    dialog, smtp, smtp_store, memory_keyring, qtbot
):
    smtp_store.save("Production", local_smtp(smtp))
    smtp_store.save_password("Production", PASSWORD)
    dialog.select_profile("Production")
    dialog._confirm = lambda _text, on_yes: on_yes()
    click(qtbot, dialog.delete_button)
    await wait_until(lambda: not dialog.busy)
    assert smtp_store.get("Production") is None
    assert (KEYRING_SERVICE, "smtp:Production") not in memory_keyring.entries


async def test_demo_has_its_own_email_settings(dialog, qtbot):
    panel = select(dialog, None)
    assert panel.profile == "demo" and panel.save_button.isEnabled()
    dialog.start_new_profile()
    assert panel.profile is None and not panel.save_button.isEnabled()
    assert "Save the profile first" in panel.profile_label.text()
