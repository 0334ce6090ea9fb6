"""Deliver an issued card to its customer by e-mail, through the team's SMTP server. No Qt.

- **Settings** (host, port, security, sender, user name, an extra CA file to trust) are kept per
  connection profile in ``smtp.json`` beside ``profiles.json``, mode 0600. The **password** is
  kept only in the OS keyring, entry ``smtp:<profile>`` of service ``walleo-desktop``, never in
  a file or a log. Like ``Profiles``, the keyring calls here block: the window runs them off the
  GUI thread with a timeout, the CLI calls them in a thread too.
- **The message** is built with the standard library's ``email`` package: an HTML body (brand,
  amount, code, PIN, expiry day, how to use the card online and in shops, the terms), a
  plain-text alternative, and the card's PDF attached when it can be had.
- **Sending** uses ``aiosmtplib`` rather than ``smtplib`` in a thread: it runs on the app's own
  asyncio loop (qasync in the window), every step is bounded by a timeout, and a send the user
  abandons is cancelled for real, where a blocked ``smtplib`` call would leave a thread behind.
  TLS certificates are always verified (the system's authorities, certifi's, and the CA file
  the user chose); plain SMTP is accepted only for a server on this computer.
- **Every attempt is audited**: one ``card_email`` event per attempt (who: the engine's agent,
  when: the event's time, to whom, the outcome and its reason). Never the code, the PIN, the
  body or the password. The delivery status of a card (sent / failed / never) is read back from
  those events, so the history's schema does not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import json
import logging
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import keyring
import keyring.errors

from walleo_desktop.api.errors import ConfigurationError, WalleoError
from walleo_desktop.api.models import GiftCard
from walleo_desktop.engine.cards import CardFiles
from walleo_desktop.engine.files import write_private
from walleo_desktop.engine.profiles import KEYRING_SERVICE, KeyringUnavailable, default_config_dir
from walleo_desktop.logs import REDACTOR, register_secret
from walleo_desktop.store import Store
from walleo_desktop.store.records import CardRecord, EventRecord, PullRecord
from walleo_desktop.timezones import expiry_day

if TYPE_CHECKING:
    # Imported where a message is built or sent: the window builds this service at start,
    # and its first paint need not wait for the SMTP client and the e-mail package.
    from email.headerregistry import Address
    from email.message import EmailMessage

    import aiosmtplib

__all__ = [
    "DEFAULT_PORTS",
    "EMAIL_EVENT",
    "LANGUAGES",
    "CardContent",
    "CardDelivery",
    "DeliveryError",
    "DeliveryStatus",
    "InvalidAddress",
    "SmtpNotConfigured",
    "SmtpSecurity",
    "SmtpSettings",
    "SmtpSettingsStore",
    "build_message",
    "card_content",
    "format_day",
    "format_money",
    "html_body",
    "is_local_host",
    "send_message",
    "send_test_email",
    "subject_for",
    "text_body",
    "tls_context",
    "valid_host",
    "validate_address",
]

log = logging.getLogger("walleo.engine.delivery")

#: The event kind of an e-mail delivery attempt (its detail never holds a code, PIN or body).
EMAIL_EVENT = "card_email"
#: Seconds each SMTP step (connect, each command, the data) may take.
STEP_TIMEOUT = 20.0
#: Seconds a whole send may take, however many steps it has.
SEND_TIMEOUT = 60.0
LANGUAGES = ("fr", "en")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587); required
    TLS = "tls"  # TLS from the first byte ("SMTPS", port 465)
    NONE = "none"  # no encryption: only for a server on this computer


DEFAULT_PORTS = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465, SmtpSecurity.NONE: 25}


# ---------------------------------------------------------------------------------- errors


class DeliveryError(Exception):
    """A delivery that could not be made. ``str()`` is an English sentence (CLI, logs, events);
    ``reason`` is a stable code the window turns into its own words, ``detail`` what the server
    or the system said (never a secret)."""

    reason: str = "failed"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        detail: str = "",
        host: str = "",
        port: int = 0,
        address: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.detail = detail
        self.host = host
        self.port = port
        self.address = address


class SmtpNotConfigured(DeliveryError):
    """No usable SMTP settings (or no password) for this profile: nothing was attempted."""

    reason = "not_configured"


class InvalidAddress(DeliveryError):
    """Not an e-mail address we can send to: refused before anything is sent."""

    reason = "invalid_address"


# ---------------------------------------------------------------------------------- addresses

# The dot-atom of RFC 5322: what a customer's address looks like in practice. Quoted local
# parts and address literals are refused: real customers do not have them, typos often do.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def validate_address(text: str) -> str:
    """``text`` as an address to send to (domain in ASCII, lower case), or ``InvalidAddress``."""
    address = text.strip()

    def refuse(why: str) -> InvalidAddress:
        return InvalidAddress(
            f"{address!r} is not a valid e-mail address ({why}).", address=address, detail=why
        )

    if not address:
        raise refuse("it is empty")
    if any(ch.isspace() for ch in address) or any(ord(ch) < 32 for ch in address):
        raise refuse("it contains a space or a line break")
    if address.count("@") != 1:
        raise refuse("it needs exactly one @")
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        raise refuse("the part before the @ is not valid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise refuse("the domain is not valid") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise refuse("the domain is not valid")
    if labels[-1].isdigit():
        raise refuse("the domain is not valid")
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:
        raise refuse("it is too long")
    return result


def valid_host(host: str) -> bool:
    """A host name or an IP address alone: no scheme, user, path or port."""
    host = host.strip()
    if not host or any(ch.isspace() for ch in host) or any(ch in host for ch in "/@?#"):
        return False
    if ":" in host:  # only inside an IPv6 address
        try:
            return ipaddress.ip_address(host.strip("[]")).version == 6
        except ValueError:
            return False
    return True


def is_local_host(host: str) -> bool:
    """Whether ``host`` is this computer (plain SMTP is accepted only there)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the team's SMTP server (no password: that is in the keyring)."""

    host: str
    port: int = DEFAULT_PORTS[SmtpSecurity.STARTTLS]
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    sender_address: str = ""
    sender_name: str = ""
    username: str = ""
    # A PEM file of certificate authorities to trust besides the system's (a company's own CA,
    # or a relay's self-signed certificate). Verification itself is never turned off.
    ca_file: str = ""

    def problem(self) -> str | None:
        """What is wrong with these settings (an English sentence), or None."""
        host = self.host.strip()
        if not host:
            return "The SMTP server's host name is missing."
        if not valid_host(host):
            return f"{host!r} is not a host name (write it without smtp:// or a port)."
        if not 0 < self.port < 65536:
            return f"The SMTP port must be between 1 and 65535, not {self.port}."
        if self.security is SmtpSecurity.NONE and not is_local_host(host):
            return (
                "An SMTP connection without encryption is allowed only to a server on this "
                "computer: choose STARTTLS or TLS."
            )
        if not self.sender_address.strip():
            return "The sender's address is missing."
        try:
            validate_address(self.sender_address)
        except InvalidAddress:
            return f"The sender's address {self.sender_address.strip()!r} is not valid."
        if any(ch in self.sender_name for ch in "\r\n"):
            return "The sender's name cannot contain a line break."
        if self.ca_file and not Path(self.ca_file).is_file():
            return f"The CA file {self.ca_file} does not exist."
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["security"] = self.security.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SmtpSettings:
        try:
            security = SmtpSecurity(str(data.get("security") or SmtpSecurity.STARTTLS.value))
            port = int(data.get("port") or DEFAULT_PORTS[security])
        except (TypeError, ValueError):
            raise ConfigurationError("The e-mail settings file is damaged.") from None
        return cls(
            host=str(data.get("host") or ""),
            port=port,
            security=security,
            sender_address=str(data.get("sender_address") or ""),
            sender_name=str(data.get("sender_name") or ""),
            username=str(data.get("username") or ""),
            ca_file=str(data.get("ca_file") or ""),
        )


