"""engine.connection_test over real HTTP against the simulator (and a closed port)."""

from __future__ import annotations

import socket

import pytest

from walleo_desktop.api.client import Credentials
from walleo_desktop.engine import connection_test as ct
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread


@pytest.fixture
def server():
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, seed=1))
    with serve_in_thread(sim) as srv:
        yield srv


async def test_success_counts_the_catalog(server):
    report = await ct.test_connection(server.base_url, DEMO_CREDENTIALS)
    assert report.ok
    assert report.gift_cards and report.gift_cards > 0
    assert report.message == f"Connected: {report.gift_cards} gift cards available."
    assert report.get_signing == "empty-segment"


async def test_wrong_api_key_is_refused_in_plain_words(server):
    wrong = Credentials("not-the-key", DEMO_CREDENTIALS.identifier, DEMO_CREDENTIALS.shared_key)
    report = await ct.test_connection(server.base_url, wrong)
    assert not report.ok
    assert report.error_code == "unauthorized"
    assert report.message == (
        "Walleo refused the credentials (Not authorized). Check the API key and identifier."
    )
    assert "not-the-key" not in report.message


async def test_wrong_shared_key_names_the_shared_key(server):
    wrong = Credentials(DEMO_CREDENTIALS.api_key, DEMO_CREDENTIALS.identifier, "00" * 16)
    report = await ct.test_connection(server.base_url, wrong)
    assert not report.ok
    assert report.error_code == "invalid_signature"
    assert report.message.startswith("The signature was refused")
    assert "shared key" in report.message
    assert "00" * 16 not in report.message


async def test_clock_skew_is_diagnosed():
    # The server's clock runs 5 minutes ahead of ours: our signed timestamps look stale.
    sim = Simulator(
        SimulatorConfig(credentials=DEMO_CREDENTIALS, clock_offset=300, max_timestamp_skew=30)
    )
    with serve_in_thread(sim) as srv:
        report = await ct.test_connection(srv.base_url, DEMO_CREDENTIALS)
    assert not report.ok
    assert report.error_code == "invalid_signature"
    assert report.clock_skew is not None and 295 < report.clock_skew < 305
    assert report.message.startswith("The signature was refused; your clock is 5 min behind")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_server():
    report = await ct.test_connection(
        f"http://127.0.0.1:{_closed_port()}/partners/v1", DEMO_CREDENTIALS
    )
    assert not report.ok
    assert report.error_code == "not_sent"
    assert report.message.startswith("Walleo could not be reached: ")
    assert report.message.endswith("Check the base URL and this computer's network connection.")


async def test_wrong_path_is_not_mistaken_for_walleo(server):
    report = await ct.test_connection(server.base_url.rsplit("/", 1)[0] + "/nope", DEMO_CREDENTIALS)
    assert not report.ok
    assert "base URL" in report.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.com", "must start with https://"),
        ("http://example.com/partners/v1", "only allowed for a simulator"),
        ("https://", "must start with https://"),
    ],
)
async def test_bad_base_url_is_refused_before_any_request(url, expected):
    report = await ct.test_connection(url, DEMO_CREDENTIALS)
    assert not report.ok and expected in report.message


async def test_bad_shared_key_is_refused_before_any_request():
    bad = Credentials("k", "id", "not hex")
    report = await ct.test_connection("https://api.walleo.io/partners/v1", bad)
    assert not report.ok
    assert "hexadecimal" in report.message


def test_base_url_problem():
    assert ct.base_url_problem("https://api.walleo.io/partners/v1") is None
    assert ct.base_url_problem("http://localhost:8080/partners/v1") is None
    assert ct.base_url_problem("http://[::1]:8080/partners/v1") is None
    assert ct.base_url_problem("http://10.0.0.1/partners/v1") is not None
    assert ct.base_url_problem("https://api.walleo.io/?x=1") is not None


def test_describe_clock_skew():
    assert ct.describe_clock_skew(300) == "5 min behind"
    assert ct.describe_clock_skew(299.04) == "5 min behind"
    assert ct.describe_clock_skew(-312) == "5 min ahead of"
    assert ct.describe_clock_skew(-95) == "1 min 35 s ahead of"
    assert ct.describe_clock_skew(45) == "45 s behind"
    assert ct.describe_clock_skew(3600 * 2 + 5 * 60 + 20) == "2 h 5 min behind"


def test_the_function_is_not_collected_as_a_test():
    assert ct.test_connection.__test__ is False
