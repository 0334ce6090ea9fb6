"""No secret ever reaches the disk: a whole working session, then every file is searched.

Two real sessions, with verbose logging to a file (``setup_logging(verbose=True)``):

- the **window** on the demo session: pulls through the form, the card pane's code and PIN
  revealed and copied, the card's PDF loaded and shown, a search of the history by a full code
  and by its last digits, an export without codes (``store/export.py``), and a profile with
  credentials saved in Settings (in-memory keyring);
- the **CLI** against a simulator over real HTTP with credentials in the environment: pulls,
  history, export, catalog, and ``profile set`` with the credentials on standard input.

Then every file under the test's directories (the XDG data, config, cache, state and runtime
dirs of conftest, the data dir, the log dir) is read as bytes and must not contain, in UTF-8
nor UTF-16-LE, the API key, the shared key, an Authorization header or its signature, any card
code (as issued, as displayed in groups, normalised) or PIN. The SQLite files are read with
their ``-wal`` and ``-shm`` while the session is still open, and again after it closed.

The card PDFs are left out on purpose: a card's PDF *is* the card (its code is printed on it,
it is what the customer gets), so it legitimately holds the code. What is checked instead is
that each PDF is readable by its owner only (0600) in an owner-only folder.

PINs are made 10 digits long here (the simulator's are 4 to 6): a 4-digit string turns up by
chance in any file full of timestamps, so only a long PIN found in a file proves a leak.

The app logs no secret in these flows. The last step of each session stands for a future slip
(a debug line, an exception message with a code in it): it logs the secrets through the app's
own loggers, so the test also proves the redaction of the real handlers. Without encryption
(codes stored in clear) or without redaction, this test fails.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backends.fail
import keyring.errors
import pytest
from conftest import confirm, wait_signal, wait_until
from PySide6.QtCore import QSettings, Qt

from walleo_desktop.api.client import Credentials
from walleo_desktop.cli import build_parser
from walleo_desktop.engine import Connection, PollPolicy, Profiles, Session
from walleo_desktop.logs import setup_logging
from walleo_desktop.simulator import Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.simulator._catalog import Brand
from walleo_desktop.store import HistoryFilter, PullState
from walleo_desktop.store.crypto import normalise_code
from walleo_desktop.store.export import export_csv
from walleo_desktop.ui.card_pane import display_code
from walleo_desktop.ui.main_window import MainWindow
from walleo_desktop.ui.settings_dialog import SettingsDialog, session_credentials

FAST = PollPolicy(first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.5)
DEMO = Connection(profile="demo", base_url="", credentials=None, demo=True)
MIN_SECRET = 10  # shorter strings occur by chance in timestamps and ids


def random_credentials() -> Credentials:
    return Credentials(
        api_key="wk_" + secrets.token_urlsafe(32),
        identifier=f"partner-{secrets.token_hex(4)}",
        shared_key=secrets.token_hex(24).upper(),
    )


@pytest.fixture(autouse=True)
def long_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    def new_pin(self: Brand, rng: Any) -> str:
        if not self.pin_digits:
            return ""
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(9))

    monkeypatch.setattr(Brand, "new_pin", new_pin)


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "logs"
    setup_logging(verbose=True, console=False, log_dir=directory)
    root = logging.getLogger()
    level = root.level
    yield directory
    for handler in list(root.handlers):
        if getattr(handler, "_walleo", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def variants(code: str) -> set[str]:
    """A code as issued, as the card pane shows it, and as search compares it."""
    return {code, display_code(code), normalise_code(code)}


def secret_texts(
    credentials: list[Credentials], cards: list[Any], authorizations: list[str]
) -> set[str]:
    found: set[str] = set()
    for creds in credentials:
        found |= {creds.api_key, creds.shared_key}
    for card in cards:
        found |= variants(card.code)
        if card.pin_code:
            found.add(card.pin_code)
    for value in authorizations:
        found.add(value)
        found |= {part.split("=", 1)[1] for part in value.split(", ") if part.startswith("Sig")}
        found.add(value.removeprefix("Bearer ").split(",")[0])
    short = sorted(s for s in found if len(s) < MIN_SECRET)
    assert short == [], f"too short to search for reliably: {short}"
    return found


def scan(root: Path, needles: set[str]) -> tuple[list[tuple[str, str]], list[Path]]:
    """(file, secret) for each secret found in a file under ``root``; and the PDFs skipped."""
    leaks: list[tuple[str, str]] = []
    pdfs: list[Path] = []
    encoded = [
        (needle, needle.encode(encoding))
        for needle in needles
        for encoding in ("utf-8", "utf-16-le")
    ]
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() == ".pdf":
            pdfs.append(path)  # the card itself: see the module docstring
            continue
        data = path.read_bytes()
        leaks.extend((str(path.relative_to(root)), n) for n, raw in encoded if raw in data)
    return sorted(set(leaks)), pdfs


def assert_private_pdfs(pdfs: list[Path]) -> None:
    for pdf in pdfs:
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600, pdf
        assert stat.S_IMODE(pdf.parent.stat().st_mode) == 0o700, pdf.parent


def slip(credentials: Credentials, cards: list[Any], authorizations: list[str]) -> None:
    """What a careless debug line or an exception message would write (module docstring): the
    session's credentials, each card as received, the request headers.

    Not the code as the card pane groups it ("4929 1234 …"): the redaction does not know that
    form (see the report); the files are still searched for it."""
    log = logging.getLogger("walleo.engine.pulls")
    log.debug("client for %s with key %s", credentials.identifier, credentials.api_key)
    log.debug("signing with shared key %s", credentials.shared_key)
    for card in cards:
        log.debug("card %s: code=%s pin=%s", card.id, card.code, card.pin_code)
        log.info("got %r from Walleo", {"code": card.code, "pin_code": card.pin_code})
    for value in authorizations:
        log.debug("request headers: Authorization: %s", value)
    try:
        raise ValueError(f"cannot parse the card {cards[0].code!r} (PIN {cards[0].pin_code})")
    except ValueError:
        log.exception("a pull observer failed")
    flush_logs()


class HeaderTap:
    """ASGI middleware keeping the Authorization headers the simulator receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.values: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                self.values.append(value.decode("latin-1"))
        await self.app(scope, receive, send)


