"""The real WalleoClient against the simulator over real HTTP (uvicorn on 127.0.0.1).

Every endpoint, every documented error code with Walleo's own message, the clock-skew and
GET-signing diagnostics, every injected fault, the documented JSON examples, and a client written
from the docs' recipe alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid

import httpx
import pytest
from conftest import wait_until

from walleo_desktop.api import errors as E
from walleo_desktop.api.client import (
    MAX_CATALOG_BYTES,
    MAX_JSON_BYTES,
    MAX_RETRY_AFTER,
    Credentials,
    WalleoClient,
)
from walleo_desktop.api.models import (
    MAX_CODE_LENGTH,
    MAX_GIFT_CARD_CODE_LENGTH,
    MAX_GIFT_CARD_JSON,
    MAX_ID_LENGTH,
    MAX_INTEGER,
    MAX_LIST_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PIN_LENGTH,
    MAX_REQUEST_ID_LENGTH,
    MAX_STATUS_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TIMESTAMP_LENGTH,
    MAX_URL_LENGTH,
    Card,
    FacialValues,
    FieldTooLarge,
    GiftCard,
    Inventory,
    PullRequest,
    PullStatus,
)
from walleo_desktop.api.signing import (
    GetSigning,
    authorization_header,
    canonical_json,
    sign,
    signing_token,
)
from walleo_desktop.simulator import (
    DEMO_CREDENTIALS,
    Simulator,
    SimulatorConfig,
    serve_in_thread,
)

FAST = {"delay_scale": 0.02, "seed": 7}


def new_id() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture(scope="module")
def shared():
    """One simulator for tests that only read, or write under fresh request ids."""
    sim = Simulator(SimulatorConfig(**FAST))
    with serve_in_thread(sim) as server:
        yield server


@pytest.fixture
def make_server():
    """Start a simulator with its own config: ``make_server(balance=10)`` → server."""
    with contextlib.ExitStack() as stack:

        def make(**overrides):
            sim = Simulator(SimulatorConfig(**{**FAST, **overrides}))
            return stack.enter_context(serve_in_thread(sim))

        yield make


@pytest.fixture
async def connect():
    """``connect(server, **client_kwargs)`` → a WalleoClient closed after the test."""
    clients: list[WalleoClient] = []

    def make(server, credentials: Credentials = DEMO_CREDENTIALS, **kwargs) -> WalleoClient:
        client = WalleoClient(server.base_url, credentials, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def wait_done(client: WalleoClient, request_id: str, within: float = 2.0) -> PullRequest:
    deadline = time.monotonic() + within
    while True:
        pull = await client.get_pull_request(request_id)
        if pull.status.done:
            return pull
        assert time.monotonic() < deadline, f"still {pull.status} after {within} s"
        await asyncio.sleep(0.01)


# ----------------------------------------------------------------------------------- endpoints


async def test_catalog_lists_gift_cards_with_both_kinds_of_facial_values(shared, connect):
    client = connect(shared)
    cards = await client.list_gift_cards()
    codes = [c.code for c in cards]
    assert len(cards) == 12 and len(set(codes)) == 12
    assert {"FNAC", "DECATHLON", "SEPHORA", "IKEA", "UBER-EATS"} <= set(codes)
    assert {c.facial_values.type for c in cards} == {"fixed", "free"}
    for card in cards:
        assert card.name and card.discount is not None and card.validity_period
        assert card.logo_url.startswith(shared.base_url + "/simulator/logos/")
        assert card.logo_square_url == f"{shared.base_url}/simulator/logos/{card.code}.svg"
        assert card.barcode_symbology in {"code128", "qrcode"}
        assert card.term_of_use
    raw_pins = {type(c.raw["code_pin"]) for c in cards}
    assert {str, int, bool} <= raw_pins  # the docs leave the type open: the simulator varies it


async def test_catalog_elements_carry_every_documented_field_in_order(shared, connect):
    documented = [
        "name", "code", "barcode_symbology", "discount", "logo_url", "logo_square_url",
        "online_usable", "offline_usable", "validity_period", "splittable_online",
        "splittable_offline", "cumulative_online", "cumulative_online_limit",
        "cumulative_offline", "cumulative_offline_limit", "code_pin", "how_to_use_online",
        "how_to_use_offline", "term_of_use", "facial_values",
    ]  # fmt: skip
    client = connect(shared)
    for card in await client.list_gift_cards():
        assert list(card.raw) == documented


async def test_get_gift_card(shared, connect):
    client = connect(shared)
    card = await client.get_gift_card("DECATHLON")
    assert card.name == "Decathlon"
    assert card.facial_values == FacialValues("free", (), 20, 500, 10)
    uber = await client.get_gift_card("UBER-EATS")
    assert uber.facial_values.amounts == (15, 30, 100)


async def test_inventory_unlimited_numeric_and_stocks(shared, connect):
    client = connect(shared)
    fnac = await client.get_inventory("FNAC")
    assert (fnac.gift_card_code, fnac.gift_card_name) == ("FNAC", "Fnac")
    assert fnac.end_to_end_enabled and fnac.available_amount is None
    carrefour = await client.get_inventory("CARREFOUR")
    assert carrefour.available_amount == 50000
    spotify = await client.get_inventory("SPOTIFY")
    assert not spotify.end_to_end_enabled
    assert spotify.stock_for(60) == 0 and spotify.stock_for(10) > 0


async def test_sync_card_create_get_and_pdf(make_server, connect):
    server = make_server()
    client = connect(server)
    card = await client.create_card("SEPHORA", 50)
    assert server.simulator.card_creates == 1
    assert card.amount == 50 and card.gift_card_code == "SEPHORA"
    assert re.fullmatch(r"\d{16,19}", card.code) and re.fullmatch(r"\d{4}", card.pin_code)
    assert card.expire_at is not None and card.expire_at.utcoffset() is not None
    assert card.pdf_url == f"{server.base_url}/simulator/pdfs/{card.id}.pdf"
    again = await client.get_card(card.id)
    assert again == card
    pdf = await client.download_pdf(card.pdf_url)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert b"Sephora" in pdf and card.code.encode() in pdf


async def test_async_pull_goes_waiting_processing_success(make_server, connect):
    server = make_server(delay_scale=0.1)  # FNAC: about 0.2 s, "waiting" for the first 20 %
    client = connect(server)
    request_id = new_id()
    created = await client.create_pull_request("FNAC", 50, request_id)
    assert created.status is PullStatus.WAITING and created.card is None
    assert created.amount_cents == 5000 and created.request_id == request_id
    assert created.created_at == created.updated_at
    seen = [created.status]
    while not seen[-1].done:
        await asyncio.sleep(0.01)
        pull = await client.get_pull_request(request_id)
        if pull.status is not seen[-1]:
            seen.append(pull.status)
    assert seen == [PullStatus.WAITING, PullStatus.PROCESSING, PullStatus.SUCCESS]
    assert pull.id == created.id and pull.card is not None
    assert pull.updated_at > pull.created_at
    assert re.fullmatch(r"\d{19}", pull.card.code) and re.fullmatch(r"\d{4}", pull.card.pin_code)
    assert await client.get_card(pull.card.id) == pull.card
    assert (await client.get_pull_request(request_id)).card == pull.card  # stable
    pdf = await client.download_pdf(pull.card.pdf_url)
    assert pdf.startswith(b"%PDF") and b"Fnac" in pdf
    assert server.simulator.pull_request_creates == 1


async def test_async_pull_ends_in_error(make_server, connect):
    server = make_server(async_error_rate=1.0)
    client = connect(server)
    request_id = new_id()
    await client.create_pull_request("GOOGLE-PLAY", 25, request_id)
    pull = await wait_done(client, request_id)
    assert pull.status is PullStatus.ERROR and pull.card is None
    assert (await client.get_pull_request(request_id)).status is PullStatus.ERROR


# ------------------------------------------------------------------------------ documented errors


async def test_gift_card_not_found_everywhere(shared, connect):
    client = connect(shared)
    message = "Gift card not found with code 'IKEA-FR'"
    for call in (
        client.get_gift_card("IKEA-FR"),
        client.get_inventory("IKEA-FR"),
        client.create_pull_request("IKEA-FR", 50, new_id()),
        client.create_card("IKEA-FR", 50),
    ):
        with pytest.raises(E.GiftCardNotFound) as info:
            await call
        assert str(info.value) == message
        assert info.value.http_status == 404 and info.value.status == "not_found"


async def test_card_not_found(shared, connect):
    card_id = "4fe88e46-eb22-436c-91ec-6bf874fcf2ae"
    with pytest.raises(E.CardNotFound, match=f"^Card not found with id '{card_id}'$"):
        await connect(shared).get_card(card_id)


async def test_pull_request_not_found(shared, connect):
    with pytest.raises(E.PullRequestNotFound) as info:
        await connect(shared).get_pull_request("REQ-ID-TEST")
    assert str(info.value) == "Pull request not found with request_id: REQ-ID-TEST"


async def test_pull_request_not_found_with_an_id_that_needs_escaping(shared, connect):
    with pytest.raises(E.PullRequestNotFound) as info:
        await connect(shared).get_pull_request("R é/1?x")
    assert str(info.value) == "Pull request not found with request_id: R é/1?x"


async def test_not_enough_funds_counts_the_discount(make_server, connect):
    server = make_server(balance=48)  # FNAC 50 with 4 % discount costs exactly 48
    client = connect(server)
    await client.create_pull_request("FNAC", 50, new_id())
    with pytest.raises(E.NotEnoughFunds) as info:
        await client.create_pull_request("FNAC", 10, new_id())
    assert str(info.value) == "Your balance account is not high enough"
    assert info.value.http_status == 422 and info.value.status == "unprocessable_entity"
    with pytest.raises(E.NotEnoughFunds):
        await client.create_card("FNAC", 10)
    assert server.simulator.pull_request_creates == 1


async def test_out_of_stock(shared, connect):
    with pytest.raises(E.OutOfStock, match=r"^Out of stock gift card 'SPOTIFY'$"):
        await connect(shared).create_pull_request("SPOTIFY", 60, new_id())


@pytest.mark.parametrize(
    ("code", "amount", "message"),
    [
        ("UBER-EATS", 20, "Amount must be one of 15, 30 or 100."),
        ("DECATHLON", 25, "Amount must be within range from 20 to 500 with steps of 10."),
        ("DECATHLON", 510, "Amount must be within range from 20 to 500 with steps of 10."),
    ],
)
async def test_invalid_amount_messages(shared, connect, code, amount, message):
    client = connect(shared)
    with pytest.raises(E.InvalidAmount) as info:
        await client.create_pull_request(code, amount, new_id())
    assert str(info.value) == message
    with pytest.raises(E.InvalidAmount, match=re.escape(message)):
        await client.create_card(code, amount)


async def test_request_id_already_used_without_x_request_id_replay(make_server, connect):
    server = make_server(honour_x_request_id=False)
    client = connect(server)
    request_id = new_id()
    await client.create_pull_request("FNAC", 50, request_id)
    with pytest.raises(E.RequestIdAlreadyUsed) as info:
        await client.create_pull_request("FNAC", 50, request_id)
    assert str(info.value) == "Request id is already used"
    assert info.value.http_status == 422
    assert server.simulator.pull_request_creates == 1


async def test_x_request_id_replays_the_first_pull_request(make_server, connect):
    server = make_server()
    client = connect(server)
    request_id = new_id()
    first = await client.create_pull_request("FNAC", 50, request_id)
    second = await client.create_pull_request("FNAC", 50, request_id)
    assert second.id == first.id and second.raw == first.raw
    assert server.simulator.pull_request_creates == 1


async def test_a_rejected_pull_does_not_use_its_request_id(shared, connect):
    client = connect(shared)
    request_id = new_id()
    with pytest.raises(E.InvalidAmount):
        await client.create_pull_request("UBER-EATS", 20, request_id)
    pull = await client.create_pull_request("UBER-EATS", 30, request_id)
    assert pull.status is PullStatus.WAITING


async def test_unauthorized_wrong_api_key_or_identifier(shared, connect):
    wrong_key = Credentials("x" * 64, DEMO_CREDENTIALS.identifier, DEMO_CREDENTIALS.shared_key)
    wrong_id = Credentials(DEMO_CREDENTIALS.api_key, str(uuid.uuid4()), DEMO_CREDENTIALS.shared_key)
    for credentials in (wrong_key, wrong_id):
        with pytest.raises(E.Unauthorized) as info:
            await connect(shared, credentials).list_gift_cards()
        assert str(info.value) == "Not authorized"
        assert info.value.http_status == 401 and info.value.status == "unauthorized"


async def test_invalid_signature_wrong_shared_key(shared, connect):
    wrong = Credentials(DEMO_CREDENTIALS.api_key, DEMO_CREDENTIALS.identifier, "00" * 16)
    client = connect(shared, wrong)
    with pytest.raises(E.InvalidSignature) as info:
        await client.create_pull_request("FNAC", 50, new_id())
    assert str(info.value) == "Your request does not match your signature"
    assert info.value.clock_skew is None
    with pytest.raises(E.InvalidSignature):
        await client.get_gift_card("FNAC")  # both GET variants are tried, both fail


# ------------------------------------------------ hand-built requests: sign one thing, send another


def signed_headers(
    method: str,
    url: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    header_ts: int | None = None,
) -> dict[str, str]:
    creds = DEMO_CREDENTIALS
    ts = int(time.time()) if timestamp is None else timestamp
    signature = sign(creds.shared_key, signing_token(method, url, body, creds.identifier, ts))
    return {
        "Authorization": authorization_header(
            creds.api_key, creds.identifier, signature, ts if header_ts is None else header_ts
        ),
        "Content-Type": "application/json",
    }


def pull_body(request_id: str, amount: int = 50) -> bytes:
    return canonical_json(
        {"pull_request": {"amount": amount, "gift_card_code": "FNAC", "request_id": request_id}}
    )


def error_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


async def test_tampered_requests_are_rejected(shared):
    url = f"{shared.base_url}/pull_requests"
    body = pull_body(new_id())
    async with httpx.AsyncClient() as http:
        ok = await http.post(url, content=body, headers=signed_headers("POST", url, body))
        assert ok.status_code == 200

        rid = new_id()
        tampered_body = await http.post(
            url,
            content=pull_body(rid, amount=100),
            headers=signed_headers("POST", url, pull_body(rid, amount=50)),
        )
        assert error_code(tampered_body) == (401, "invalid_signature")

        signed_for = f"{shared.base_url}/gift_cards/FNAC"
        tampered_url = await http.get(
            f"{shared.base_url}/gift_cards/SEPHORA", headers=signed_headers("GET", signed_for, b"")
        )
        assert error_code(tampered_url) == (401, "invalid_signature")

        now = int(time.time())
        tampered_ts = await http.get(
            signed_for,
            headers=signed_headers("GET", signed_for, b"", timestamp=now, header_ts=now + 1),
        )
        assert error_code(tampered_ts) == (401, "invalid_signature")

        stale = await http.get(
            signed_for, headers=signed_headers("GET", signed_for, b"", timestamp=now - 400)
        )
        assert error_code(stale) == (401, "invalid_signature")
        assert stale.json() == {
            "errors": [
                {
                    "code": "invalid_signature",
                    "message": "Your request does not match your signature",
                }
            ],
            "status": "unauthorized",
        }
    assert shared.simulator.pull_requests.get(rid) is None


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic Zm9vOmJhcg==",
        f"Bearer {DEMO_CREDENTIALS.api_key}",
        f"Bearer {DEMO_CREDENTIALS.api_key}, Id={DEMO_CREDENTIALS.identifier}, Signature=ab",
        f"Bearer {DEMO_CREDENTIALS.api_key}, Id={DEMO_CREDENTIALS.identifier}, "
        "Signature=ab, Timestamp=soon",
    ],
)
async def test_malformed_authorization_is_unauthorized(shared, authorization):
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{shared.base_url}/gift_cards", headers={"Authorization": authorization}
        )
    assert error_code(response) == (401, "unauthorized")
    assert response.json()["errors"][0]["message"] == "Not authorized"


# ------------------------------------------------------------------------ clock and GET signing


async def test_clock_skew_is_diagnosed_from_the_date_header(make_server, connect):
    server = make_server(clock_offset=300)
    with pytest.raises(E.InvalidSignature) as info:
        await connect(server).list_gift_cards()
    assert info.value.clock_skew == pytest.approx(300, abs=2)
    assert re.search(r"clock is (5 min 0 s|4 min 59 s) behind", str(info.value)), str(info.value)


@pytest.mark.parametrize(
    ("offset", "words"),
    [(360, "6 min 0 s behind"), (-3700, "1 h 1 min 40 s ahead of")],
)
async def test_clock_skew_exact_with_fixed_clocks(make_server, connect, offset, words):
    fixed = 1_700_000_000.0
    server = make_server(clock=lambda: fixed, clock_offset=offset)
    with pytest.raises(E.InvalidSignature) as info:
        await connect(server, clock=lambda: fixed).create_pull_request("FNAC", 50, new_id())
    assert info.value.clock_skew == offset
    assert f"This computer's clock is {words} Walleo's" in str(info.value)


async def test_small_clock_difference_is_accepted(make_server, connect):
    server = make_server(clock_offset=120)
    assert await connect(server).get_gift_card("FNAC")


@pytest.mark.parametrize(
    ("server_variant", "client_variant"),
    [
        (GetSigning.DROPPED_SEGMENT, GetSigning.EMPTY_SEGMENT),
        (GetSigning.EMPTY_SEGMENT, GetSigning.DROPPED_SEGMENT),
    ],
)
async def test_get_signing_fallback_is_learned_once(
    make_server, connect, server_variant, client_variant
):
    server = make_server(get_signing=server_variant)
    learned: list[GetSigning] = []
    client = connect(server, get_signing=client_variant, on_get_signing_learned=learned.append)
    assert len(await client.list_gift_cards()) == 12
    assert client.get_signing is server_variant
    assert learned == [server_variant]
    await client.get_gift_card("FNAC")
    await client.create_pull_request("FNAC", 50, new_id())
    statuses = [(r.method, r.status) for r in server.simulator.records]
    assert statuses == [("GET", 401), ("GET", 200), ("GET", 200), ("POST", 200)]
    assert learned == [server_variant]


# ----------------------------------------------------------------------------------- faults


async def test_drop_after_commit_is_ambiguous_and_the_pull_exists(make_server, connect):
    server = make_server()
    sim = server.simulator
    sim.faults.drop = 1.0
    sim.faults.methods = {"POST"}
    client = connect(server)
    request_id = new_id()
    with pytest.raises(E.AmbiguousError):
        await client.create_pull_request("FNAC", 50, request_id)
    assert sim.pull_request_creates == 1
    assert sim.records[-1].fault == "drop" and sim.records[-1].status is None
    # Decision 3: resolve by looking the request id up.
    assert (await client.get_pull_request(request_id)).request_id == request_id


async def test_drop_on_sync_card_then_replay_returns_the_same_card(make_server, connect):
    server = make_server()
    sim = server.simulator
    sim.faults.drop = 1.0
    client = connect(server)
    with pytest.raises(E.AmbiguousError):
        await client.create_card("SEPHORA", 25, request_id="sync-1")
    sim.faults.drop = 0.0
    card = await client.create_card("SEPHORA", 25, request_id="sync-1")
    assert sim.card_creates == 1
    assert await client.get_card(card.id) == card


async def test_error_500_is_ambiguous(make_server, connect):
    server = make_server()
    server.simulator.faults.error_500 = 1.0
    with pytest.raises(E.AmbiguousError) as info:
        await connect(server).get_gift_card("FNAC")
    assert info.value.http_status == 500 and "HTTP 500" in str(info.value)


async def test_error_500_on_post_may_or_may_not_have_committed(make_server, connect):
    server = make_server(seed=3)
    sim = server.simulator
    sim.faults.error_500 = 1.0
    sim.faults.methods = {"POST"}
    client = connect(server)
    outcomes = set()
    for _ in range(8):
        request_id = new_id()
        with pytest.raises(E.AmbiguousError):
            await client.create_pull_request("FNAC", 50, request_id)
        try:
            await client.get_pull_request(request_id)
            outcomes.add("committed")
        except E.PullRequestNotFound:
            outcomes.add("not committed")
    assert outcomes == {"committed", "not committed"}
    assert sim.pull_request_creates == len(sim.pull_requests)


async def test_html_502_is_ambiguous_and_names_the_status(make_server, connect):
    server = make_server()
    server.simulator.faults.html_502 = 1.0
    with pytest.raises(E.AmbiguousError) as info:
        await connect(server).create_pull_request("FNAC", 50, new_id())
    assert info.value.http_status == 502 and "HTTP 502" in str(info.value)
    assert server.simulator.pull_request_creates == 0


async def test_slow_answer_beyond_the_read_timeout_is_ambiguous(make_server, connect):
    server = make_server()
    sim = server.simulator
    sim.faults.slow = 1.0
    sim.faults.slow_seconds = 1.5
    client = connect(server, timeout=httpx.Timeout(2.0, read=0.2))
    started = time.monotonic()
    with pytest.raises(E.AmbiguousError, match="no answer in time"):
        await client.create_pull_request("FNAC", 50, new_id())
    assert time.monotonic() - started < 1.0
    assert sim.pull_request_creates == 1


async def test_slow_answer_within_the_timeout_succeeds(make_server, connect):
    server = make_server()
    server.simulator.faults.slow = 1.0
    server.simulator.faults.slow_seconds = 0.05
    assert (await connect(server).get_gift_card("FNAC")).code == "FNAC"
    assert server.simulator.records[-1].fault == "slow"


async def test_rate_limit_is_typed_with_retry_after(make_server, connect):
    server = make_server()
    server.simulator.faults.rate_limit = 1.0
    server.simulator.faults.retry_after_seconds = 2
    with pytest.raises(E.RateLimitedError) as info:
        await connect(server).create_pull_request("FNAC", 50, new_id())
    assert info.value.retry_after == 2.0
    assert server.simulator.pull_request_creates == 0


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (86400, MAX_RETRY_AFTER),  # a day: cut to the cap (it once parked a pull for 24 h)
        (1e9, MAX_RETRY_AFTER),
        ("Infinity", MAX_RETRY_AFTER),
        (MAX_RETRY_AFTER - 1, MAX_RETRY_AFTER - 1),  # below the cap: honoured as sent
        (-5, None),  # nonsense: ignored, the engine's own backoff applies
        ("nan", None),
        ("soon", None),
        ("in-two-days", None),
    ],
)
async def test_retry_after_is_honoured_up_to_a_cap(make_server, connect, sent, expected):
    server = make_server()
    server.simulator.faults.rate_limit = 1.0
    server.simulator.faults.retry_after_seconds = sent
    with pytest.raises(E.RateLimitedError) as info:
        await connect(server).get_pull_request(new_id())
    assert info.value.retry_after == expected


async def test_a_retry_after_date_is_honoured_up_to_the_cap(make_server, connect):
    server = make_server()
    server.simulator.faults.rate_limit = 1.0
    client = connect(server)
    for ahead, expected in ((2 * 86400, MAX_RETRY_AFTER), (-3600, 0.0)):
        server.simulator.faults.retry_after_seconds = email.utils.formatdate(
            time.time() + ahead, usegmt=True
        )
        with pytest.raises(E.RateLimitedError) as info:
            await client.create_pull_request("FNAC", 50, new_id())
        assert info.value.retry_after == expected
        assert f"{expected:.0f} s" in str(info.value)
    assert server.simulator.pull_request_creates == 0


async def test_an_answer_over_the_byte_cap_after_a_get_is_unexpected(make_server, connect):
    server = make_server()
    client = connect(server)
    request_id = new_id()
    await client.create_pull_request("FNAC", 50, request_id)
    server.simulator.arm("huge_body", method="GET")  # 5 MiB more in the status
    with pytest.raises(E.UnexpectedResponseError, match="more than 1 MiB") as info:
        await client.get_pull_request(request_id)
    assert info.value.http_status == 200
    assert (await client.get_pull_request(request_id)).request_id == request_id  # next time: fine


async def test_an_error_over_the_byte_cap_is_not_taken_for_not_found(make_server, connect):
    server = make_server()
    server.simulator.arm("huge_body", request_id="nobody", bytes=2 * MAX_JSON_BYTES)
    with pytest.raises(E.UnexpectedResponseError) as info:
        await connect(server).get_pull_request("nobody")
    assert not isinstance(info.value, E.ApiError) and info.value.http_status == 404


async def test_an_answer_over_the_byte_cap_after_a_create_is_ambiguous(make_server, connect):
    server = make_server()
    sim = server.simulator
    client = connect(server)
    request_id = new_id()
    sim.arm("huge_body", request_id=request_id, field=None, bytes=MAX_JSON_BYTES)
    with pytest.raises(E.AmbiguousError, match="may or may not"):
        await client.create_pull_request("FNAC", 50, request_id)
    assert sim.pull_request_creates == 1  # it did happen: the engine resolves it by GET
    assert (await client.get_pull_request(request_id)).request_id == request_id


async def test_the_catalog_has_a_larger_cap_of_its_own(make_server, connect):
    server = make_server()
    client = connect(server)
    server.simulator.arm("huge_body", path="/gift_cards", field=None, bytes=2 * MAX_JSON_BYTES)
    assert len(await client.list_gift_cards()) == 12  # 2 MiB: a big catalog, still read
    server.simulator.arm("huge_body", path="/gift_cards", field=None, bytes=MAX_CATALOG_BYTES)
    with pytest.raises(E.UnexpectedResponseError, match="more than 16 MiB"):
        await client.list_gift_cards()
    server.simulator.arm("huge_body", path="/gift_cards/FNAC", bytes=2 * MAX_JSON_BYTES)
    with pytest.raises(E.UnexpectedResponseError, match="more than 1 MiB"):
        await client.get_gift_card("FNAC")  # one gift card is not the catalog


async def test_a_trickled_answer_to_a_get_ends_at_the_deadline(make_server, connect):
    server = make_server()
    client = connect(server, deadline=1.0)
    request_id = new_id()
    await client.create_pull_request("FNAC", 50, request_id)
    # ~200 bytes at 0.5 s each: 100 s, and never a read timeout (each read comes in time).
    server.simulator.arm("trickle", method="GET", seconds=0.5)
    with pytest.raises(E.AmbiguousError, match="within 1 s") as info:
        await asyncio.wait_for(client.get_pull_request(request_id), 15)  # 15: only to catch a hang
    assert isinstance(info.value, E.TransportError)  # the engine checks again later
    assert (await client.get_pull_request(request_id)).request_id == request_id


async def test_a_trickled_answer_to_a_create_is_ambiguous_at_the_deadline(make_server, connect):
    server = make_server()
    sim = server.simulator
    client = connect(server, deadline=1.0)
    request_id = new_id()
    sim.arm("trickle", request_id=request_id, seconds=0.5)
    with pytest.raises(E.AmbiguousError, match="may or may not"):
        await asyncio.wait_for(client.create_pull_request("FNAC", 50, request_id), 15)
    assert sim.pull_request_creates == 1  # the create happened: in doubt, not failed
    assert (await client.get_pull_request(request_id)).request_id == request_id


@contextlib.contextmanager
def trickling_pdf_server(interval: float):
    """A bare HTTP server on 127.0.0.1 that sends a PDF's headers, then a byte per ``interval``."""
    body = b"%PDF-1.4\n" + b"0" * 200
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            for i in range(len(body)):
                if stop.wait(interval):
                    return
                try:
                    conn.sendall(body[i : i + 1])
                except OSError:  # the client left
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/card.pdf"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