def _password_entry(profile: str) -> str:
    return f"smtp:{profile}"


class SmtpSettingsStore:
    """``smtp.json`` in the config dir (settings per profile) and the keyring's passwords.

    The profile key is the session's profile name (``Connection.profile``: ``demo`` in demo
    mode). The password methods block (keyring): run them off the GUI thread.
    """

    def __init__(self, config_dir: Path | None = None) -> None:
        self.config_dir = config_dir or default_config_dir()
        self.path = self.config_dir / "smtp.json"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {"profiles": {}}
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"The e-mail settings file {self.path} cannot be read: {exc}"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            raise ConfigurationError(f"The e-mail settings file {self.path} is not valid.")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True).encode("utf-8"))

    def get(self, profile: str) -> SmtpSettings | None:
        item = self._read()["profiles"].get(profile)
        return SmtpSettings.from_json(item) if isinstance(item, dict) else None

    def save(self, profile: str, settings: SmtpSettings) -> None:
        """Write the settings (never the password: ``save_password``)."""
        data = self._read()
        data["profiles"][profile] = settings.to_json()
        self._write(data)

    def delete(self, profile: str) -> None:
        """Forget the profile's settings and its keyring password (blocking)."""
        data = self._read()
        if data["profiles"].pop(profile, None) is not None:
            self._write(data)
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(KEYRING_SERVICE, _password_entry(profile))

    def rename(self, old: str, new: str) -> None:
        """Carry a renamed profile's settings and password over to its new name (blocking)."""
        data = self._read()
        item = data["profiles"].pop(old, None)
        if item is None:
            return
        data["profiles"][new] = item
        self._write(data)
        with contextlib.suppress(keyring.errors.KeyringError):
            password = keyring.get_password(KEYRING_SERVICE, _password_entry(old))
            if password:
                keyring.set_password(KEYRING_SERVICE, _password_entry(new), password)
                keyring.delete_password(KEYRING_SERVICE, _password_entry(old))

    def load_password(self, profile: str) -> str | None:
        try:
            password = keyring.get_password(KEYRING_SERVICE, _password_entry(profile))
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The system keyring cannot be read: {exc}") from exc
        if password:
            register_secret(password)
        return password or None

    def save_password(self, profile: str, password: str) -> None:
        """Keep ``password`` in the keyring; an empty one removes the entry."""
        try:
            if password:
                register_secret(password)
                keyring.set_password(KEYRING_SERVICE, _password_entry(profile), password)
            else:
                with contextlib.suppress(keyring.errors.PasswordDeleteError):
                    keyring.delete_password(KEYRING_SERVICE, _password_entry(profile))
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(
                f"The system keyring cannot store the SMTP password: {exc}"
            ) from exc