@pytest.fixture
def server() -> Iterator[tuple[Simulator, Any, HeaderTap, Credentials]]:
    """A simulator over real HTTP on 127.0.0.1 with random credentials, its headers tapped."""
    creds = random_credentials()
    sim = Simulator(SimulatorConfig(credentials=creds, delay_scale=0.01, seed=11))
    sim.config.async_error_rate = 0.0
    tap = HeaderTap(sim.app)
    sim.app = tap  # type: ignore[assignment]
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield sim, srv, tap, creds


# -- the window -----------------------------------------------------------------------------------


async def pull_through_the_form(
    window: MainWindow, code: str, amount: int, count: int
) -> list[Any]:
    form = window.form
    form.brand.setCurrentIndex(form.brand.findData(code))
    if form.amount.currentWidget() is form.amount_choice:
        form.amount_choice.setCurrentIndex(form.amount_choice.findData(amount))
    else:
        form.amount_spin.setValue(amount)
    form.quantity.setValue(count)
    assert form.request_confirmation()
    return await confirm(form)


async def test_a_whole_window_session_leaves_no_secret_on_disk(
    tmp_path: Path, qtbot: Any, log_dir: Path, memory_keyring: Any, server: Any
) -> None:
    sim, srv, tap, creds = server
    data = tmp_path / "data"
    connection = Connection(
        profile="local", base_url=srv.base_url, credentials=creds, source="environment"
    )
    session = await Session.open(connection, data, policy=FAST)
    ini = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=ini)
    qtbot.addWidget(window)
    settings_creds = random_credentials()
    closed = False
    try:
        window.show()
        await window.start()
        await wait_until(lambda: window.form.brand.count() > 0)

        pulls = []
        for brand, amount, count in [("FNAC", 50, 2), ("SEPHORA", 50, 1), ("ZALANDO", 50, 1),
                                     ("IKEA", 20, 1), ("UBER-EATS", 30, 1)]:  # fmt: skip
            pulls += await pull_through_the_form(window, brand, amount, count)

        def all_done() -> bool:
            window.model.flush()
            found = [window.model.pull(p.id) for p in pulls]
            return all(p is not None and p.state is PullState.SUCCESS for p in found)

        await wait_until(all_done, 30)

        # The card pane: reveal and copy the code and the PIN, load and show the PDF.
        pane = window.card_pane
        for pull in pulls[:3]:
            assert window.table.select_pull(pull.id)
            await wait_until(lambda p=pull: pane.card is not None and pane.card.pull_id == p.id)
            for button in (pane.reveal_code_button, pane.reveal_pin_button):
                if button.isEnabled():
                    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            assert display_code(pane.card.code) in pane.code_label.text()
            for button in (pane.copy_code_button, pane.copy_pin_button):
                if button.isEnabled():
                    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: pane.pdf.state == "ready", 10)
            qtbot.mouseClick(pane.pdf.show_button, Qt.MouseButton.LeftButton)
            assert pane.pdf.revealed
        await wait_until(lambda: not window.ops.busy_any())  # the audit events are written
        kinds = [e.kind for e in await session.store.events() if e.kind.startswith("card_")]
        assert {"card_reveal_code", "card_reveal_pin", "card_copy_code", "card_copy_pin",
                "card_show_pdf"} <= set(kinds)  # fmt: skip

        # The history: searched by a whole code (as displayed) and by its last digits.
        history = window.show_history()
        some = await session.store.card_for_pull(pulls[0].id)
        assert some is not None
        for term in (display_code(some.code), some.code[-8:]):
            history.filters.search.setText(term)
            await wait_until(lambda: history.model.rowCount() == 1 and not history.model.loading)

        # An export without codes; Settings: a profile with credentials (memory keyring).
        result = await session.store.run_read(export_csv, HistoryFilter(), data / "export.csv")
        assert result.rows == len(pulls)
        dialog = SettingsDialog(Profiles())
        qtbot.addWidget(dialog)
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        dialog.name_edit.setText("Production")
        dialog.identifier_edit.setText(settings_creds.identifier)
        dialog.api_key_edit.setText(settings_creds.api_key)
        dialog.shared_key_edit.setText(settings_creds.shared_key)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        await wait_signal(dialog.saved)
        assert memory_keyring.entries  # the credentials went to the keyring
        dialog.close()

        cards = list(sim._cards.values())
        assert len(cards) == len(pulls) and any(card.pin_code for card in cards)
        authorizations = list(tap.values)
        assert authorizations
        needles = secret_texts([creds, settings_creds], cards, authorizations)

        # While the session is open: the history with its -wal and -shm files.
        flush_logs()
        assert any(p.name.endswith("-wal") for p in data.iterdir())
        leaks, _pdfs = scan(tmp_path, needles)
        assert leaks == []

        slip(creds, cards, authorizations)
        window.close()
        await window.shutdown()
        await session.close()
        closed = True
    finally:
        session_credentials.clear()
        if not closed:
            window.close()
            await window.shutdown()
            await session.close()

    flush_logs()
    leaks, pdfs = scan(tmp_path, needles)
    assert leaks == []
    assert len(pdfs) == 3
    assert_private_pdfs(pdfs)
    log_text = (log_dir / "walleo-desktop.log").read_text("utf-8")
    assert "[redacted]" in log_text and "a pull observer failed" in log_text