async def test_a_trickled_pdf_download_ends_at_its_deadline(make_server, connect):
    client = connect(make_server(), download_deadline=1.0)
    with trickling_pdf_server(0.3) as url, pytest.raises(E.AmbiguousError, match="longer than 1 s"):
        await asyncio.wait_for(client.download_pdf(url), 15)


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan")])
def test_a_deadline_must_be_a_positive_number_of_seconds(value):
    with pytest.raises(E.ConfigurationError, match="positive number of seconds"):
        WalleoClient("http://127.0.0.1:1/partners/v1", DEMO_CREDENTIALS, deadline=value)
    with pytest.raises(E.ConfigurationError, match="positive number of seconds"):
        WalleoClient("http://127.0.0.1:1/partners/v1", DEMO_CREDENTIALS, download_deadline=value)


async def test_connection_refused_is_not_sent(connect):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    class Closed:
        base_url = f"http://127.0.0.1:{port}/partners/v1"

    with pytest.raises(E.NotSentError):
        await connect(Closed).create_pull_request("FNAC", 50, new_id())


# ------------------------------------------------------------------------------- field caps


async def test_a_pull_whose_status_is_too_long_is_refused_not_kept(make_server, connect):
    server = make_server()
    client = connect(server)
    request_id = new_id()
    await client.create_pull_request("FNAC", 50, request_id)
    server.simulator.arm("huge_body", method="GET", bytes=MAX_STATUS_LENGTH)  # "waitingxxx…"
    with pytest.raises(E.UnexpectedResponseError, match=r"'status' is \d+ characters") as info:
        await client.get_pull_request(request_id)
    assert not isinstance(info.value, E.AmbiguousError)
    second = new_id()
    server.simulator.arm("huge_body", request_id=second, bytes=MAX_STATUS_LENGTH)
    with pytest.raises(E.AmbiguousError, match="'status'"):  # after a create: in doubt
        await client.create_pull_request("FNAC", 50, second)
    assert server.simulator.pull_request_creates == 2