# ---------------------------------------------------------------------------------- the message


@dataclass(frozen=True, slots=True)
class CardContent:
    """What a customer receives about one card."""

    brand: str
    amount: int
    currency: str
    code: str
    pin: str = ""
    expires_on: date | None = None
    how_to_use_online: str = ""
    how_to_use_offline: str = ""
    terms: str = ""

    def __repr__(self) -> str:  # never print a code or PIN by accident
        return f"CardContent(brand={self.brand!r}, amount={self.amount})"


def _gift_card_of(pull: PullRecord) -> GiftCard | None:
    if not pull.catalog_snapshot:
        return None
    try:
        return GiftCard.from_json(pull.catalog_snapshot)
    except ValueError:
        return None


def card_content(
    pull: PullRecord, card: CardRecord, gift_card: GiftCard | None = None
) -> CardContent:
    """The content of the card's e-mail: the card itself, and the brand's instructions from the
    catalog as it was when the card was pulled (or ``gift_card`` when given)."""
    gift_card = gift_card or _gift_card_of(pull)
    return CardContent(
        brand=pull.gift_card_name or (gift_card.name if gift_card else "") or pull.gift_card_code,
        amount=card.amount if card.amount is not None else pull.amount,
        currency=pull.currency,
        code=card.code.strip(),
        pin=card.pin_code.strip(),
        expires_on=expiry_day(card.expire_at) if card.expire_at else None,
        how_to_use_online=gift_card.how_to_use_online.strip() if gift_card else "",
        how_to_use_offline=gift_card.how_to_use_offline.strip() if gift_card else "",
        terms=gift_card.term_of_use.strip() if gift_card else "",
    )


