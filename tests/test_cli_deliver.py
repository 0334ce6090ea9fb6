"""``walleo-desktop deliver``: real subprocesses, a simulator over HTTP, aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from smtp_server import SmtpServer
from test_cli import cli_env, run_cli

from walleo_desktop.engine.delivery import SmtpSecurity, SmtpSettings, SmtpSettingsStore
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store.sqlite import open_core

CUSTOMER = "claire.martin@example.com"


@pytest.fixture
def walleo():
    sim = Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.05, seed=3))
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def smtp():
    server = SmtpServer.start(refuse={"nobody@example.com"})
    yield server
    server.stop()


def test_deliver_emails_the_card_and_says_plainly_what_is_missing(walleo, smtp, tmp_path):
    env = cli_env(walleo.base_url, tmp_path)
    data = ["--data-dir", str(tmp_path / "data")]
    pulled = run_cli([*data, "pull", "FNAC", "50", "--json"], env)
    assert pulled.returncode == 0, pulled.stderr
    card = json.loads(pulled.stdout)
    request_id = card["request_id"]

    not_set = run_cli([*data, "deliver", request_id, "--email", CUSTOMER], env)
    assert not_set.returncode == 2
    assert "E-mail is not set up for profile 'environment'" in not_set.stderr

    # WALLEO_* credentials without a profile: the session's profile is "environment".
    SmtpSettingsStore().save(
        "environment",
        SmtpSettings(
            host="127.0.0.1",
            port=smtp.port,
            security=SmtpSecurity.NONE,
            sender_address="cartes@agence.example",
            sender_name="Agence",
        ),
    )
    typo = run_cli([*data, "deliver", request_id, "--email", "claire@example"], env)
    assert typo.returncode == 2 and "not a valid e-mail address" in typo.stderr
    unknown = run_cli([*data, "deliver", "wd-nope", "--email", CUSTOMER], env)
    assert unknown.returncode == 2 and "no pull 'wd-nope'" in unknown.stderr
    assert smtp.received == []

    sent = run_cli(
        [*data, "--language", "en", "deliver", request_id, "--email", CUSTOMER, "--json"], env
    )
    assert sent.returncode == 0, sent.stderr
    outcome = json.loads(sent.stdout)
    assert outcome == {
        "request_id": request_id,
        "to": CUSTOMER,
        "status": "sent",
        "reason": None,
        "message": None,
        "pdf_attached": True,
        "attempts": 1,
    }
    [received] = smtp.received
    message = received.message
    assert received.rcpt_tos == [CUSTOMER]
    assert message["Subject"] == "Your Fnac gift card (€50)"
    body = message.get_body(("plain",)).get_content()
    assert card["card"]["code"] in body and card["card"]["pin_code"] in body
    assert [a.get_content_type() for a in message.iter_attachments()] == ["application/pdf"]
    assert card["card"]["code"] not in sent.stdout + sent.stderr

    refused = run_cli(
        [*data, "deliver", request_id, "--email", "nobody@example.com", "--json"], env
    )
    assert refused.returncode == 1
    outcome = json.loads(refused.stdout)
    assert outcome["status"] == "failed" and outcome["reason"] == "recipient_refused"
    assert outcome["attempts"] == 2 and "550" in outcome["message"]
    assert "failed" in refused.stderr

    # both attempts are in the history's audit log, without the code or the PIN
    with open_core(tmp_path / "data" / "history.sqlite3") as core:
        pull = core.find_pull(request_id)
        events = [e for e in core.events(pull.id) if e.kind == "card_email"]
    assert [(e.detail["to"], e.detail["outcome"]) for e in events] == [
        (CUSTOMER, "sent"),
        ("nobody@example.com", "failed"),
    ]
    dumped = json.dumps([e.detail for e in events])
    assert card["card"]["code"] not in dumped and card["card"]["pin_code"] not in dumped