@pytest.mark.parametrize(
    ("field", "cap"),
    [
        ("card.code", MAX_CODE_LENGTH),
        ("card.pin_code", MAX_PIN_LENGTH),
        ("card.pdf_url", MAX_URL_LENGTH),
        ("card.id", MAX_ID_LENGTH),
        ("card.gift_card_code", MAX_GIFT_CARD_CODE_LENGTH),
        ("card.expire_at", MAX_TIMESTAMP_LENGTH),
        ("id", MAX_ID_LENGTH),
        ("request_id", MAX_REQUEST_ID_LENGTH),
        ("updated_at", MAX_TIMESTAMP_LENGTH),
    ],
)
async def test_a_card_with_a_field_over_its_cap_is_refused(make_server, connect, field, cap):
    server = make_server()
    client = connect(server)
    request_id = new_id()
    await client.create_pull_request("FNAC", 50, request_id)
    await wait_done(client, request_id)
    server.simulator.arm("huge_body", request_id=request_id, field=field, bytes=cap)
    name = field.rsplit(".", 1)[-1]
    with pytest.raises(E.UnexpectedResponseError, match=f"field '{name}' is .* long") as info:
        await client.get_pull_request(request_id)
    assert "xxxx" not in str(info.value)  # the message never carries the value (a code, a PIN)
    # The simulator completes its record once the answer has gone, which may be a moment after
    # the client has read it.
    await wait_until(lambda: server.simulator.records[-1].request_id == request_id)


