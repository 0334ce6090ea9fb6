"""E-mailing a card (engine/delivery.py) through a real SMTP server on 127.0.0.1 (aiosmtpd).

The card is a real demo card (the in-process simulator issues it, with its PDF); the server is
aiosmtpd in its own thread, with a password check, STARTTLS or TLS from the start on a
certificate made here, and recipients it refuses. What the customer receives is parsed back
with the ``email`` package.
"""

from __future__ import annotations

import html
import json
import logging
import ssl
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from smtp_server import PASSWORD, USER, SmtpServer, free_port, self_signed

from walleo_desktop.engine import Connection, PollPolicy, Session
from walleo_desktop.engine.delivery import (
    EMAIL_EVENT,
    CardDelivery,
    DeliveryStatus,
    InvalidAddress,
    SmtpNotConfigured,
    SmtpSecurity,
    SmtpSettings,
    SmtpSettingsStore,
    build_message,
    card_content,
    send_test_email,
    tls_context,
    validate_address,
)
from walleo_desktop.engine.profiles import KEYRING_SERVICE
from walleo_desktop.logs import setup_logging

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
CUSTOMER = "claire.martin@example.com"


@pytest.fixture
async def session(tmp_path):
    s = await Session.open(DEMO, tmp_path / "data", simulator_delay_scale=0.01, policy=FAST)
    s.simulator.config.async_error_rate = 0.0
    await s.catalog.refresh()
    yield s
    await s.close()


@pytest.fixture
async def issued(session):
    """A FNAC card (code, PIN, expiry, PDF, instructions in the catalog), issued for real."""
    fnac = session.catalog.find("FNAC")
    assert fnac is not None and fnac.has_pin and fnac.how_to_use_online
    [pull] = await session.engine.submit(fnac, 50, reference="TCK-1")
    [pull] = await session.engine.wait([pull.id])
    card = await session.store.card_for_pull(pull.id)
    assert card is not None and card.code and card.pin_code
    return pull, card


@pytest.fixture
def settings_store(tmp_path):
    return SmtpSettingsStore(tmp_path / "config")


@pytest.fixture
def plain_server():
    server = SmtpServer.start(auth=True, refuse={"nobody@example.com"})
    yield server
    server.stop()


@pytest.fixture
def app_log(tmp_path):
    """The app's own rotating log file, verbose, as a user's ``-v`` run writes it."""
    directory = tmp_path / "logs"
    path = setup_logging(verbose=True, console=False, log_dir=directory)
    assert path is not None
    yield directory
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_walleo", False):
            root.removeHandler(handler)
            handler.close()


def local_settings(server: SmtpServer, **kw) -> SmtpSettings:
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


def delivery_for(session, settings_store, settings: SmtpSettings | None) -> CardDelivery:
    if settings is not None:
        settings_store.save("demo", settings)
    return CardDelivery.for_session(session, settings_store)


def all_text_of(directory: Path) -> str:
    return "\n".join(
        p.read_text("utf-8", errors="replace") for p in directory.rglob("*") if p.is_file()
    )


def secrets_of(card) -> list[str]:
    return [card.code, card.pin_code, PASSWORD]


async def email_events(session, pull_id):
    return [e for e in await session.store.events(pull_id) if e.kind == EMAIL_EVENT]


# ------------------------------------------------------------------------------ the message


