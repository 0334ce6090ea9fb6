"""Card PDF downloads (api/client.py ``download_pdf``, engine/cards.py ``CardFiles``) and TLS.

A card's PDF is the card itself (its code is printed on it), so the download is as strict as the
API: https only (plain http for this computer only), no Walleo credentials sent to wherever
``pdf_url`` points, a size cap, the content type and the ``%PDF`` magic checked, and the file
kept owner-only. Non-loopback https cases go through ``httpx.MockTransport``.
"""

from __future__ import annotations

import re
import ssl
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from walleo_desktop.api import errors as E
from walleo_desktop.api.client import Credentials, WalleoClient
from walleo_desktop.engine.cards import CardFiles
from walleo_desktop.store import CardRecord, NewPull, Store
from walleo_desktop.store.crypto import CardCipher, new_data_key

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://api.walleo.example/partners/v1"
PDF_URL = "https://cdn.walleo.example/cards/card-1.pdf"
PDF = b"%PDF-1.7\n% a card\n" + b"0" * 1000 + b"\n%%EOF\n"
CREDS = Credentials(
    api_key="ak-" + "Q7" * 20,
    identifier="partner-42",
    shared_key="6F2CE47010CF4F79B9767042BAFB1EB4",
)

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, base: str = BASE) -> WalleoClient:
    return WalleoClient(base, CREDS, transport=httpx.MockTransport(handler))


def pdf_response(request: httpx.Request, **kw: object) -> httpx.Response:
    options: dict[str, object] = {"content": PDF, "headers": {"content-type": "application/pdf"}}
    options.update(kw)
    return httpx.Response(200, **options)  # type: ignore[arg-type]


# -- download_pdf --------------------------------------------------------------------------------


async def test_a_pdf_over_https_is_fetched_without_credentials() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pdf_response(request)

    async with client(handler) as api:
        assert await api.download_pdf(PDF_URL) == PDF
    [request] = seen
    assert str(request.url) == PDF_URL
    assert "application/pdf" in request.headers["accept"]
    assert "authorization" not in request.headers  # the PDF host is not necessarily Walleo
    assert CREDS.api_key not in str(request.headers) and "Signature" not in str(request.headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.walleo.example/cards/card-1.pdf",  # plain http to another host
        "http://192.168.1.10/card.pdf",
        "ftp://cdn.walleo.example/card.pdf",
        "file:///etc/passwd",
    ],
)
async def test_anything_but_https_is_refused_before_a_request(url: str) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return pdf_response(request)

    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError, match="only https:// is accepted"):
            await api.download_pdf(url)
    assert calls == []


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"])
async def test_plain_http_is_accepted_for_this_computer_only(host: str) -> None:
    async with client(pdf_response) as api:
        assert await api.download_pdf(f"http://{host}/simulator/pdfs/card-1.pdf") == PDF


async def test_a_declared_size_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return pdf_response(request, headers={"content-type": "application/pdf",
                                              "content-length": str(50 * 2**20)})  # fmt: skip

    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError, match="larger than allowed"):
            await api.download_pdf(PDF_URL, max_bytes=10 * 2**20)


async def test_a_body_growing_past_the_cap_is_cut_off() -> None:
    chunks_sent: list[int] = []

    async def endless():  # no content-length: the cap must apply while streaming
        for _ in range(1000):
            chunks_sent.append(1)
            yield b"%PDF" + b"x" * 4092

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/pdf"}, content=endless())

    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError, match="larger than allowed"):
            await api.download_pdf(PDF_URL, max_bytes=64 * 1024)
    assert len(chunks_sent) < 100  # stopped early, not after reading everything


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/pdf", True),
        ("application/pdf; charset=binary", True),
        ("application/octet-stream", True),
        ("text/html; charset=utf-8", False),
        ("application/json", False),
        ("", False),
    ],
)
async def test_the_content_type_must_be_a_pdf_or_bytes(content_type: str, ok: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(200, headers=headers, content=PDF)

    async with client(handler) as api:
        if ok:
            assert await api.download_pdf(PDF_URL) == PDF
        else:
            with pytest.raises(E.UnexpectedResponseError, match="not what was expected"):
                await api.download_pdf(PDF_URL)


async def test_the_body_must_start_like_a_pdf() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return pdf_response(request, content=b"<html>login page</html>")

    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError, match="not a PDF"):
            await api.download_pdf(PDF_URL)


