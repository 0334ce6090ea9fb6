"""Request signing: the documented worked example, canonical JSON, GET variants, and the client
signing exactly the bytes it sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import httpx
import pytest

from walleo_desktop.api.client import Credentials, WalleoClient
from walleo_desktop.api.signing import (
    GetSigning,
    authorization_header,
    canonical_json,
    sign,
    signing_token,
)

# The worked example of Walleo's docs (walleo-api.md, "Authentication").
IDENTIFIER = "b5245bbc-8ee7-4e55-92e0-b97e81085154"
API_KEY = "rKc1oJFfEzf0HRbNzLjcvEKijkAFfSL5BYhI-Usidd5PARuHZaSRAL_2eSPOZrT-"
SHARED_KEY = "6F2CE47010CF4F79B9767042BAFB1EB4"
URL = "http://www.example.com/partners/v1/cards"
BODY = {"card": {"amount": 50, "gift_card_code": "E-ca"}}
TIMESTAMP = 1648559273
TOKEN = (
    b'POST+http://www.example.com/partners/v1/cards+{"card":{"amount":50,"gift_card_code":"E-ca"}}'
    b"+b5245bbc-8ee7-4e55-92e0-b97e81085154+1648559273"
)
SIGNATURE = "434f3dd367edbe5c82a68f5b5a771a50d602c2868e10a4b132ae807df6982867"

AUTH_RE = re.compile(
    r"^Bearer (?P<key>[^,]+), Id=(?P<id>[^,]+), Signature=(?P<sig>[0-9a-f]{64}), "
    r"Timestamp=(?P<ts>\d+)$"
)


def test_worked_example_payload_token_and_signature_byte_for_byte():
    payload = canonical_json(BODY)
    assert payload == b'{"card":{"amount":50,"gift_card_code":"E-ca"}}'
    token = signing_token("POST", URL, payload, IDENTIFIER, TIMESTAMP)
    assert token == TOKEN
    assert sign(SHARED_KEY, token) == SIGNATURE


def test_worked_example_with_plain_hmac_agrees():
    expected = hmac.new(bytes.fromhex(SHARED_KEY), TOKEN, hashlib.sha256).hexdigest()
    assert expected == SIGNATURE


def test_shared_key_case_and_whitespace_do_not_matter_but_must_be_hex():
    assert sign(SHARED_KEY.lower(), TOKEN) == SIGNATURE
    assert sign(f"  {SHARED_KEY}\n", TOKEN) == SIGNATURE
    with pytest.raises(ValueError, match="hexadecimal"):
        sign("not-hex", TOKEN)


def test_authorization_header_format():
    header = authorization_header(API_KEY, IDENTIFIER, SIGNATURE, TIMESTAMP)
    assert header == (
        f"Bearer {API_KEY}, Id={IDENTIFIER}, Signature={SIGNATURE}, Timestamp={TIMESTAMP}"
    )


def test_verb_is_upper_cased_and_timestamp_normalised():
    token = signing_token("post", URL, canonical_json(BODY), IDENTIFIER, str(TIMESTAMP))
    assert token == TOKEN


def test_canonical_json_sorts_nested_keys_and_is_compact():
    value = {
        "pull_request": {"request_id": "R-1", "gift_card_code": "FNAC", "amount": 50},
        "a": [{"z": 1, "b": {"d": None, "c": True}}],
    }
    assert canonical_json(value) == (
        b'{"a":[{"b":{"c":true,"d":null},"z":1}],'
        b'"pull_request":{"amount":50,"gift_card_code":"FNAC","request_id":"R-1"}}'
    )


def test_canonical_json_keeps_case_and_non_ascii_as_utf8():
    payload = canonical_json({"card": {"gift_card_code": "Café-Ça", "amount": 15}})
    assert payload == '{"card":{"amount":15,"gift_card_code":"Café-Ça"}}'.encode()
    assert b"\\u" not in payload


def test_canonical_json_integers_unquoted_and_nan_refused():
    assert canonical_json({"amount": 100}) == b'{"amount":100}'
    with pytest.raises(ValueError):
        canonical_json({"amount": float("nan")})


def test_get_token_variants():
    url = "https://api.walleo.io/partners/v1/gift_cards"
    empty = signing_token("GET", url, b"", IDENTIFIER, TIMESTAMP)
    assert empty == f"GET+{url}++{IDENTIFIER}+{TIMESTAMP}".encode()
    dropped = signing_token(
        "GET", url, b"", IDENTIFIER, TIMESTAMP, get_signing=GetSigning.DROPPED_SEGMENT
    )
    assert dropped == f"GET+{url}+{IDENTIFIER}+{TIMESTAMP}".encode()
    assert sign(SHARED_KEY, empty) != sign(SHARED_KEY, dropped)


def test_get_signing_variant_never_changes_a_token_with_a_payload():
    payload = canonical_json(BODY)
    for variant in GetSigning:
        assert signing_token("POST", URL, payload, IDENTIFIER, TIMESTAMP, get_signing=variant) == (
            TOKEN
        )


# --------------------------------------------------------------- the client signs what it sends


class SignatureChecker:
    """A MockTransport handler that re-verifies each request from the bytes on the wire."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        match = AUTH_RE.match(request.headers["authorization"])
        assert match, request.headers["authorization"]
        assert match["key"] == self.credentials.api_key
        assert match["id"] == self.credentials.identifier
        token = b"+".join(
            part
            for part in (
                request.method.encode(),
                str(request.url).encode(),
                request.content if request.content else b"",
                self.credentials.identifier.encode(),
                match["ts"].encode(),
            )
        )
        expected = hmac.new(
            bytes.fromhex(self.credentials.shared_key), token, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(expected, match["sig"]), token
        return self.answer(request)

    @staticmethod
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/cards"):
            card = {
                "id": "4fe88e46-eb22-436c-91ec-6bf874fcf2ae",
                "code": "345454545451154154",
                "expire_at": "2022-06-24T00:00:00.000+02:00",
                "pin_code": "1234",
                "amount": 50,
                "gift_card_code": "E-ca",
                "pdf_url": "https://url.pdf",
            }
            return httpx.Response(200, json={"card": card})
        request_id = "R é/1"
        if request.method == "POST":
            request_id = json.loads(request.content)["pull_request"]["request_id"]
        pull = {
            "id": "3db15189-ef10-49b4-8265-58e3fe946ffb",
            "status": "waiting",
            "request_id": request_id,
            "amount_cents": 5000,
            "created_at": "2024-02-05T11:33:39.999+01:00",
            "updated_at": "2024-02-05T11:33:39.999+01:00",
            "card": None,
        }
        return httpx.Response(200, json={"pull_request": pull})


async def test_client_sends_exactly_the_bytes_it_signed():
    credentials = Credentials(API_KEY, IDENTIFIER, SHARED_KEY)
    checker = SignatureChecker(credentials)
    async with WalleoClient(
        "https://api.walleo.io/partners/v1",
        credentials,
        transport=httpx.MockTransport(checker),
        clock=lambda: float(TIMESTAMP),
    ) as client:
        await client.create_pull_request("Café-Ça", 50, "R-1 /x")
        await client.get_pull_request("R é/1")
        await client.create_card("E-ca", 50, request_id="sync-1")
    post, get, card = checker.seen
    assert post.content == canonical_json(
        {"pull_request": {"amount": 50, "gift_card_code": "Café-Ça", "request_id": "R-1 /x"}}
    )
    assert post.headers["content-type"] == "application/json"
    assert post.headers["x-requestid"] == "R-1 /x"
    assert get.content == b""
    assert str(get.url) == "https://api.walleo.io/partners/v1/pull_requests/R%20%C3%A9%2F1"
    # The worked example itself, sent by the client: same signature as the docs.
    assert card.content == canonical_json(BODY)
    assert str(card.url) == "https://api.walleo.io/partners/v1/cards"
    assert AUTH_RE.match(card.headers["authorization"])["ts"] == str(TIMESTAMP)