# -- the CLI --------------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        **kw,
    )


def test_a_whole_cli_session_leaves_no_secret_on_disk(
    tmp_path: Path, isolated_dirs: Path, server: Any
) -> None:
    sim, srv, tap, creds = server
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env.update(
        WALLEO_BASE_URL=srv.base_url,
        WALLEO_API_KEY=creds.api_key,
        WALLEO_IDENTIFIER=creds.identifier,
        WALLEO_SHARED_KEY=creds.shared_key,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # no keyring: the fallback
    )
    common = ["--data-dir", str(data), "-v"]
    pulled = run_cli([*common, "pull", "SEPHORA", "50", "--count", "3", "--json"], env)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stderr.count("warning: No system keyring is available") == 1
    alnum = run_cli([*common, "pull", "UBER-EATS", "30", "--show-codes"], env)
    assert alnum.returncode == 0, alnum.stderr
    for args in (["history", "--json"], ["catalog"], ["export", str(data / "out.csv")]):
        done = run_cli([*common, *args], env)
        assert done.returncode == 0, done.stderr
    # Credentials for a profile come on standard input, never as arguments; with no keyring
    # to keep them, the CLI refuses rather than writing them anywhere.
    lines = f"{creds.identifier}\n{creds.api_key}\n{creds.shared_key}\n"
    no_env = {k: v for k, v in env.items() if not k.startswith("WALLEO_")}
    profile = run_cli(["profile", "set", "shop", "--base-url", srv.base_url], no_env, input=lines)
    assert profile.returncode == 2 and "keyring" in profile.stderr

    cards = list(sim._cards.values())
    assert len(cards) == 4 and all(card.pin_code for card in cards[:3])
    assert all(card.code in pulled.stdout + alnum.stdout for card in cards)  # shown, not kept
    authorizations = list(tap.values)
    assert authorizations
    needles = secret_texts([creds], cards, authorizations)

    # The CLI's log file is in the XDG state dir of conftest, inherited by the subprocesses.
    log_files = list((isolated_dirs / "state").rglob("*.log"))
    assert log_files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in log_files)
    assert any("POST /pull_requests" in p.read_text("utf-8") for p in log_files)  # verbose
    assert stat.S_IMODE((data / "history.key").stat().st_mode) == 0o600
    leaks, pdfs = scan(tmp_path, needles)
    assert leaks == []
    assert_private_pdfs(pdfs)