@pytest.mark.parametrize("status", [301, 302, 307, 403, 404, 500])
async def test_only_200_is_a_pdf_and_redirects_are_not_followed(status: int) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if status in (301, 302, 307):  # e.g. towards plain http, or another host
            return httpx.Response(status, headers={"location": "http://evil.example/c.pdf"})
        return httpx.Response(status, content=b"no")

    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError, match=f"HTTP {status}") as caught:
            await api.download_pdf(PDF_URL)
    assert caught.value.http_status == status
    assert seen == [PDF_URL]


async def test_a_transport_failure_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with client(handler) as api:
        with pytest.raises(E.WalleoError, match="PDF failed: connection"):
            await api.download_pdf(PDF_URL)


# -- CardFiles: where the PDF is kept ------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path):
    path = tmp_path / "data" / "history.sqlite3"
    s = await Store.open_sqlite(path, cipher=CardCipher(new_data_key()))
    yield s
    await s.close()


async def a_card(store: Store, pdf_url: str = PDF_URL) -> CardRecord:
    [pull] = await store.add_pulls([NewPull(request_id="r1", gift_card_code="FNAC", amount=50)])
    card = CardRecord(
        card_id="card-1/../x",  # ids come from Walleo: never trusted as file names
        pull_id=pull.id,
        code="4929183746501928",
        pin_code="5820",
        expire_at=None,
        amount=50,
        gift_card_code="FNAC",
        pdf_url=pdf_url,
        created_at=datetime.now(UTC),
    )
    await store.record_card(pull.id, card)
    return card


async def test_the_pdf_is_saved_once_owner_only(store: Store, tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return pdf_response(request)

    card = await a_card(store)
    directory = tmp_path / "data" / "cards"
    async with client(handler) as api:
        files = CardFiles(api, store, directory)
        path = await files.pdf(card)
        assert await files.pdf(card) == path  # reused, not downloaded again
    assert calls == [PDF_URL]
    assert path.parent == directory and path.name == "card-1x.pdf"
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert (await store.get_card(card.card_id)).pdf_path == str(path)
    assert [p.name for p in directory.iterdir()] == [path.name]  # no .part left behind


async def test_a_refused_pdf_leaves_no_file(store: Store, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return pdf_response(request, content=b"not a pdf")

    card = await a_card(store)
    directory = tmp_path / "data" / "cards"
    async with client(handler) as api:
        with pytest.raises(E.UnexpectedResponseError):
            await CardFiles(api, store, directory).pdf(card)
    assert not directory.exists() or list(directory.iterdir()) == []
    assert (await store.get_card(card.card_id)).pdf_path == ""


# -- TLS -----------------------------------------------------------------------------------------


async def test_tls_certificates_and_host_names_are_verified() -> None:
    """The client keeps httpx's default: a verifying SSL context (nothing turns it off)."""
    async with WalleoClient(BASE, CREDS) as api:
        pool = api._http._transport._pool  # type: ignore[attr-defined]
        context: ssl.SSLContext = pool._ssl_context
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True


def test_no_code_turns_tls_verification_off() -> None:
    pattern = re.compile(
        r"verify\s*=\s*(False|0|None)|CERT_NONE|check_hostname\s*=\s*False|"
        r"_create_unverified_context|PYTHONHTTPSVERIFY|SSL_CERT_FILE|trust_env\s*=\s*True"
    )
    offenders = []
    for path in sorted((ROOT / "walleo_desktop").rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if pattern.search(line) or re.search(r"\bverify\s*=", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_plain_http_is_refused_for_walleo_itself() -> None:
    with pytest.raises(E.ConfigurationError, match="only allowed for a simulator"):
        WalleoClient("http://api.walleo.example/partners/v1", CREDS)
    WalleoClient("http://127.0.0.1:8765/partners/v1", CREDS)  # a local simulator is fine