def test_fields_at_their_cap_are_kept_and_extra_fields_tolerated():
    card = {
        "id": "i" * MAX_ID_LENGTH,
        "code": "c" * MAX_CODE_LENGTH,
        "pin_code": "1" * MAX_PIN_LENGTH,
        "pdf_url": "https://x/" + "p" * (MAX_URL_LENGTH - 10),
        "gift_card_code": "G" * MAX_GIFT_CARD_CODE_LENGTH,
        "amount": MAX_INTEGER,
        "unknown": "u" * 100_000,
    }
    pull = {"id": "p", "request_id": "r" * MAX_REQUEST_ID_LENGTH, "status": "s" * 64, "card": card}
    parsed = PullRequest.from_json(pull)
    assert parsed.card is not None and parsed.card.code == card["code"]
    assert parsed.status is PullStatus.UNKNOWN and parsed.status_text == "s" * 64
    assert parsed.card.raw["unknown"] == card["unknown"]
    for key, too_big in (("amount", MAX_INTEGER + 1), ("amount", -MAX_INTEGER - 1)):
        with pytest.raises(FieldTooLarge, match="'amount' is out of range"):
            Card.from_json({**card, key: too_big})
    with pytest.raises(FieldTooLarge, match="'amount_cents'"):
        PullRequest.from_json({**pull, "amount_cents": str(10**40)})