async def test_the_customer_receives_html_text_and_the_pdf(
    session, issued, settings_store, plain_server, app_log
):
    pull, card = issued
    delivery = delivery_for(session, settings_store, local_settings(plain_server))
    status = await delivery.send(pull.id, CUSTOMER, password=PASSWORD, language="fr")

    assert status.state == "sent" and status.to == CUSTOMER and status.pdf_attached
    [received] = plain_server.received
    assert received.rcpt_tos == [CUSTOMER]
    assert received.mail_from == "cartes@agence.example"
    message = received.message
    assert message["To"] == CUSTOMER
    assert message["From"] == "Agence Walleo <cartes@agence.example>"
    assert message["Subject"] == "Votre carte cadeau Fnac (50\u00a0€)"
    assert message["Message-ID"].endswith("@agence.example>")

    text = message.get_body(preferencelist=("plain",)).get_content()
    page = message.get_body(preferencelist=("html",)).get_content()
    fnac = session.catalog.find("FNAC")
    for body in (text, page):
        assert card.code in body and card.pin_code in body
        assert "Fnac" in body and "50\u00a0€" in body
    day = card_content(pull, card).expires_on
    assert day is not None and str(day.year) in text and f"{day.day} " in text
    assert "Valable jusqu’au" in text
    assert fnac.how_to_use_online in text and fnac.how_to_use_offline in text
    assert fnac.term_of_use.splitlines()[0] in text
    assert "<h2" in page and "Utilisation en ligne" in page
    assert html.escape(fnac.how_to_use_online) in page  # the catalog's prose, escaped
    assert 'class="code" style="' in page and f">{card.code}</p>" in page

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Fnac-50.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF")
    assert pdf == Path((await session.store.card_for_pull(pull.id)).pdf_path).read_bytes()

    # audited: who, to whom, the outcome; never the code, the PIN, the body or the password
    [event] = await email_events(session, pull.id)
    assert event.detail["agent"] == session.engine.agent
    assert event.detail["to"] == CUSTOMER and event.detail["outcome"] == "sent"
    assert event.detail["pdf_attached"] is True
    dumped = json.dumps([e.detail for e in await session.store.events()], ensure_ascii=False)
    log_text = all_text_of(app_log)
    assert "e-mailed to claire.martin@example.com" in log_text  # the log was written to
    for secret in secrets_of(card):
        assert secret not in dumped
        assert secret not in log_text


async def test_english_message_and_a_card_without_pdf(session, issued, settings_store):
    pull, card = issued
    content = card_content(pull, replace(card, pin_code=""))
    settings = SmtpSettings(host="smtp.example.com", sender_address="cards@example.com")
    message = build_message(content, settings, "Bob@Example.COM", language="en")
    assert message["To"] == "Bob@example.com"
    assert message["Subject"] == "Your Fnac gift card (€50)"
    assert list(message.iter_attachments()) == []
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Code: " + card.code in text and "\nPIN:" not in text and "Valid until" in text
    assert "attached as a PDF" not in text


def test_html_escapes_what_comes_from_the_catalog(issued):
    pull, card = issued
    content = replace(card_content(pull, card), brand="<b>Evil</b>", terms="a < b & c")
    settings = SmtpSettings(host="smtp.example.com", sender_address="cards@example.com")
    page = build_message(content, settings, CUSTOMER).get_body(("html",)).get_content()
    assert "<b>Evil</b>" not in page and "&lt;b&gt;Evil&lt;/b&gt;" in page
    assert "a &lt; b &amp; c" in page


# ------------------------------------------------------------------------------ failures


async def test_wrong_password_is_said_plainly_and_audited(
    session, issued, settings_store, plain_server, app_log
):
    pull, _card = issued
    delivery = delivery_for(session, settings_store, local_settings(plain_server))
    status = await delivery.send(pull.id, CUSTOMER, password="not-the-password-42")
    assert status.state == "failed" and status.reason == "auth"
    assert "535" in status.error.message and "user name or password" in status.error.message
    assert plain_server.received == []
    [event] = await email_events(session, pull.id)
    assert event.detail["outcome"] == "failed" and event.detail["reason"] == "auth"
    assert "not-the-password-42" not in json.dumps(event.detail)
    assert "not-the-password-42" not in all_text_of(app_log)


async def test_unreachable_server(session, issued, settings_store, plain_server):
    pull, _card = issued
    port = free_port()  # nobody listens there
    delivery = delivery_for(session, settings_store, local_settings(plain_server, port=port))
    status = await delivery.send(pull.id, CUSTOMER, password=PASSWORD)
    assert status.state == "failed" and status.reason == "unreachable"
    assert f"127.0.0.1:{port} cannot be reached" in status.error.message
    assert [e.detail["reason"] for e in await email_events(session, pull.id)] == ["unreachable"]


async def test_refused_recipient(session, issued, settings_store, plain_server):
    pull, _card = issued
    delivery = delivery_for(session, settings_store, local_settings(plain_server))
    status = await delivery.send(pull.id, "nobody@example.com", password=PASSWORD)
    assert status.state == "failed" and status.reason == "recipient_refused"
    assert "550" in status.detail and "nobody@example.com" in status.error.message
    assert plain_server.received == []