_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Your {brand} gift card ({amount})",
        "intro": "Here is your {brand} gift card.",
        "code": "Code",
        "pin": "PIN",
        "expires": "Valid until {day}",
        "no_expiry": "No expiry date",
        "online": "How to use it online",
        "offline": "How to use it in shops",
        "terms": "Terms of use",
        "pdf": "The card is attached as a PDF: you can print it or show it on your phone.",
        "keep": "Keep this e-mail safe: anyone who has the code can spend the card.",
        "sent_by": "Sent by {sender}.",
        "test_subject": "Walleo Desktop: test e-mail",
        "test_body": (
            "This test e-mail was sent by Walleo Desktop through {host}:{port}. "
            "The e-mail settings work."
        ),
    },
    "fr": {
        "subject": "Votre carte cadeau {brand} ({amount})",
        "intro": "Voici votre carte cadeau {brand}.",
        "code": "Code",
        "pin": "Code PIN",
        "expires": "Valable jusqu’au {day}",
        "no_expiry": "Sans date d’expiration",
        "online": "Utilisation en ligne",
        "offline": "Utilisation en magasin",
        "terms": "Conditions d’utilisation",
        "pdf": "La carte est jointe en PDF\u00a0: vous pouvez l’imprimer ou la présenter sur votre "
        "téléphone.",
        "keep": "Conservez cet e-mail en lieu sûr\u00a0: toute personne qui a le code peut "
        "utiliser la carte.",
        "sent_by": "Envoyé par {sender}.",
        "test_subject": "Walleo Desktop\u00a0: e-mail de test",
        "test_body": (
            "Cet e-mail de test a été envoyé par Walleo Desktop via {host}:{port}. "
            "Les réglages d’e-mail fonctionnent."
        ),
    },
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


def _texts(language: str) -> dict[str, str]:
    return _TEXTS.get(language, _TEXTS["en"])


def format_money(amount: int, currency: str, language: str) -> str:
    """``50 €`` / ``1 234 €`` in French, ``€50`` / ``€1,234`` in English (no-break spaces)."""
    code = (currency or "").upper()
    symbol = _SYMBOLS.get(code, code)
    if language == "fr":
        return f"{amount:,}".replace(",", "\u202f") + "\u00a0" + symbol
    if symbol in ("€", "$", "£"):
        return f"{symbol}{amount:,}"
    return f"{amount:,}\u00a0{symbol}"


def format_day(day: date, language: str) -> str:
    month = _MONTHS.get(language, _MONTHS["en"]).split()[day.month - 1]
    return f"{day.day} {month} {day.year}"


def subject_for(content: CardContent, language: str) -> str:
    t = _texts(language)
    return t["subject"].format(
        brand=content.brand, amount=format_money(content.amount, content.currency, language)
    )


def _expiry_line(content: CardContent, language: str) -> str:
    t = _texts(language)
    if content.expires_on is None:
        return t["no_expiry"]
    return t["expires"].format(day=format_day(content.expires_on, language))


def text_body(
    content: CardContent, language: str, *, sender_name: str = "", pdf_attached: bool = False
) -> str:
    """The plain-text alternative."""
    t = _texts(language)
    lines = [
        t["intro"].format(brand=content.brand),
        "",
        f"{content.brand} — {format_money(content.amount, content.currency, language)}",
        f"{t['code']}: {content.code}",
    ]
    if content.pin:
        lines.append(f"{t['pin']}: {content.pin}")
    lines.append(_expiry_line(content, language))
    for title, text in (
        (t["online"], content.how_to_use_online),
        (t["offline"], content.how_to_use_offline),
        (t["terms"], content.terms),
    ):
        if text:
            lines += ["", f"{title}:", text]
    lines.append("")
    if pdf_attached:
        lines.append(t["pdf"])
    lines.append(t["keep"])
    if sender_name:
        lines += ["", t["sent_by"].format(sender=sender_name)]
    return "\n".join(lines) + "\n"