def test_a_catalog_entry_over_its_caps_is_skipped_like_a_malformed_one():
    good = json.loads(DOC_GIFT_CARDS)
    assert GiftCard.from_json(good[0]).code == "IKEA"
    for change in (
        {"term_of_use": "t" * (MAX_TEXT_LENGTH + 1)},
        {"name": "n" * (MAX_NAME_LENGTH + 1)},
        {"logo_url": "https://l/" + "l" * MAX_URL_LENGTH},
        {"code_pin": "p" * 65},
        {"unknown": "u" * MAX_GIFT_CARD_JSON},  # unknown fields count in the entry's size
        {"facial_values": {"type": "fixed", "amounts": list(range(1, MAX_LIST_LENGTH + 2))}},
        {"discount": 10**13},
    ):
        with pytest.raises(FieldTooLarge):
            GiftCard.from_json({**good[0], **change})


async def test_the_catalog_skips_an_entry_over_its_caps_and_keeps_the_rest(make_server, connect):
    server = make_server()
    server.simulator.arm(
        "huge_body", path="/gift_cards", field="term_of_use", bytes=MAX_TEXT_LENGTH
    )
    cards = await connect(server).list_gift_cards()
    assert len(cards) == 11 and all(len(c.term_of_use) <= MAX_TEXT_LENGTH for c in cards)