@pytest.mark.parametrize(
    "address",
    [
        "",
        "claire",
        "claire@",
        "@example.com",
        "claire@@example.com",
        "claire@example",
        "claire martin@example.com",
        "claire@example.com\r\nBcc: x@evil.example",
        "claire@-example.com",
        "claire..martin@example.com",
        "claire@example.123",
    ],
)
async def test_invalid_address_is_refused_before_anything_is_sent(
    session, issued, settings_store, plain_server, address
):
    pull, _card = issued
    delivery = delivery_for(session, settings_store, local_settings(plain_server))
    with pytest.raises(InvalidAddress):
        await delivery.send(pull.id, address, password=PASSWORD)
    assert plain_server.received == []
    assert await email_events(session, pull.id) == []


def test_addresses_that_are_valid():
    assert validate_address("  claire.martin+gift@Example.COM ") == "claire.martin+gift@example.com"
    assert validate_address("jean@société.fr") == "jean@xn--socit-esab.fr"
    assert validate_address("o'neil@mail.example.co.uk") == "o'neil@mail.example.co.uk"


async def test_not_configured_is_refused_before_anything_is_sent(session, issued, settings_store):
    pull, _card = issued
    delivery = delivery_for(session, settings_store, None)
    with pytest.raises(SmtpNotConfigured, match="not set up"):
        await delivery.send(pull.id, CUSTOMER, password=None)
    delivery.settings_store.save("demo", SmtpSettings(host="", sender_address="a@example.com"))
    with pytest.raises(SmtpNotConfigured, match="host name is missing"):
        await delivery.send(pull.id, CUSTOMER, password=None)
    assert await email_events(session, pull.id) == []


def test_plain_smtp_only_to_this_computer():
    remote = SmtpSettings(
        host="smtp.example.com", port=25, security=SmtpSecurity.NONE, sender_address="a@b.example"
    )
    assert "only to a server on this computer" in remote.problem()
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.53"):
        assert replace(remote, host=host).problem() is None
    assert "sender" in replace(remote, host="localhost", sender_address="nope").problem()


# ------------------------------------------------------------------------------ TLS


async def test_starttls_verifies_the_certificate_and_trusts_a_ca_file_when_told(
    session, issued, settings_store, tmp_path
):
    pull, card = issued
    certificate = self_signed(tmp_path / "tls")
    server = SmtpServer.start(auth=True, starttls=certificate.server_context())
    try:
        settings = local_settings(server, security=SmtpSecurity.STARTTLS)
        delivery = delivery_for(session, settings_store, settings)
        refused = await delivery.send(pull.id, CUSTOMER, password=PASSWORD)
        assert refused.state == "failed" and refused.reason == "tls"
        assert "self-signed certificate" in refused.error.message
        assert "CA file" in refused.error.message
        assert server.received == []

        settings_store.save("demo", replace(settings, ca_file=str(certificate.cert)))
        sent = await delivery.send(pull.id, CUSTOMER, password=PASSWORD)
        assert sent.state == "sent" and sent.attempts == 2 and sent.sent_count == 1
        [received] = server.received
        assert received.tls  # the message and the password went over TLS
        assert card.code in received.message.get_body(("plain",)).get_content()

    finally:
        server.stop()


async def test_a_trusted_certificate_for_another_name_is_refused(
    session, issued, settings_store, tmp_path
):
    """Trusting a CA file never turns the host-name check off."""
    pull, _card = issued
    certificate = self_signed(tmp_path / "tls", names=("relay.example",))
    server = SmtpServer.start(auth=True, starttls=certificate.server_context())
    try:
        settings = local_settings(
            server, security=SmtpSecurity.STARTTLS, ca_file=str(certificate.cert)
        )
        status = await delivery_for(session, settings_store, settings).send(
            pull.id, CUSTOMER, password=PASSWORD
        )
        assert status.state == "failed" and status.reason == "tls"
        assert "mismatch" in status.detail
        assert server.received == []
    finally:
        server.stop()


async def test_starttls_is_required_never_skipped(session, issued, settings_store, plain_server):
    """A server that does not offer STARTTLS is an error, not a silent plain-text send."""
    pull, _card = issued
    settings = local_settings(plain_server, security=SmtpSecurity.STARTTLS)
    delivery = delivery_for(session, settings_store, settings)
    status = await delivery.send(pull.id, CUSTOMER, password=PASSWORD)
    assert status.state == "failed" and status.reason == "tls"
    assert "does not offer STARTTLS" in status.error.message
    assert plain_server.received == []