def _paragraphs(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def html_body(
    content: CardContent, language: str, *, sender_name: str = "", pdf_attached: bool = False
) -> str:
    """The HTML body: inline styles and tables only, as mail clients need. Every text from the
    catalog or the card is escaped."""
    t = _texts(language)
    e = html.escape
    amount = format_money(content.amount, content.currency, language)
    label = "margin:16px 0 4px;font-size:13px;color:#555555;"
    boxed = (
        "margin:0;padding:10px 12px;background:#f3f4f6;border:1px solid #d1d5db;"
        "border-radius:6px;font-family:'Courier New',Courier,monospace;font-size:20px;"
        "letter-spacing:1px;"
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(language)}"><head><meta charset="utf-8">',
        f"<title>{e(subject_for(content, language))}</title></head>",
        '<body style="margin:0;padding:0;background:#f4f4f5;'
        'font-family:Arial,Helvetica,sans-serif;color:#1f2937;">',
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0">'
        '<tr><td align="center" style="padding:24px 12px;">',
        '<table role="presentation" width="560" cellpadding="0" cellspacing="0" '
        'style="max-width:560px;background:#ffffff;border:1px solid #e5e7eb;">',
        '<tr><td style="padding:24px;">',
        f'<p style="margin:0 0 12px;">{e(t["intro"].format(brand=content.brand))}</p>',
        f'<h1 style="margin:0;font-size:22px;">{e(content.brand)}</h1>',
        f'<p style="margin:4px 0 0;font-size:28px;font-weight:bold;">{e(amount)}</p>',
        f'<p style="{label}">{e(t["code"])}</p>',
        f'<p class="code" style="{boxed}">{e(content.code)}</p>',
    ]
    if content.pin:
        parts += [
            f'<p style="{label}">{e(t["pin"])}</p>',
            f'<p class="pin" style="{boxed}">{e(content.pin)}</p>',
        ]
    parts.append(
        f'<p style="margin:16px 0 0;font-weight:bold;">{e(_expiry_line(content, language))}</p>'
    )
    for title, text, size in (
        (t["online"], content.how_to_use_online, 15),
        (t["offline"], content.how_to_use_offline, 15),
        (t["terms"], content.terms, 12),
    ):
        if text:
            parts += [
                f'<h2 style="margin:20px 0 4px;font-size:{size + 1}px;">{e(title)}</h2>',
                f'<p style="margin:0;font-size:{size}px;line-height:1.4;">{_paragraphs(text)}</p>',
            ]
    footer = []
    if pdf_attached:
        footer.append(t["pdf"])
    footer.append(t["keep"])
    if sender_name:
        footer.append(t["sent_by"].format(sender=sender_name))
    parts += [
        '<p style="margin:24px 0 0;font-size:12px;color:#555555;">'
        + "<br>".join(e(line) for line in footer)
        + "</p>",
        "</td></tr></table></td></tr></table></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _sender(settings: SmtpSettings) -> Address:
    from email.headerregistry import Address

    local, domain = validate_address(settings.sender_address).split("@")
    return Address(display_name=settings.sender_name.strip(), username=local, domain=domain)


def _new_message(settings: SmtpSettings, to: str, subject: str) -> EmailMessage:
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    sender = _sender(settings)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(addr_spec=to)
    message["Date"] = format_datetime(datetime.now().astimezone())
    # With a domain, make_msgid never asks the system for its (possibly slow) host name.
    message["Message-ID"] = make_msgid(domain=sender.domain)
    return message


def build_message(
    content: CardContent,
    settings: SmtpSettings,
    to: str,
    *,
    language: str = "fr",
    pdf: bytes | None = None,
    pdf_name: str = "card.pdf",
) -> EmailMessage:
    """The card's e-mail: text and HTML alternatives, the PDF attached when given."""
    to = validate_address(to)
    message = _new_message(settings, to, subject_for(content, language))
    name = settings.sender_name.strip()
    attached = pdf is not None
    message.set_content(text_body(content, language, sender_name=name, pdf_attached=attached))
    message.add_alternative(
        html_body(content, language, sender_name=name, pdf_attached=attached), subtype="html"
    )
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message


# ---------------------------------------------------------------------------------- sending


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and host name, trusting the
    system's authorities, certifi's (bundled apps may find no system store) and the user's CA
    file. Blocking (reads files): call it in a thread."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    with contextlib.suppress(ImportError, OSError):
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    if settings.ca_file:
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise DeliveryError(
                f"The CA file {settings.ca_file} could not be read: {exc}",
                reason="tls",
                detail=f"the CA file could not be read ({exc})",
                host=settings.host,
                port=settings.port,
            ) from exc
    return context


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def _failure(exc: BaseException, settings: SmtpSettings, to: str) -> DeliveryError:
    """The exception of a failed send as a DeliveryError with a plain sentence."""
    import aiosmtplib

    where = f"{settings.host}:{settings.port}"
    common: dict[str, Any] = {"host": settings.host, "port": settings.port, "address": to}
    tls = _ssl_cause(exc)
    if tls is not None:
        detail = (
            tls.verify_message
            if isinstance(tls, ssl.SSLCertVerificationError) and tls.verify_message
            else (tls.reason or str(tls))
        )
        return DeliveryError(
            f"A secure connection to the SMTP server {where} could not be made: {detail}. "
            "If your team uses its own certificate authority, set its CA file in the e-mail "
            "settings.",
            reason="tls",
            detail=str(detail),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"The SMTP server {where} refused the user name or password ({_reply(exc)}).",
            reason="auth",
            detail=_reply(exc),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0] if exc.recipients else None
        detail = _reply(refused) if refused is not None else str(exc)
        return DeliveryError(
            f"The SMTP server refused the address {to} ({detail}).",
            reason="recipient_refused",
            detail=detail,
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return DeliveryError(
            f"The SMTP server refused the address {to} ({_reply(exc)}).",
            reason="recipient_refused",
            detail=_reply(exc),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return DeliveryError(
            f"The SMTP server refused the sender address {settings.sender_address} "
            f"({_reply(exc)}).",
            reason="sender_refused",
            detail=_reply(exc),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError | aiosmtplib.SMTPConnectError):
        cause = exc.__cause__
        detail = (
            (cause.strerror or str(cause))
            if isinstance(cause, OSError)
            else "no answer in time"
            if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError)
            else str(exc)
        )
        return DeliveryError(
            f"The SMTP server {where} cannot be reached ({detail}).",
            reason="unreachable",
            detail=str(detail),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryError(
            f"The SMTP server {where} did not answer in time.",
            reason="timeout",
            detail="no answer in time",
            **common,
        )
    if type(exc) in (aiosmtplib.SMTPException, aiosmtplib.SMTPNotSupported):
        # aiosmtplib says "SMTP STARTTLS extension not supported by server." (a plain
        # SMTPException) or "SMTP AUTH extension not supported by server." (SMTPNotSupported).
        text = str(exc)
        if "STARTTLS" in text.upper():
            return DeliveryError(
                f"The SMTP server {where} does not offer STARTTLS: choose TLS, or ask for the "
                "server's STARTTLS port.",
                reason="tls",
                detail="the server does not offer STARTTLS",
                **common,
            )
        if "AUTH" in text.upper():
            return DeliveryError(
                f"The SMTP server {where} does not accept a user name and password here "
                "(no AUTH): leave the user name empty, or use its secure port.",
                reason="auth",
                detail="the server does not offer AUTH",
                **common,
            )
        return DeliveryError(
            f"The SMTP server {where}: {text}", reason="smtp", detail=text, **common
        )
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return DeliveryError(
            f"The SMTP server refused the message ({_reply(exc)}).",
            reason="rejected",
            detail=_reply(exc),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryError(
            f"The SMTP server {where} refused: {_reply(exc)}.",
            reason="smtp",
            detail=_reply(exc),
            **common,
        )
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return DeliveryError(
            f"The SMTP server {where} closed the connection.",
            reason="unreachable",
            detail="the server closed the connection",
            **common,
        )
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc)
        return DeliveryError(
            f"The SMTP server {where} cannot be reached ({detail}).",
            reason="unreachable",
            detail=detail,
            **common,
        )
    return DeliveryError(
        f"The e-mail could not be sent ({type(exc).__name__}: {exc}).",
        reason="smtp",
        detail=str(exc),
        **common,
    )


async def send_message(
    message: EmailMessage,
    settings: SmtpSettings,
    password: str | None,
    *,
    recipients: Sequence[str],
    step_timeout: float = STEP_TIMEOUT,
    total_timeout: float = SEND_TIMEOUT,
) -> None:
    """Send ``message`` through the server of ``settings``. Raises ``DeliveryError``."""
    import aiosmtplib

    problem = settings.problem()
    if problem is not None:
        raise SmtpNotConfigured(problem, detail=problem)
    if settings.username and not password:
        raise SmtpNotConfigured(
            "No SMTP password is stored for this profile: enter it in the e-mail settings.",
            detail="no password",
        )
    if password:
        register_secret(password)
    context: ssl.SSLContext | None = None
    if settings.security is not SmtpSecurity.NONE:
        context = await asyncio.to_thread(tls_context, settings)
    client = aiosmtplib.SMTP(
        hostname=settings.host.strip().strip("[]"),  # an IPv6 address without its brackets
        port=settings.port,
        use_tls=settings.security is SmtpSecurity.TLS,
        # True: STARTTLS is required (a server that does not offer it is an error, never a
        # silent fall back to plain text); False: never attempted (plain, this computer only).
        start_tls=settings.security is SmtpSecurity.STARTTLS,
        tls_context=context,
        timeout=step_timeout,
    )
    try:
        async with asyncio.timeout(total_timeout):
            await client.connect()
            try:
                if settings.username:
                    await client.login(settings.username, password or "")
                await client.send_message(
                    message, sender=validate_address(settings.sender_address), recipients=recipients
                )
            finally:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()
    except DeliveryError:
        raise
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as exc:
        raise _failure(exc, settings, ", ".join(recipients)) from exc
    finally:
        client.close()


async def send_test_email(
    settings: SmtpSettings, password: str | None, to: str, *, language: str = "en"
) -> str:
    """Send a short test e-mail to ``to``; returns the address it went to."""
    to = validate_address(to)
    t = _texts(language)
    message = _new_message(settings, to, t["test_subject"])
    message.set_content(t["test_body"].format(host=settings.host, port=settings.port) + "\n")
    await send_message(message, settings, password, recipients=[to])
    log.info("test e-mail sent to %s through %s:%s", to, settings.host, settings.port)
    return to


# ---------------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A card's e-mail delivery as the audit log tells it (the last attempt decides)."""

    state: Literal["never", "sent", "failed"] = "never"
    to: str = ""
    at: datetime | None = None
    agent: str = ""
    reason: str = ""
    detail: str = ""
    message: str = ""
    pdf_attached: bool = False
    language: str = ""
    attempts: int = 0
    sent_count: int = 0
    error: DeliveryError | None = field(default=None, compare=False)

    @classmethod
    def from_events(cls, events: Sequence[EventRecord]) -> DeliveryStatus:
        attempts = [e for e in events if e.kind == EMAIL_EVENT]
        if not attempts:
            return cls()
        last = attempts[-1]
        d = last.detail
        outcome = d.get("outcome")
        return cls(
            state="sent" if outcome == "sent" else "failed",
            to=str(d.get("to") or ""),
            at=last.at,
            agent=str(d.get("agent") or ""),
            reason=str(d.get("reason") or ""),
            detail=str(d.get("detail") or ""),
            message=str(d.get("message") or ""),
            pdf_attached=bool(d.get("pdf_attached")),
            language=str(d.get("language") or ""),
            attempts=len(attempts),
            sent_count=sum(1 for e in attempts if e.detail.get("outcome") == "sent"),
        )


class CardDelivery:
    """E-mails one pull's card, audits each attempt, and tells a card's delivery status."""

    def __init__(
        self,
        store: Store,
        cards: CardFiles,
        *,
        agent: str,
        profile: str,
        settings_store: SmtpSettingsStore | None = None,
        catalog: Any = None,
    ) -> None:
        self._store = store
        self._cards = cards
        self.agent = agent
        self.profile = profile
        self.settings_store = settings_store or SmtpSettingsStore()
        self._catalog = catalog  # CatalogService: instructions when the snapshot has none

    @classmethod
    def for_session(
        cls, session: Any, settings_store: SmtpSettingsStore | None = None
    ) -> CardDelivery:
        """The delivery service of a ``Session`` (its store, card files, agent and profile)."""
        return cls(
            session.store,
            session.cards,
            agent=session.engine.agent,
            profile=session.connection.profile,
            settings_store=settings_store,
            catalog=session.catalog,
        )

    def settings(self) -> SmtpSettings | None:
        """This profile's SMTP settings (a small file read), None when never set."""
        return self.settings_store.get(self.profile)

    def configured(self) -> SmtpSettings:
        """The settings, or ``SmtpNotConfigured`` saying what is missing."""
        settings = self.settings()
        if settings is None:
            raise SmtpNotConfigured(
                f"E-mail is not set up for profile {self.profile!r}: enter the team's SMTP "
                "server in the window's Settings (E-mail).",
                detail="no settings",
            )
        problem = settings.problem()
        if problem is not None:
            raise SmtpNotConfigured(problem, detail=problem)
        return settings

    def load_password(self) -> str | None:
        """The profile's SMTP password from the keyring (blocking; KeyringUnavailable)."""
        return self.settings_store.load_password(self.profile)

    def content(self, pull: PullRecord, card: CardRecord) -> CardContent:
        gift_card = _gift_card_of(pull)
        if gift_card is None and self._catalog is not None:
            gift_card = self._catalog.find(pull.gift_card_code)
        return card_content(pull, card, gift_card)

    async def status(self, pull_id: int) -> DeliveryStatus:
        return DeliveryStatus.from_events(await self._store.events(pull_id))

    async def _pdf(self, card: CardRecord) -> bytes | None:
        try:
            path = await self._cards.pdf(card)
            return await asyncio.to_thread(Path(path).read_bytes)
        except (WalleoError, OSError) as exc:
            log.info("card %s e-mailed without its PDF: %s", card.card_id, exc)
            return None

    async def send(
        self, pull_id: int, to: str, *, password: str | None, language: str = "fr"
    ) -> DeliveryStatus:
        """E-mail the card of ``pull_id`` to ``to``; the attempt is audited either way.

        Raises ``InvalidAddress`` / ``SmtpNotConfigured`` / ``DeliveryError("no_card")`` before
        any attempt (nothing sent, nothing audited). Otherwise returns the new status: ``sent``,
        or ``failed`` with ``error`` set.
        """
        address = validate_address(to)
        settings = self.configured()
        if settings.username and not password:
            raise SmtpNotConfigured(
                "No SMTP password is stored for this profile: enter it in the e-mail settings.",
                detail="no password",
            )
        pull = await self._store.get_pull(pull_id)
        card = await self._store.card_for_pull(pull_id)
        if card is None or not card.code:
            raise DeliveryError(
                f"Pull {pull.request_id} has no card to send.", reason="no_card", address=address
            )
        register_secret(card.code, card.pin_code, password)
        pdf = await self._pdf(card)
        content = self.content(pull, card)
        language = language if language in LANGUAGES else "fr"
        message = build_message(
            content,
            settings,
            address,
            language=language,
            pdf=pdf,
            pdf_name=f"{_file_part(content.brand)}-{content.amount}.pdf",
        )
        error: DeliveryError | None = None
        try:
            await send_message(message, settings, password, recipients=[address])
        except DeliveryError as exc:
            error = exc
        detail: dict[str, Any] = {
            "agent": self.agent,
            "to": address,
            "outcome": "sent" if error is None else "failed",
            "reason": "" if error is None else error.reason,
            "detail": "" if error is None else REDACTOR.redact(error.detail),
            "message": "" if error is None else REDACTOR.redact(error.message),
            "smtp_server": f"{settings.host}:{settings.port}",
            "pdf_attached": pdf is not None,
            "language": language,
            "message_id": str(message["Message-ID"] or ""),
            "card_id": card.card_id,
        }
        await self._store.add_event(pull_id, EMAIL_EVENT, detail)
        if error is None:
            log.info("card of pull %s e-mailed to %s by %s", pull_id, address, self.agent)
        else:
            log.warning("e-mailing the card of pull %s to %s failed: %s", pull_id, address, error)
        events = await self._store.events(pull_id)
        status = DeliveryStatus.from_events(events)
        return replace(status, error=error) if error is not None else status


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "card"