def test_error_envelopes_are_cut_to_size_or_not_understood():
    long_message = {"errors": [{"code": "out_of_stock", "message": "m" * 100_000}], "status": "s"}
    error = E.api_error_from_envelope(422, long_message)
    assert isinstance(error, E.OutOfStock) and len(error.message) == E.MAX_ERROR_MESSAGE_LENGTH
    long_code = {"errors": [{"code": "not_enough_funds" + "x" * 100, "message": "m"}]}
    assert E.api_error_from_envelope(422, long_code) is None  # no code of Walleo's


def test_inventory_refuses_an_absurd_stock_list():
    data = json.loads(DOC_INVENTORY)["inventories"]
    assert Inventory.from_json(data).stock_for(50) == 13
    line = {"facial_value": 1, "owned_quantity": 1, "shared_quantity": 0}
    with pytest.raises(FieldTooLarge, match="'stocks'"):
        Inventory.from_json({**data, "stocks": [line] * (MAX_LIST_LENGTH + 1)})


# --------------------------------------------------------------- the documented JSON examples


DOC_PULL_CREATED = """{
  "pull_request": {
    "id": "3db15189-ef10-49b4-8265-58e3fe946ffb",
    "status": "waiting",
    "request_id": "your_request_id",
    "amount_cents": 5000,
    "created_at": "2024-02-05T11:33:39.999+01:00",
    "updated_at": "2024-02-05T11:33:39.999+01:00",
    "card": null
  }
}"""