async def test_implicit_tls_with_the_teams_ca(session, issued, settings_store, tmp_path):
    pull, _card = issued
    certificate = self_signed(tmp_path / "tls")
    server = SmtpServer.start(auth=True, implicit_tls=certificate.server_context())
    try:
        settings = local_settings(
            server, security=SmtpSecurity.TLS, host="localhost", ca_file=str(certificate.cert)
        )
        status = await delivery_for(session, settings_store, settings).send(
            pull.id, CUSTOMER, password=PASSWORD
        )
        assert status.state == "sent"
        assert [r.tls for r in server.received] == [True]
    finally:
        server.stop()


# ------------------------------------------------------------------------------ status


async def test_status_is_read_back_from_the_audit_log(
    session, issued, settings_store, plain_server
):
    pull, _card = issued
    delivery = delivery_for(session, settings_store, local_settings(plain_server))
    assert await delivery.status(pull.id) == DeliveryStatus()
    await delivery.send(pull.id, "nobody@example.com", password=PASSWORD)
    failed = await delivery.status(pull.id)
    assert (failed.state, failed.to, failed.reason, failed.attempts) == (
        "failed",
        "nobody@example.com",
        "recipient_refused",
        1,
    )
    assert failed.agent == session.engine.agent and failed.at is not None
    await delivery.send(pull.id, CUSTOMER, password=PASSWORD)  # the retry
    sent = await delivery.status(pull.id)
    assert (sent.state, sent.to, sent.attempts, sent.sent_count) == ("sent", CUSTOMER, 2, 1)


# ------------------------------------------------------------------------------ settings


def test_settings_in_a_file_password_in_the_keyring_only(settings_store, memory_keyring):
    settings = SmtpSettings(
        host="smtp.example.com",
        port=465,
        security=SmtpSecurity.TLS,
        sender_address="cards@example.com",
        sender_name="Cards",
        username="relay",
    )
    settings_store.save("Production", settings)
    settings_store.save_password("Production", PASSWORD)
    assert settings_store.get("Production") == settings
    assert settings_store.get("demo") is None
    assert memory_keyring.entries[(KEYRING_SERVICE, "smtp:Production")] == PASSWORD
    assert settings_store.load_password("Production") == PASSWORD
    assert PASSWORD not in settings_store.path.read_text("utf-8")
    assert settings_store.path.stat().st_mode & 0o077 == 0
    settings_store.delete("Production")
    assert settings_store.get("Production") is None
    assert keyring.get_password(KEYRING_SERVICE, "smtp:Production") is None


async def test_test_email(plain_server):
    to = await send_test_email(
        local_settings(plain_server), PASSWORD, "Desk@Example.com", language="fr"
    )
    assert to == "Desk@example.com"
    [received] = plain_server.received
    assert received.message["Subject"] == "Walleo Desktop\u00a0: e-mail de test"
    assert f"127.0.0.1:{plain_server.port}" in received.message.get_content()


def test_a_renamed_profile_keeps_its_settings_and_password(settings_store, memory_keyring):
    settings = SmtpSettings(host="smtp.example.com", sender_address="cards@example.com")
    settings_store.save("Old", settings)
    settings_store.save_password("Old", PASSWORD)
    settings_store.rename("Old", "New")
    assert settings_store.get("Old") is None and settings_store.get("New") == settings
    assert settings_store.load_password("New") == PASSWORD
    assert (KEYRING_SERVICE, "smtp:Old") not in memory_keyring.entries


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("smtp.example.com", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("smtp.example.com:587", False),
        ("smtp://smtp.example.com", False),
        ("user@smtp.example.com", False),
        ("smtp example.com", False),
        ("", False),
    ],
)
def test_host_names(host, valid):
    problem = SmtpSettings(host=host, sender_address="cards@example.com").problem()
    assert (problem is None) is valid, problem


def test_the_tls_context_always_verifies(tmp_path):
    certificate = self_signed(tmp_path / "tls")
    for ca_file in ("", str(certificate.cert)):
        settings = SmtpSettings(
            host="smtp.example.com", sender_address="cards@example.com", ca_file=ca_file
        )
        context = tls_context(settings)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    trusted = {c["subject"] for c in context.get_ca_certs()}
    assert ((("commonName", "Walleo test relay"),),) in trusted