# -- credentials never on the command line --------------------------------------------------------

_CREDENTIAL_OPTION = (
    "api-key", "api_key", "apikey", "shared-key", "shared_key", "secret", "password", "token",
    "identifier", "credential",
)  # fmt: skip


def _parsers() -> Iterator[tuple[str, Any]]:
    import argparse

    stack = [("walleo-desktop", build_parser())]
    while stack:
        name, parser = stack.pop()
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    stack.append((f"{name} {sub_name}", sub))


def test_no_command_takes_a_credential_as_an_argument() -> None:
    seen = []
    for name, parser in _parsers():
        seen.append(name)
        options = [o for action in parser._actions for o in action.option_strings]
        bad = [o for o in options if any(word in o.lower() for word in _CREDENTIAL_OPTION)]
        assert bad == [], f"{name}: {bad}"
        positionals = [a.dest for a in parser._actions if not a.option_strings]
        assert not [p for p in positionals if any(w in p.lower() for w in _CREDENTIAL_OPTION)]
    assert {"walleo-desktop pull", "walleo-desktop profile set", "walleo-desktop export"} <= set(
        seen
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["pull"], ["resume"], ["history"], ["export"], ["catalog"], ["simulator"],
        ["profile"], ["profile", "set"], ["profile", "list"], ["profile", "use"],
        ["profile", "delete"],
    ],
)  # fmt: skip
def test_every_help_mentions_no_credential_option(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    r = run_cli([*args, "--help"], env)
    assert r.returncode == 0, r.stderr
    usage_and_options = r.stdout.lower()
    for word in ("--api-key", "--api_key", "--shared-key", "--shared_key", "--identifier",
                 "--password", "--secret", "--token"):  # fmt: skip
        assert word not in usage_and_options, (args, word)


def test_profile_set_reads_the_credentials_from_standard_input(tmp_path: Path) -> None:
    creds = random_credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # accepts, keeps nothing
    as_argument = run_cli(["profile", "set", "shop", "--api-key", creds.api_key], env)
    assert as_argument.returncode == 2 and "unrecognized arguments" in as_argument.stderr
    lines = f"{creds.identifier}\n{creds.api_key}\n{creds.shared_key}\n"
    r = run_cli(["profile", "set", "shop", "--activate"], env, input=lines)
    assert r.returncode == 0, r.stderr
    assert "Profile 'shop' saved" in r.stdout
    assert creds.api_key not in r.stdout + r.stderr
    r = run_cli(["profile", "set", "other"], env, input="only one line\n")
    assert r.returncode == 2 and "three lines" in r.stderr
    leaks, _ = scan(tmp_path, {creds.api_key, creds.shared_key})
    assert leaks == []


def test_the_fail_backend_really_fails() -> None:
    """The CLI test above relies on it: ``fail`` raises, it does not store in clear."""
    with pytest.raises(keyring.errors.KeyringError):
        keyring.backends.fail.Keyring().set_password("s", "u", "p")