DOC_PULL_SUCCESS = """{
  "pull_request": {
    "id": "3db15189-ef10-49b4-8265-58e3fe946ffb",
    "status": "success",
    "request_id": "your_request_id",
    "created_at": "2024-02-05T11:33:39.999+01:00",
    "updated_at": "2024-02-05T11:33:41.488+01:00",
    "card": {
      "id": "4fe88e46-eb22-436c-91ec-6bf874fcf2ae",
      "code": "345454545451154154",
      "expire_at": "2022-06-24T00:00:00.000+02:00",
      "pin_code": "1234",
      "amount": 50,
      "gift_card_code": "IKEA",
      "pdf_url": "https://url.pdf"
    }
  }
}"""

DOC_INVENTORY = """{"inventories": {"gift_card": {"code": "IKEA", "name": "IKEA"},
  "end_to_end_api": {"enabled": true, "available_amount": "unlimited"},
  "stocks": [{"facial_value": 50, "owned_quantity": 3, "shared_quantity": 10}]}}"""

DOC_GIFT_CARDS = """[
  {"name": "IKEA", "code": "IKEA", "barcode_symbology": "code128", "discount": 5,
   "logo_url": "https://example.com/ikea.png", "logo_square_url": "https://example.com/ikea-sq.png",
   "online_usable": true, "offline_usable": true, "validity_period": 365,
   "splittable_online": true, "splittable_offline": false, "cumulative_online": true,
   "cumulative_online_limit": 3, "cumulative_offline": false, "cumulative_offline_limit": null,
   "code_pin": "true", "how_to_use_online": "…", "how_to_use_offline": "…", "term_of_use": "…",
   "facial_values": {"type": "free", "min_amount": 10, "max_amount": 500, "step_amount": 1}},
  {"name": "E-ca", "code": "E-ca", "code_pin": 1, "discount": 3, "validity_period": 730,
   "facial_values": {"type": "fixed", "amounts": [50, 100]}}
]"""

DOC_ERRORS = [
    (404, "gift_card_not_found", "Gift card not found with code 'IKEA-FR'", "not_found"),
    (404, "card_not_found", "Card not found with id '4fe8…'", "not_found"),
    (404, "pull_request_not_found", "Pull request not found with request_id: REQ-ID-TEST",
     "not_found"),
    (422, "not_enough_funds", "Your balance account is not high enough", "unprocessable_entity"),
    (422, "out_of_stock", "Out of stock gift card 'IKEA-FR'", "unprocessable_entity"),
    (422, "invalid_amount", "Amount must be one of 15, 30 or 100.", "unprocessable_entity"),
    (422, "unprocessable_entity", "Request id is already used", "unprocessable_entity"),
    (401, "unauthorized", "Not authorized", "unauthorized"),
    (401, "invalid_signature", "Your request does not match your signature", "unauthorized"),
]  # fmt: skip


def test_documented_pull_request_examples_parse():
    created = PullRequest.from_json(json.loads(DOC_PULL_CREATED)["pull_request"])
    assert created.status is PullStatus.WAITING and created.amount_cents == 5000
    assert (
        created.card is None
        and created.created_at.isoformat() == "2024-02-05T11:33:39.999000+01:00"
    )
    success = PullRequest.from_json(json.loads(DOC_PULL_SUCCESS)["pull_request"])
    assert success.status is PullStatus.SUCCESS and success.amount_cents is None
    assert success.card == Card.from_json(json.loads(DOC_PULL_SUCCESS)["pull_request"]["card"])
    assert success.card.pin_code == "1234" and success.card.amount == 50
    assert success.card.expire_at.utcoffset().total_seconds() == 7200


