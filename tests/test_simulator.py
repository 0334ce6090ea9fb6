"""The simulator's own behaviour: lifecycle timing, replays, faults, records, assets, CLI."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import json
import logging
import re
import time
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from walleo_desktop.api import errors as E
from walleo_desktop.api.client import Credentials, WalleoClient
from walleo_desktop.api.models import PullStatus, parse_timestamp
from walleo_desktop.api.signing import authorization_header, canonical_json, sign, signing_token
from walleo_desktop.simulator import (
    DEMO_CREDENTIALS,
    FAULT_KINDS,
    IN_PROCESS_BASE_URL,
    Faults,
    RequestRecord,
    Simulator,
    SimulatorConfig,
    _server,
    config_from_env,
    run_cli,
    serve_in_thread,
)
from walleo_desktop.simulator._catalog import load_catalog

BASE = IN_PROCESS_BASE_URL
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def make_sim(**overrides) -> Simulator:
    return Simulator(SimulatorConfig(**{"delay_scale": 0.02, "seed": 11, **overrides}))


def signed(
    method: str, url: str, body: bytes = b"", *, now: float | None = None, **headers: str
) -> httpx.Request:
    """A request signed like the docs say (for tests that need raw bytes or status codes)."""
    creds = DEMO_CREDENTIALS
    ts = int(time.time() if now is None else now)
    signature = sign(creds.shared_key, signing_token(method, url, body, creds.identifier, ts))
    all_headers = {
        "Authorization": authorization_header(creds.api_key, creds.identifier, signature, ts),
        **({"Content-Type": "application/json"} if body else {}),
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    return httpx.Request(method, url, content=body or None, headers=all_headers)


def pull_body(request_id: str, code: str = "FNAC", amount: object = 50) -> bytes:
    return canonical_json(
        {"pull_request": {"amount": amount, "gift_card_code": code, "request_id": request_id}}
    )


@pytest.fixture
async def http():
    """Raw httpx clients bound to a simulator in-process: ``http(sim)``."""
    clients: list[httpx.AsyncClient] = []

    def make(sim: Simulator, **kwargs) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=sim.transport(), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def walleo():
    """WalleoClients bound to a simulator in-process: ``walleo(sim, clock=...)``."""
    clients: list[WalleoClient] = []

    def make(sim: Simulator, **kwargs) -> WalleoClient:
        client = WalleoClient(BASE, DEMO_CREDENTIALS, transport=sim.transport(), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# ------------------------------------------------------------------------------ public surface


def test_demo_credentials_are_well_formed_and_documented_values():
    assert isinstance(DEMO_CREDENTIALS, Credentials)
    DEMO_CREDENTIALS.validate()
    assert str(uuid.UUID(DEMO_CREDENTIALS.identifier)) == DEMO_CREDENTIALS.identifier
    assert len(DEMO_CREDENTIALS.api_key) == 64
    assert re.fullmatch(r"[0-9A-F]{32}", DEMO_CREDENTIALS.shared_key)
    assert IN_PROCESS_BASE_URL == "http://walleo-simulator.localhost/partners/v1"


def test_catalog_is_plausible():
    brands = load_catalog()
    assert len(brands) == 12
    assert all(1.5 <= b.delay_seconds <= 6 for b in brands)
    assert 1 <= sum(b.async_error_rate > 0 for b in brands) <= 2
    assert {b.public["facial_values"]["type"] for b in brands} == {"fixed", "free"}
    assert any(b.available_amount is None for b in brands)
    assert any(isinstance(b.available_amount, int) and b.end_to_end for b in brands)


# ------------------------------------------------------------------------------ lifecycle


async def test_lifecycle_follows_the_injected_clock(walleo):
    clock = FakeClock()
    sim = make_sim(clock=clock, delay_scale=1.0, async_error_rate=0.0)
    client = walleo(sim, clock=clock)
    t0 = clock.t
    created = await client.create_pull_request("IKEA", 50, "life-1")
    assert created.status is PullStatus.WAITING
    assert ISO_MS.match(created.raw["created_at"]) and created.raw["card"] is None
    delay = sim.pull_requests["life-1"].delay
    assert 4.0 * 0.8 <= delay <= 4.0 * 1.2  # IKEA's base delay, with ±20 % jitter

    async def status_at(offset: float):
        clock.t = t0 + offset
        return await client.get_pull_request("life-1")

    assert (await status_at(0.19 * delay)).status is PullStatus.WAITING
    processing = await status_at(0.21 * delay)
    assert processing.status is PullStatus.PROCESSING and processing.card is None
    assert processing.updated_at.timestamp() == pytest.approx(t0 + 0.2 * delay, abs=0.002)
    assert (await status_at(delay - 0.01)).status is PullStatus.PROCESSING
    done = await status_at(delay + 0.001)
    assert done.status is PullStatus.SUCCESS and done.card is not None
    assert done.updated_at.timestamp() == pytest.approx(t0 + delay, abs=0.002)
    assert done.created_at.timestamp() == pytest.approx(t0, abs=0.002)
    later = await status_at(delay + 1000)
    assert later.card == done.card and later.card.code == done.card.code  # materialised once
    expiry = done.card.expire_at
    assert (expiry.hour, expiry.minute, expiry.second) == (0, 0, 0)
    issued = datetime.fromtimestamp(t0 + delay, expiry.tzinfo)
    assert expiry.date() == (issued + timedelta(days=1095)).date()
    assert ISO_MS.match(done.card.raw["expire_at"])


async def test_error_is_decided_at_creation_and_refunds(walleo):
    clock = FakeClock()
    sim = make_sim(clock=clock, async_error_rate=1.0, balance=1000)
    client = walleo(sim, clock=clock)
    await client.create_pull_request("SEPHORA", 100, "err-1")
    assert sim.pull_requests["err-1"].fails
    assert sim.balance_cents == 1000 * 100 - 100 * 94  # 6 % discount
    clock.t += 10
    pull = await client.get_pull_request("err-1")
    assert pull.status is PullStatus.ERROR and pull.card is None
    assert sim.balance_cents == 1000 * 100
    inventory = await client.get_inventory("SEPHORA")
    assert inventory.stock_for(100) == 9 + 60


async def test_brand_error_rate_applies_without_override(walleo):
    sim = make_sim(clock=FakeClock(), seed=2)
    client = walleo(sim, clock=sim.config.clock)
    for i in range(40):
        await client.create_pull_request("ZALANDO", 20, f"z-{i}")
        await client.create_pull_request("FNAC", 20, f"f-{i}")
    pulls = sim.pull_requests
    zalando_failures = sum(pulls[f"z-{i}"].fails for i in range(40))
    assert 3 <= zalando_failures <= 20  # ZALANDO fails about 25 % of the time
    assert not any(pulls[f"f-{i}"].fails for i in range(40))


async def test_delay_scale_shrinks_every_pull(walleo):
    sim = make_sim(delay_scale=0.5, clock=FakeClock())
    client = walleo(sim, clock=sim.config.clock)
    await client.create_pull_request("BOULANGER", 50, "slow-brand")
    assert 6.0 * 0.5 * 0.8 <= sim.pull_requests["slow-brand"].delay <= 6.0 * 0.5 * 1.2


# ---------------------------------------------------------------------------- replays and ids


async def test_x_request_id_replays_the_first_answer_byte_for_byte(http):
    sim = make_sim()
    client = http(sim)
    url = f"{BASE}/pull_requests"
    first = await client.send(signed("POST", url, pull_body("rep-1"), X_RequestId="rep-1"))
    await asyncio.sleep(0.002)  # a replay must not carry a newer timestamp
    again = await client.send(
        signed("POST", url, pull_body("rep-1", amount=100), X_RequestId="rep-1")
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert sim.pull_request_creates == 1

    card_url = f"{BASE}/cards"
    body = canonical_json({"card": {"amount": 25, "gift_card_code": "SEPHORA"}})
    one = await client.send(signed("POST", card_url, body, X_RequestId="card-1"))
    two = await client.send(signed("POST", card_url, body, X_RequestId="card-1"))
    three = await client.send(signed("POST", card_url, body))
    assert one.content == two.content != three.content
    assert sim.card_creates == 2


async def test_without_replay_a_duplicate_request_id_gets_the_documented_422(http):
    sim = make_sim(honour_x_request_id=False)
    client = http(sim)
    url = f"{BASE}/pull_requests"
    await client.send(signed("POST", url, pull_body("dup"), X_RequestId="dup"))
    second = await client.send(signed("POST", url, pull_body("dup"), X_RequestId="dup"))
    assert second.status_code == 422
    assert second.json() == {
        "errors": [{"code": "unprocessable_entity", "message": "Request id is already used"}],
        "status": "unprocessable_entity",
    }
    assert sim.pull_request_creates == 1


async def test_a_rejected_post_is_neither_created_nor_replayed(http):
    sim = make_sim()
    client = http(sim)
    url = f"{BASE}/pull_requests"
    bad = await client.send(signed("POST", url, pull_body("v-1", amount=7), X_RequestId="v-1"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "invalid_amount"
    good = await client.send(signed("POST", url, pull_body("v-1"), X_RequestId="v-1"))
    assert good.status_code == 200 and sim.pull_request_creates == 1


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"{not json", "invalid_json", "The request body is not valid JSON"),
        (b"[]", "parameter_missing", "param is missing or the value is empty: pull_request"),
        (
            b'{"pull_request":{"amount":50,"gift_card_code":"FNAC"}}',
            "parameter_missing",
            "param is missing or the value is empty: request_id",
        ),
        (
            b'{"pull_request":{"amount":50,"gift_card_code":"FNAC","request_id":7}}',
            "parameter_invalid",
            "param is invalid: request_id",
        ),
        (
            b'{"pull_request":{"amount":"lots","gift_card_code":"FNAC","request_id":"x"}}',
            "invalid_amount",
            "Amount must be within range from 10 to 500 with steps of 5.",
        ),
    ],
)
async def test_malformed_bodies_get_422_envelopes(http, body, code, message):
    sim = make_sim()
    url = f"{BASE}/pull_requests"
    response = await http(sim).send(signed("POST", url, body))
    assert response.status_code == 422
    assert response.json() == {
        "errors": [{"code": code, "message": message}],
        "status": "unprocessable_entity",
    }
    assert sim.pull_request_creates == 0


async def test_unknown_routes_and_methods_answer_json(http):
    client = http(make_sim())
    missing = await client.send(signed("GET", f"{BASE}/balance"))
    assert missing.status_code == 404 and missing.json()["status"] == "not_found"
    wrong_method = await client.send(signed("DELETE", f"{BASE}/cards"))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["code"] == "method_not_allowed"


async def test_a_numeric_string_amount_is_accepted_like_rails_would(http):
    sim = make_sim()
    response = await http(sim).send(
        signed("POST", f"{BASE}/pull_requests", pull_body("str-amount", amount="50"))
    )
    assert response.status_code == 200 and response.json()["pull_request"]["amount_cents"] == 5000


async def test_seed_makes_ids_and_codes_reproducible(walleo):
    cards = []
    for _ in range(2):
        client = walleo(make_sim(seed=5))
        cards.append(await client.create_card("FNAC", 20))
    assert cards[0].id == cards[1].id and cards[0].code == cards[1].code
    assert uuid.UUID(cards[0].id).version == 4


async def test_cards_follow_each_brand_code_and_pin_rules(walleo):
    client = walleo(make_sim())
    for gift_card in await client.list_gift_cards():
        values = gift_card.facial_values
        amount = values.amounts[0] if values.type == "fixed" else values.min_amount
        card = await client.create_card(gift_card.code, amount)
        assert re.fullmatch(r"\d{16,19}|[A-Z0-9]+(-[A-Z0-9]+)+", card.code), card.code
        if gift_card.has_pin:
            assert re.fullmatch(r"\d{4,6}", card.pin_code), gift_card.code
        else:
            assert card.pin_code == "", gift_card.code


async def test_stock_is_taken_owned_first_then_shared_then_end_to_end(walleo):
    sim = make_sim()
    client = walleo(sim)
    for _ in range(3):
        await client.create_card("SEPHORA", 150)  # 2 owned, 14 shared
    sephora = {s.facial_value: s for s in (await client.get_inventory("SEPHORA")).stocks}
    assert (sephora[150].owned_quantity, sephora[150].shared_quantity) == (0, 13)
    await client.create_card("CARREFOUR", 30)  # no stock line for 30: end-to-end budget
    assert (await client.get_inventory("CARREFOUR")).available_amount == 50000 - 30
    with pytest.raises(E.OutOfStock):
        await client.create_card("SPOTIFY", 60)


async def test_concurrent_duplicates_create_exactly_once():
    sim = make_sim(honour_x_request_id=False)
    with serve_in_thread(sim) as server:
        async with WalleoClient(server.base_url, DEMO_CREDENTIALS, max_connections=8) as client:
            results = await asyncio.gather(
                *(client.create_pull_request("FNAC", 50, "same") for _ in range(8)),
                return_exceptions=True,
            )
    kinds = collections.Counter(type(r).__name__ for r in results)
    assert kinds == {"PullRequest": 1, "RequestIdAlreadyUsed": 7}
    assert sim.pull_request_creates == 1
    assert sim.connections_opened > 1


# -------------------------------------------------------------------------------------- faults


async def fire(client: httpx.AsyncClient, n: int) -> None:
    url = f"{BASE}/gift_cards/FNAC"
    for _ in range(n):
        with contextlib.suppress(httpx.ReadError):
            await client.send(signed("GET", url))


async def test_fault_frequencies_match_the_probabilities(http):
    sim = make_sim(seed=42)
    sim.faults = Faults(
        drop=0.1, error_500=0.1, html_502=0.1, slow=0.1, rate_limit=0.1, slow_seconds=0.0
    )
    n = 400
    await fire(http(sim), n)
    counts = collections.Counter(r.fault for r in sim.records)
    for name in ("drop", "error_500", "html_502", "slow", "rate_limit"):
        assert abs(counts[name] / n - 0.1) < 0.05, counts
    assert abs(counts[None] / n - 0.5) < 0.08, counts
    statuses = {r.fault: r.status for r in sim.records}
    assert statuses == {
        None: 200,
        "slow": 200,
        "drop": None,
        "error_500": 500,
        "html_502": 502,
        "rate_limit": 429,
    }


async def test_the_same_seed_draws_the_same_faults(http):
    sequences = []
    for _ in range(2):
        sim = make_sim(seed=9, faults=Faults(error_500=0.3, rate_limit=0.3))
        await fire(http(sim), 30)
        sequences.append([r.fault for r in sim.records])
    assert sequences[0] == sequences[1] and len(set(sequences[0])) == 3


async def test_faults_can_be_limited_to_methods_and_paths(http):
    sim = make_sim()
    client = http(sim)
    sim.faults.error_500 = 1.0
    sim.faults.paths_prefix = "/pull_requests"
    assert (await client.send(signed("GET", f"{BASE}/gift_cards"))).status_code == 200
    assert (await client.send(signed("GET", f"{BASE}/pull_requests/x"))).status_code == 500
    sim.faults.paths_prefix = "/partners/v1/gift_cards"  # an absolute prefix works too
    assert (await client.send(signed("GET", f"{BASE}/gift_cards"))).status_code == 500
    sim.faults.paths_prefix = None
    sim.faults.methods = {"POST"}
    assert (await client.send(signed("GET", f"{BASE}/gift_cards"))).status_code == 200


async def test_simulator_assets_never_fail(http, walleo):
    sim = make_sim()
    card = await walleo(sim).create_card("FNAC", 20)
    sim.faults = Faults(drop=0.5, error_500=0.5)
    client = http(sim)
    for url in (card.pdf_url, f"{BASE}/simulator/logos/FNAC.svg"):
        assert (await client.get(url)).status_code == 200


async def test_fault_answers_look_like_the_real_thing(http):
    sim = make_sim()
    client = http(sim)
    url = f"{BASE}/gift_cards"
    sim.faults.rate_limit = 1.0
    limited = await client.send(signed("GET", url))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json()["errors"][0]["code"] == "too_many_requests"
    sim.faults = Faults(html_502=1.0)
    bad_gateway = await client.send(signed("GET", url))
    assert bad_gateway.headers["content-type"].startswith("text/html")
    assert b"<html>" in bad_gateway.content and b"502 Bad Gateway" in bad_gateway.content
    sim.faults = Faults(error_500=1.0)
    error = await client.send(signed("GET", url))
    assert error.status_code == 500 and error.json()["status"] == "internal_server_error"
    for response in (limited, bad_gateway, error):
        assert "date" in response.headers


async def test_in_process_drop_is_a_read_error_after_commit(http):
    sim = make_sim()
    sim.faults.drop = 1.0
    with pytest.raises(httpx.ReadError):
        await http(sim).send(signed("POST", f"{BASE}/pull_requests", pull_body("d-1")))
    assert sim.pull_request_creates == 1 and "d-1" in sim.pull_requests
    assert sim.records[-1].status is None and sim.records[-1].request_id == "d-1"


async def test_in_process_slow_is_a_read_timeout_after_commit(http):
    sim = make_sim()
    sim.faults.slow = 1.0
    sim.faults.slow_seconds = 1.0
    client = http(sim, timeout=httpx.Timeout(1.0, read=0.05))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await client.send(signed("POST", f"{BASE}/pull_requests", pull_body("s-1")))
    assert time.monotonic() - started < 0.5
    assert sim.pull_request_creates == 1
    assert sim.records[-1].fault == "slow" and sim.records[-1].status is None


async def test_a_drop_over_tcp_is_an_incomplete_message_and_logs_no_error(caplog):
    sim = make_sim()
    sim.faults.drop = 1.0
    with caplog.at_level(logging.INFO), serve_in_thread(sim) as server:
        async with httpx.AsyncClient() as client:
            url = f"{server.base_url}/pull_requests"
            with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending"):
                await client.send(signed("POST", url, pull_body("tcp-drop")))
    assert sim.pull_request_creates == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ------------------------------------------------------------------------------------- records


async def test_records_describe_every_request_in_order():
    sim = make_sim()
    before = time.time()
    with serve_in_thread(sim) as server:
        async with httpx.AsyncClient() as first, httpx.AsyncClient() as second:
            base = server.base_url
            await first.send(signed("POST", f"{base}/pull_requests", pull_body("rec-1")))
            await first.send(signed("GET", f"{base}/pull_requests/rec-1"))
            await first.send(signed("GET", f"{base}/gift_cards/NOPE"))
            await second.send(signed("GET", f"{base}/gift_cards"))
    records = sim.records
    assert all(isinstance(r, RequestRecord) for r in records)
    assert [(r.method, r.path, r.request_id, r.status, r.fault) for r in records] == [
        ("POST", "/partners/v1/pull_requests", "rec-1", 200, None),
        ("GET", "/partners/v1/pull_requests/rec-1", "rec-1", 200, None),
        ("GET", "/partners/v1/gift_cards/NOPE", None, 404, None),
        ("GET", "/partners/v1/gift_cards", None, 200, None),
    ]
    assert before <= records[0].at <= records[-1].at <= time.time()
    assert records[0].client == records[2].client != records[3].client
    assert records[0].client[0] == "127.0.0.1"
    assert sim.connections_opened == 2


async def test_serve_in_thread_gives_a_base_url_and_stops_cleanly():
    with serve_in_thread(make_sim()) as server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}/partners/v1"
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(server.base_url + "/gift_cards")


# ---------------------------------------------------------------------------- clock and headers


async def test_every_answer_carries_the_simulator_clock_in_date(http):
    sim = make_sim(clock_offset=3600)
    client = http(sim)
    for request in (
        signed("GET", f"{BASE}/gift_cards"),  # 401: the timestamp is an hour off
        signed("GET", f"{BASE}/gift_cards", now=time.time() + 3600),  # 200
        signed("GET", f"{BASE}/nothing-here"),  # 404
    ):
        response = await client.send(request)
        date = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
        assert date == pytest.approx(time.time() + 3600, abs=2)
    assert [r.status for r in sim.records] == [401, 200, 404]


async def test_logo_svgs_are_generated_per_brand(http):
    client = http(make_sim())
    square = await client.get(f"{BASE}/simulator/logos/LEROY-MERLIN.svg")
    assert square.status_code == 200 and square.headers["content-type"] == "image/svg+xml"
    assert square.text.startswith("<svg") and ">LM</text>" in square.text
    assert 'fill="#78BE20"' in square.text and "rx=" in square.text
    wide = await client.get(f"{BASE}/simulator/logos/wide/LEROY-MERLIN.svg")
    assert ">Leroy Merlin</text>" in wide.text
    assert (await client.get(f"{BASE}/simulator/logos/NOPE.svg")).status_code == 404


async def test_pdfs_are_real_cached_and_need_no_auth(http, walleo):
    sim = make_sim()
    card = await walleo(sim).create_card("BOULANGER", 100)
    client = http(sim)
    first = await client.get(card.pdf_url)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-") and len(first.content) > 1000
    for text in ("Boulanger", card.code, card.pin_code, "100 "):
        assert text.encode() in first.content, text
    assert (await client.get(card.pdf_url)).content == first.content
    missing = await client.get(f"{BASE}/simulator/pdfs/{uuid.uuid4()}.pdf")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")


async def test_card_json_is_in_the_documented_shape(walleo):
    card = await walleo(make_sim()).create_card("FNAC", 25)
    assert list(card.raw) == [
        "id", "code", "expire_at", "pin_code", "amount", "gift_card_code", "pdf_url"
    ]  # fmt: skip
    assert parse_timestamp(card.raw["expire_at"]) == card.expire_at


# ----------------------------------------------------------------------------------- CLI, env


def test_run_cli_help(capsys):
    assert run_cli(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--delay-scale", "--fault-rate", "--seed"):
        assert option in out
    assert out.startswith("usage: walleo-desktop simulator")


@pytest.mark.parametrize("argv", [["--bogus"], ["--fault-rate", "2"], ["--port", "http"]])
def test_run_cli_rejects_bad_arguments(capsys, argv):
    assert run_cli(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_run_cli_announces_the_base_url_and_demo_credentials(monkeypatch, capsys):
    seen: dict[str, object] = {}

    def fake_serve(host, port, config, *, on_ready=None):
        seen.update(host=host, port=port, config=config)
        on_ready(f"http://{host}:{port}/partners/v1")

    monkeypatch.setattr(_server, "serve", fake_serve)
    argv = ["--port", "9001", "--delay-scale", "0.5", "--fault-rate", "0.1", "--seed", "3"]
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9001/partners/v1" in out
    for value in DEMO_CREDENTIALS.identifier, DEMO_CREDENTIALS.api_key, DEMO_CREDENTIALS.shared_key:
        assert value in out
    config = seen["config"]
    assert (config.delay_scale, config.seed) == (0.5, 3)
    assert config.faults.drop == pytest.approx(0.02) and config.faults.rate_limit == pytest.approx(
        0.02
    )


def test_run_cli_with_own_credentials_does_not_print_secrets(monkeypatch, capsys):
    monkeypatch.setenv("WALLEO_API_KEY", "k" * 64)
    monkeypatch.setenv("WALLEO_IDENTIFIER", "my-id")
    monkeypatch.setenv("WALLEO_SHARED_KEY", "ab" * 16)
    monkeypatch.setattr(
        _server, "serve", lambda *a, on_ready, **k: on_ready("http://h/partners/v1")
    )
    assert run_cli([]) == 0
    out = capsys.readouterr().out
    assert "k" * 64 not in out and "ab" * 16 not in out


def test_config_from_env(monkeypatch):
    monkeypatch.setenv("WALLEO_API_KEY", "key")
    monkeypatch.setenv("WALLEO_IDENTIFIER", "id")
    assert config_from_env().credentials == DEMO_CREDENTIALS  # not all three: demo values
    monkeypatch.setenv("WALLEO_SHARED_KEY", "0A0B")
    assert config_from_env().credentials == Credentials("key", "id", "0A0B")
    monkeypatch.setenv("WALLEO_SHARED_KEY", "not hex")
    with pytest.raises(E.ConfigurationError):
        config_from_env()


def test_simulator_config_changes_are_read_live():
    sim = make_sim()
    sim.config.clock_offset = 42
    assert sim.now() == pytest.approx(time.time() + 42, abs=1)


async def test_max_records_keeps_the_latest(http):
    sim = make_sim(max_records=3)
    client = http(sim)
    for code in ("FNAC", "IKEA", "SEPHORA", "CULTURA", "SPOTIFY"):
        await client.send(signed("GET", f"{BASE}/gift_cards/{code}"))
    assert [r.path.rsplit("/", 1)[1] for r in sim.records] == ["SEPHORA", "CULTURA", "SPOTIFY"]


async def test_creation_answers_waiting_even_with_no_delay(walleo):
    client = walleo(make_sim(delay_scale=0.0))
    assert (await client.create_pull_request("FNAC", 50, "instant")).status is PullStatus.WAITING
    assert (await client.get_pull_request("instant")).status is PullStatus.SUCCESS


# ------------------------------------------------------------- armed and hostile-server faults


async def test_an_armed_fault_hits_the_next_matching_requests_then_is_used_up(http):
    sim = make_sim()
    client = http(sim)
    armed = sim.arm("error_500", path="/gift_cards", times=2)
    assert sim.armed == [armed]
    other = await client.send(signed("GET", f"{BASE}/inventories/FNAC"))
    assert other.status_code == 200 and armed.remaining == 2  # another path: not used
    statuses = [(await client.send(signed("GET", f"{BASE}/gift_cards"))).status_code for _ in "abc"]
    assert statuses == [500, 500, 200]
    assert armed.remaining == 0 and sim.armed == []
    assert [r.fault for r in sim.records] == [None, "error_500", "error_500", None]


async def test_a_fault_armed_for_a_request_id_waits_for_it(http):
    sim = make_sim()
    client = http(sim)
    sim.arm("rate_limit", request_id="r-2", retry_after="86400")
    first = await client.send(signed("POST", f"{BASE}/pull_requests", pull_body("r-1")))
    assert first.status_code == 200
    second = await client.send(signed("POST", f"{BASE}/pull_requests", pull_body("r-2")))
    assert second.status_code == 429 and second.headers["retry-after"] == "86400"
    assert set(sim.pull_requests) == {"r-1"}  # a 429 commits nothing
    sim.arm("html_502", method="GET", request_id="r-1")
    assert (await client.send(signed("POST", f"{BASE}/pull_requests", pull_body("r-2")))).is_success
    shown = await client.send(signed("GET", f"{BASE}/pull_requests/r-1"))
    assert shown.status_code == 502 and sim.armed == []


async def test_armed_faults_win_over_probabilities_and_can_be_disarmed(http):
    sim = make_sim()
    client = http(sim)
    sim.faults.rate_limit = 1.0
    sim.arm("html_502")
    url = f"{BASE}/gift_cards/FNAC"
    assert (await client.send(signed("GET", url))).status_code == 502
    assert (await client.send(signed("GET", url))).status_code == 429
    sim.faults.rate_limit = 0.0
    sim.arm("html_502", times=5)
    sim.disarm()
    assert sim.armed == [] and (await client.send(signed("GET", url))).status_code == 200


def test_arming_checks_the_kind_and_its_options():
    sim = make_sim()
    with pytest.raises(ValueError, match="unknown fault"):
        sim.arm("gremlins")
    with pytest.raises(TypeError, match="no option"):
        sim.arm("slow", bytes=3)
    with pytest.raises(ValueError, match="at least 1"):
        sim.arm("drop", times=0)
    assert sim.armed == []


async def test_an_armed_error_500_commits_or_not_as_asked(http):
    sim = make_sim()
    client = http(sim)
    sim.arm("error_500", commit=True)
    sim.arm("error_500", commit=False)
    for request_id in ("committed", "not-committed"):
        answer = await client.send(signed("POST", f"{BASE}/pull_requests", pull_body(request_id)))
        assert answer.status_code == 500
    assert set(sim.pull_requests) == {"committed"}


async def test_trickle_sends_the_whole_answer_a_byte_at_a_time_over_tcp():
    sim = make_sim()
    with serve_in_thread(sim) as server:
        async with httpx.AsyncClient() as client:
            url = f"{server.base_url}/pull_requests/nobody"
            plain = await client.send(signed("GET", url))
            sim.arm("trickle", seconds=0.01)
            pieces: list[bytes] = []
            async with client.stream("GET", url, headers=signed("GET", url).headers) as response:
                async for piece in response.aiter_raw():
                    pieces.append(piece)
    assert response.status_code == 404 == plain.status_code
    assert b"".join(pieces) == plain.content  # the same answer, only slower
    assert len(pieces) > 1 and max(len(p) for p in pieces) < len(plain.content)
    assert sim.records[-1].fault == "trickle" and sim.records[-1].status == 404


async def test_trickle_commits_the_post_and_stops_when_the_client_leaves():
    sim = make_sim()
    with serve_in_thread(sim) as server:
        sim.arm("trickle", seconds=0.3)
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.1)) as client:
            url = f"{server.base_url}/pull_requests"
            with pytest.raises(httpx.ReadTimeout):
                await client.send(signed("POST", url, pull_body("trickled")))
        deadline = time.monotonic() + 5
        while sim.records[-1].fault != "trickle":  # closed once the server saw the client go
            assert time.monotonic() < deadline, "the trickle went on after the client left"
            await asyncio.sleep(0.01)
    assert sim.records[-1].status is None
    assert sim.pull_request_creates == 1 and "trickled" in sim.pull_requests


async def test_huge_body_inflates_a_field_of_the_answer_or_pads_it(http):
    sim = make_sim()
    client = http(sim)
    created = await client.send(signed("POST", f"{BASE}/pull_requests", pull_body("hb-1")))
    assert created.status_code == 200
    url = f"{BASE}/pull_requests/hb-1"
    sim.arm("huge_body")  # default: 5 MiB more in the status
    status = (await client.send(signed("GET", url))).json()["pull_request"]["status"]
    assert status == "waiting" + "x" * (5 * 1024 * 1024)
    sim.arm("huge_body", bytes=100, field="request_id")
    assert (await client.send(signed("GET", url))).json()["pull_request"]["request_id"] == (
        "hb-1" + "x" * 100
    )
    sim.arm("huge_body", bytes=1000, field=None)
    padded = await client.send(signed("GET", url))
    assert padded.json()["padding"] == "x" * 1000
    assert int(padded.headers["content-length"]) == len(padded.content) > 1000
    sim.arm("huge_body", bytes=50, field="name")
    catalog = (await client.send(signed("GET", f"{BASE}/gift_cards"))).json()
    assert catalog[0]["name"].endswith("x" * 50) and not catalog[1]["name"].endswith("x")
    assert [r.fault for r in sim.records[1:]] == ["huge_body"] * 4


async def test_huge_body_on_a_create_comes_after_the_commit(http):
    sim = make_sim()
    sim.faults.huge_body = 1.0
    sim.faults.huge_body_bytes = 2 * 1024 * 1024
    answer = await http(sim).send(signed("POST", f"{BASE}/pull_requests", pull_body("hb-2")))
    assert len(answer.content) > 2 * 1024 * 1024
    assert sim.pull_request_creates == 1 and sim.records[-1].fault == "huge_body"


def test_spread_keeps_to_the_five_recoverable_kinds():
    faults = Faults()
    faults.spread(0.5)
    assert [getattr(faults, k) for k in FAULT_KINDS] == [0.1] * 5 + [0.0] * (len(FAULT_KINDS) - 5)


async def post_pull(
    client: httpx.AsyncClient, request_id: str, amount: object = 50
) -> httpx.Response:
    return await client.send(
        signed("POST", f"{BASE}/pull_requests", pull_body(request_id, amount=amount))
    )


async def show_pull(client: httpx.AsyncClient, request_id: str) -> dict:
    answer = await client.send(signed("GET", f"{BASE}/pull_requests/{request_id}"))
    assert answer.status_code == 200, answer.text
    return answer.json()["pull_request"]


async def test_conflict_409_commits_the_create_and_answers_409(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    sim.arm("conflict_409")
    assert (await client.send(signed("GET", f"{BASE}/pull_requests/x"))).status_code == 404
    assert (await client.send(signed("POST", f"{BASE}/cards", canonical_json(
        {"card": {"amount": 20, "gift_card_code": "FNAC"}}
    )))).status_code == 200  # fmt: skip
    assert len(sim.armed) == 1  # neither a GET nor another POST uses it
    answer = await post_pull(client, "c-409")
    assert answer.status_code == 409
    assert answer.content == (
        b'{"errors":[{"code":"conflict","message":"Conflict"}],"status":"conflict"}'
    )
    assert sim.records[-1].fault == "conflict_409" and sim.armed == []
    assert sim.pull_request_creates == 1
    assert (await show_pull(client, "c-409"))["card"]["gift_card_code"] == "FNAC"  # issued


async def test_unknown_4xx_commits_the_create_with_an_undocumented_error(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    sim.arm("unknown_4xx")
    sim.arm("unknown_4xx", http_status=418, code="teapot", message="I'm a teapot")
    first, second = await post_pull(client, "u-1"), await post_pull(client, "u-2")
    assert (first.status_code, first.json()) == (
        400,
        {"errors": [{"code": "bad_request", "message": "The request could not be handled"}],
         "status": "bad_request"},
    )  # fmt: skip
    assert (second.status_code, second.json()["errors"]) == (
        418,
        [{"code": "teapot", "message": "I'm a teapot"}],
    )
    assert set(sim.pull_requests) == {"u-1", "u-2"}
    assert [r.fault for r in sim.records] == ["unknown_4xx", "unknown_4xx"]
    with pytest.raises(ValueError, match="400 to 499"):
        sim.arm("unknown_4xx", http_status=503)


async def test_create_faults_wait_for_a_create_that_commits(http):
    sim = make_sim()
    client = http(sim)
    sim.arm("conflict_409")
    refused = await post_pull(client, "bad-amount", amount=7)  # FNAC takes 20 to 500
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "invalid_amount"
    assert sim.records[-1].fault is None and len(sim.armed) == 1
    assert (await post_pull(client, "good")).status_code == 409


async def test_wrong_pull_answers_another_pull_request_with_its_card(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    for request_id in ("mine", "theirs"):
        assert (await post_pull(client, request_id)).status_code == 200
    theirs = await show_pull(client, "theirs")
    assert theirs["status"] == "success"
    sim.arm("wrong_pull", request_id="mine")
    assert await show_pull(client, "mine") == theirs  # well-formed, and someone else's
    assert sim.records[-1].fault == "wrong_pull"
    assert (await show_pull(client, "mine"))["request_id"] == "mine"  # used up


async def test_wrong_pull_other_names_whose_answer_to_send(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    for request_id in ("a", "b", "c"):
        await post_pull(client, request_id)
    sim.arm("wrong_pull", request_id="c", other_request_id="a")
    assert (await show_pull(client, "c"))["request_id"] == "a"
    solo = make_sim(delay_scale=0.0)
    alone = http(solo)
    await post_pull(alone, "lonely")
    solo.arm("wrong_pull", request_id="lonely")
    assert (await show_pull(alone, "lonely"))["request_id"] == "lonely"
    assert solo.records[-1].fault is None and len(solo.armed) == 1  # nobody else to lie with


async def test_wrong_pull_amount_and_brand_wait_for_the_success_to_tamper_with(http):
    clock = FakeClock(time.time())
    sim = make_sim(clock=clock, delay_scale=1.0, async_error_rate=0.0)
    client = http(sim)
    await post_pull(client, "p-1")
    sim.arm("wrong_pull", request_id="p-1", variant="amount")
    sim.arm("wrong_pull", request_id="p-1", variant="brand")
    sim.arm("wrong_pull", request_id="p-1", variant="amount", amount=20)
    assert (await show_pull(client, "p-1"))["card"] is None  # not issued yet: nothing to lie with
    assert len(sim.armed) == 3
    clock.t += 10
    doubled, rebranded, twenty = [(await show_pull(client, "p-1"))["card"] for _ in "abc"]
    true = (await show_pull(client, "p-1"))["card"]
    assert (true["amount"], true["gift_card_code"]) == (50, "FNAC")
    assert doubled == {**true, "amount": 100}
    assert rebranded == {**true, "gift_card_code": rebranded["gift_card_code"]}
    assert rebranded["gift_card_code"] not in ("FNAC", "") and twenty["amount"] == 20
    card = await client.send(signed("GET", f"{BASE}/cards/{true['id']}"))
    assert card.json()["card"] == true  # only the answers lied, not the simulator's state
    with pytest.raises(ValueError, match="no variant"):
        sim.arm("wrong_pull", variant="colour")


async def test_duplicate_card_reuses_the_id_of_another_pulls_card(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    for request_id in ("first", "second"):
        await post_pull(client, request_id)
    first = (await show_pull(client, "first"))["card"]
    second = (await show_pull(client, "second"))["card"]
    sim.arm("duplicate_card", request_id="second")
    sim.arm("duplicate_card", request_id="second", variant="card")
    same_id, same_card = [(await show_pull(client, "second"))["card"] for _ in "ab"]
    assert same_id == {**second, "id": first["id"]} and second["id"] != first["id"]
    assert same_card == first
    assert [r.fault for r in sim.records[-2:]] == ["duplicate_card"] * 2
    sim.arm("duplicate_card", request_id="first", other_request_id="nobody")
    assert (await show_pull(client, "first"))["card"] == first  # no such card: not injected


async def test_hostile_kinds_are_drawn_only_on_their_endpoint(http):
    sim = make_sim(delay_scale=0.0, async_error_rate=0.0)
    client = http(sim)
    await post_pull(client, "one")
    await post_pull(client, "two")
    sim.faults.wrong_pull = 1.0
    sim.faults.conflict_409 = 1.0
    assert (await client.send(signed("GET", f"{BASE}/gift_cards/FNAC"))).status_code == 200
    assert (await show_pull(client, "one"))["request_id"] == "two"
    assert (await post_pull(client, "three")).status_code == 409
    assert [r.fault for r in sim.records[2:]] == [None, "wrong_pull", "conflict_409"]


# ------------------------------------------------------------------------------ persistence


async def test_a_restarted_simulator_remembers_pulls_replays_and_money(http, tmp_path):
    clock = FakeClock(time.time())
    path = tmp_path / "demo-simulator.json"
    config = {"clock": clock, "delay_scale": 1.0, "async_error_rate": 0.0, "state_path": path}
    before = make_sim(**config)
    body = pull_body("kept")
    url = f"{BASE}/pull_requests"
    created = await http(before).send(signed("POST", url, body, X_RequestId="kept"))
    assert created.status_code == 200
    balance, delay = before.balance_cents, before.pull_requests["kept"].delay
    del before  # killed: nothing more is written

    clock.t += delay / 2
    after = make_sim(**config)
    client = http(after)
    assert after.pull_request_creates == 1 and after.balance_cents == balance
    assert (await show_pull(client, "kept"))["status"] == "processing"  # the clock went on
    replayed = await client.send(signed("POST", url, body, X_RequestId="kept"))
    assert replayed.content == created.content and after.pull_request_creates == 1
    clock.t += delay / 2 + 0.01  # the moment it would have been ready without the restart
    card = (await show_pull(client, "kept"))["card"]
    assert card is not None and card["amount"] == 50
    await post_pull(client, "next")  # ids keep coming from where the last run left them
    assert after.pull_requests["next"].id != after.pull_requests["kept"].id

    again = make_sim(**config)
    assert (await show_pull(http(again), "kept"))["card"] == card  # the same card, not a new one
    assert again.pull_request_creates == 2 and len(again.cards) == 1


async def test_two_simulators_on_one_state_file_lose_nothing(http, tmp_path):
    path = tmp_path / "shared.json"
    one, two = (make_sim(delay_scale=0.0, state_path=path) for _ in "12")
    for sim, request_id in ((one, "a"), (two, "b"), (one, "c"), (two, "d")):
        assert (await post_pull(http(sim), request_id)).status_code == 200
    assert (await post_pull(http(one), "b")).status_code == 422  # two's create is seen by one
    cards = {(await show_pull(http(sim), rid))["card"]["id"] for sim in (one, two) for rid in "ab"}
    assert len(cards) == 2  # each pull got one card, whichever simulator looked first
    assert set(make_sim(state_path=path).pull_requests) == {"a", "b", "c", "d"}
    assert one.pull_request_creates == two.pull_request_creates == 4


async def test_the_state_file_is_written_atomically_and_owner_only(http, tmp_path):
    path = tmp_path / "data" / "state.json"
    sim = make_sim(delay_scale=0.0, state_path=path)
    assert not path.exists()  # nothing to remember yet
    client = http(sim)
    for request_id in ("w-1", "w-2"):
        await post_pull(client, request_id)
        await show_pull(client, request_id)
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.lock"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["pull_request_creates"] == 2


def test_an_unreadable_state_file_is_set_aside_not_overwritten(tmp_path, caplog):
    path = tmp_path / "state.json"
    for content in ("{not json", '{"format": 1, "cards": 3}'):
        path.write_text(content)
        with caplog.at_level(logging.WARNING):
            sim = make_sim(state_path=path)
        assert sim.pull_requests == {} and not path.exists()
        assert "could not be used" in caplog.text
    kept = sorted(p.read_text() for p in tmp_path.glob("state.json.unreadable-*"))
    assert kept == sorted(["{not json", '{"format": 1, "cards": 3}'])


def test_the_package_loads_the_simulator_when_first_used():
    """``walleo_desktop.simulator`` gives the demo credentials without its web stack (the
    window's start for a simulator on this machine); its other names load it on demand."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from walleo_desktop.simulator import DEMO_CREDENTIALS, IN_PROCESS_BASE_URL\n"
        "print('starlette' in sys.modules, 'walleo_desktop.simulator._app' in sys.modules)\n"
        "from walleo_desktop.simulator import Simulator, serve_in_thread\n"
        "import walleo_desktop.simulator as s\n"
        "print('starlette' in sys.modules, Simulator is s._app.Simulator,\n"
        "      callable(serve_in_thread))\n"
        "try:\n"
        "    s.no_such_name\n"
        "except AttributeError:\n"
        "    print('AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["False False", "True True True", "AttributeError"]