def test_documented_inventory_and_catalog_examples_parse():
    inventory = Inventory.from_json(json.loads(DOC_INVENTORY)["inventories"])
    assert inventory.available_amount is None and inventory.stock_for(50) == 13
    free, fixed = (GiftCard.from_json(item) for item in json.loads(DOC_GIFT_CARDS))
    assert free.facial_values == FacialValues("free", (), 10, 500, 1) and free.has_pin
    assert fixed.facial_values.amounts == (50, 100) and fixed.has_pin
    assert fixed.facial_values.validate(75) == "Amount must be one of 50 or 100."


@pytest.mark.parametrize(("http", "code", "message", "status"), DOC_ERRORS)
def test_documented_error_envelopes_become_typed_errors(http, code, message, status):
    body = {"errors": [{"code": code, "message": message}], "status": status}
    error = E.api_error_from_envelope(http, body)
    expected = (
        E.RequestIdAlreadyUsed if code == "unprocessable_entity" else E.ApiError.registry[code]
    )
    assert type(error) is expected
    assert str(error) == message and error.http_status == http and error.status == status


async def test_simulator_error_envelopes_match_the_documented_shape_exactly(shared):
    url = f"{shared.base_url}/pull_requests/REQ-ID-TEST"
    async with httpx.AsyncClient() as http:
        response = await http.get(url, headers=signed_headers("GET", url, b""))
    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {
                "code": "pull_request_not_found",
                "message": "Pull request not found with request_id: REQ-ID-TEST",
            }
        ],
        "status": "not_found",
    }


# ------------------------------------------------------- a client written from the docs alone


def docs_recipe_request(method: str, url: str, payload: dict | None) -> dict:
    """Sign like the docs say, with nothing but hashlib, hmac and json (no project code)."""
    api_key = "demo-80chjRjjQlFU3-OKDQkRYl-DNedQBCObTRjE7aYhAjV0MBTXFWFIlpmoeP5"
    identifier = "d2514209-7369-4121-aa94-5b05c32c1d6f"
    shared_key = "9F9560465B6840A438C9BB64C4A3FFC6"
    body = (
        json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if payload is not None
        else ""
    )
    timestamp = str(int(time.time()))
    token = "+".join([method, url, body, identifier, timestamp])
    signature = hmac.new(
        bytes.fromhex(shared_key), token.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    headers = {
        "Authorization": f"Bearer {api_key}, Id={identifier}, Signature={signature}, "
        f"Timestamp={timestamp}",
        "Content-Type": "application/json",
    }
    return {"method": method, "url": url, "content": body.encode("utf-8"), "headers": headers}


async def test_a_client_written_from_the_docs_recipe_is_accepted(make_server):
    server = make_server(delay_scale=0.01)
    base = server.base_url
    request_id = new_id()
    payload = {
        "pull_request": {"amount": 30, "gift_card_code": "UBER-EATS", "request_id": request_id}
    }
    async with httpx.AsyncClient() as http:
        created = await http.request(
            **docs_recipe_request("POST", f"{base}/pull_requests", payload)
        )
        assert created.status_code == 200, created.text
        assert created.json()["pull_request"]["status"] == "waiting"
        catalog = await http.request(**docs_recipe_request("GET", f"{base}/gift_cards", None))
        assert catalog.status_code == 200 and len(catalog.json()) == 12
        for _ in range(100):
            shown = await http.request(
                **docs_recipe_request("GET", f"{base}/pull_requests/{request_id}", None)
            )
            assert shown.status_code == 200, shown.text
            if shown.json()["pull_request"]["status"] == "success":
                break
            await asyncio.sleep(0.01)
        card = shown.json()["pull_request"]["card"]
        assert card["gift_card_code"] == "UBER-EATS" and card["amount"] == 30
        sync = await http.request(
            **docs_recipe_request(
                "POST", f"{base}/cards", {"card": {"amount": 50, "gift_card_code": "FNAC"}}
            )
        )
        assert sync.status_code == 200 and sync.json()["card"]["amount"] == 50


def test_demo_credentials_in_the_recipe_are_the_published_ones():
    recipe = docs_recipe_request("GET", "http://x/partners/v1/gift_cards", None)
    assert DEMO_CREDENTIALS.api_key in recipe["headers"]["Authorization"]
    assert f"Id={DEMO_CREDENTIALS.identifier}," in recipe["headers"]["Authorization"]


async def test_the_connection_pool_is_made_at_the_first_request():
    """Making it loads httpx and the TLS certificates: a window that opens on a client must
    not wait for that before its first paint. A closed client sends nothing."""
    from walleo_desktop.api.client import WalleoClient
    from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig

    unused = WalleoClient("https://walleo.example/partners/v1", DEMO_CREDENTIALS)
    assert unused._http_client is None
    await unused.aclose()  # never made: nothing to close
    assert unused._http_client is None
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.01))
    client = WalleoClient(
        "http://walleo-simulator.localhost/partners/v1",
        DEMO_CREDENTIALS,
        transport=sim.transport(),
        max_connections=3,
    )
    assert client._http_client is None
    assert await client.list_gift_cards()
    pool = client._http_client
    assert pool is not None and pool.timeout.read == 30.0
    await client.aclose()
    assert pool.is_closed
    with pytest.raises(RuntimeError):
        await client.list_gift_cards()
