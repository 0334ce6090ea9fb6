"""Team mode on a real PostgreSQL server: set-up, roles the database enforces, shared keys,
takeover across desktops, live changes, connection loss. Real HTTP to the simulator, real
processes where the issue says "several desktops".

Every member's secrets are in the test's keyring (memory in this process; a file shared by
the subprocesses, ``devtools.testkeyring``), as they would be in each desktop's OS keyring.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import psycopg
import psycopg.errors
import pytest
from conftest import wait_until

from walleo_desktop.engine import team
from walleo_desktop.engine.profiles import KEYRING_SERVICE, Connection
from walleo_desktop.engine.session import Session
from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store import StoreError
from walleo_desktop.store.records import PullState

pytestmark = pytest.mark.timeout(180)


def init_lea(url: str, base_url: str, root: Path, name: str = "lea") -> team.TeamConfig:
    """The team's first admin, on the desktop whose config dir is ``root / name``."""
    return team.init_team(
        url,
        admin_password=None,
        first_admin=name,
        walleo_credentials=DEMO_CREDENTIALS,
        walleo_base_url=base_url,
        config_dir=root / name,
    )


def add_member(admin: team.TeamConfig, name: str, role: str, root: Path) -> team.TeamConfig:
    """Invite, join (config dir ``root / name``) and approve after the fingerprint."""
    invite = team.invite_member(admin, name, role)  # type: ignore[arg-type]
    config, fp = team.join_team(invite.code, config_dir=root / name)
    team.approve_member(admin, name, expected_fingerprint=fp)
    return config


@dataclass
class Team:
    db: object  # PgDatabase
    sim: Simulator
    base_url: str
    root: Path
    configs: dict[str, team.TeamConfig] = field(default_factory=dict)

    def password(self, member: str) -> str:
        config = self.configs[member]
        value = keyring.get_password(KEYRING_SERVICE, f"team-db:{config.team_id}:{member}")
        assert value
        return value

    def connect(self, member: str) -> psycopg.Connection:
        """A plain connection as ``member`` (what a hostile desktop could do with its login)."""
        conn = psycopg.connect(
            self.configs[member].url, password=self.password(member), autocommit=True
        )
        conn.execute("SET search_path = walleo, public")
        return conn

    def add(self, name: str, role: str) -> team.TeamConfig:
        self.configs[name] = add_member(self.configs["lea"], name, role, self.root)
        return self.configs[name]

    async def session(self, member: str, **options) -> Session:
        config = self.configs[member]
        connection = Connection(
            profile=f"team:{config.team_id}",
            base_url="",
            credentials=None,
            source="team",
            team=config,
        )
        session = await Session.open(connection, self.root / member / "data", **options)
        if session.can_issue:
            await session.catalog.refresh()
        return session


@pytest.fixture
def sim_server():
    sim = Simulator(SimulatorConfig(delay_scale=0.02, seed=7, async_error_rate=0.0))
    with serve_in_thread(sim) as server:
        yield server


@pytest.fixture
def team_setup(team_db, sim_server, tmp_path) -> Team:
    pg_database = team_db
    t = Team(db=pg_database, sim=sim_server.simulator, base_url=sim_server.base_url, root=tmp_path)
    t.configs["lea"] = init_lea(pg_database.url, sim_server.base_url, tmp_path)
    t.add("sam", "agent")
    t.add("kim", "agent")
    t.add("fin", "finance")
    return t


def _gift_card(session: Session, code: str = "CARREFOUR"):
    card = session.catalog.find(code)
    assert card is not None
    return card


# -- set-up -----------------------------------------------------------------------------------


def test_invite_join_approve_and_what_each_role_gets(team_db, sim_server, tmp_path):
    pg_database = team_db
    lea = init_lea(pg_database.url, sim_server.base_url, tmp_path)
    assert lea.role == "admin" and lea.url.startswith("postgresql://lea@")  # no password
    saved = json.loads((tmp_path / "lea" / "team.json").read_text())
    assert set(saved) == {"team_id", "url", "member", "role"}

    with pytest.raises(team.TeamError, match="already holds a Walleo Desktop team"):
        init_lea(pg_database.url, sim_server.base_url, tmp_path, name="max")

    invite = team.invite_member(lea, "sam", "agent")
    assert invite.code.startswith(team.INVITE_PREFIX)
    sam, fp = team.join_team(invite.code, config_dir=tmp_path / "sam")
    # Joined, not approved: nothing opens yet, and the sentence says what to do.
    with pytest.raises(team.TeamError, match="not approved yet: an admin runs"):
        team.open_team(sam)
    # The code's one-time password was replaced at join: the code is worth nothing now.
    with pytest.raises(team.TeamError, match="refused this login"):
        team.join_team(invite.code, config_dir=tmp_path / "eve")
    # An admin who reads another fingerprint does not approve.
    with pytest.raises(team.TeamError, match="do not approve it"):
        team.approve_member(lea, "sam", expected_fingerprint="0000 0000 0000 0000")
    assert team.approve_member(lea, "sam", expected_fingerprint=fp.lower()) == fp

    access = team.open_team(sam)
    try:
        assert access.can_issue and access.credentials == DEMO_CREDENTIALS
        assert access.base_url == sim_server.base_url
    finally:
        access.backend.close()

    fin, _ = team.join_team(
        team.invite_member(lea, "fin", "finance").code, config_dir=tmp_path / "f"
    )
    team.approve_member(lea, "fin")
    access = team.open_team(fin)
    try:
        assert not access.can_issue and access.credentials is None
    finally:
        access.backend.close()
    with pg_database.connect() as conn:
        rows = conn.execute(
            "SELECT member, purpose FROM walleo.team_keys ORDER BY member, purpose"
        ).fetchall()
    assert ("fin", "issuing") not in rows and ("fin", "data") in rows
    assert ("sam", "issuing") in rows

    # Only admins manage members; an agent is told so.
    with pytest.raises(team.TeamError, match="Only a team admin"):
        team.invite_member(sam, "zoe", "agent")
    status = team.team_status(lea)
    states = {m.name: (m.joined, m.approved, m.removed) for m in status.members}
    assert states == {
        "fin": (True, True, False),
        "lea": (True, True, False),
        "sam": (True, True, False),
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("hello", "not a Walleo Desktop invite code"),
        (team.INVITE_PREFIX + "!!!", "not a Walleo Desktop invite code"),
        (team.INVITE_PREFIX + "e30=", "not a Walleo Desktop invite code"),  # {}
    ],
)
def test_a_damaged_invite_code_is_refused_in_words(code, message, tmp_path):
    with pytest.raises(team.TeamError, match=message):
        team.join_team(code, config_dir=tmp_path)
    assert not (tmp_path / "team.json").exists()


def test_bad_urls_passwords_and_databases_get_sentences(pg_server, team_db, tmp_path):
    pg_database = team_db
    from walleo_desktop.devtools.pgserver import free_port

    common = {
        "first_admin": "lea",
        "walleo_credentials": DEMO_CREDENTIALS,
        "walleo_base_url": "http://127.0.0.1:9/partners/v1",
        "config_dir": tmp_path,
    }
    with pytest.raises(team.TeamError, match="postgresql://USER@HOST"):
        team.init_team("mysql://x", admin_password=None, **common)
    with pytest.raises(team.TeamError, match="cannot be reached"):
        team.init_team(
            f"postgresql://postgres@127.0.0.1:{free_port()}/x", admin_password="x", **common
        )
    wrong = pg_database.url.replace(pg_server.password, "wrong")
    with pytest.raises(team.TeamError, match="refused this login"):
        team.init_team(wrong, admin_password=None, **common)
    with pytest.raises(team.TeamError, match="member name"):
        team.init_team(pg_database.url, admin_password=None, **{**common, "first_admin": "Lea!"})
    assert not (tmp_path / "team.json").exists()
    # A member whose team.json points at a database without the team's schema.
    config = team.TeamConfig(team_id="x", url=pg_database.url, member="postgres", role="agent")
    keyring.set_password(KEYRING_SERVICE, "team-db:x:postgres", pg_server.password)
    keyring.set_password(KEYRING_SERVICE, "team-key:x:postgres", "00" * 32)
    with pytest.raises(team.TeamError, match="holds no Walleo Desktop team"):
        team.open_team(config)


# -- roles the database enforces ----------------------------------------------------------------


async def test_roles_are_enforced_by_the_database(team_setup: Team):
    t = team_setup
    sam = await t.session("sam")
    try:
        await sam.engine.start()
        pulls = await sam.engine.submit(_gift_card(sam), 10, count=2, reference="R-1")
        done = await sam.engine.wait([p.id for p in pulls])
        assert all(p.state is PullState.SUCCESS for p in done)
        final_id = done[0].id
    finally:
        await sam.close()

    insert = (
        "INSERT INTO pulls (request_id, gift_card_code, amount, currency, state, created_at, "
        "updated_at, agent, profile) VALUES (%s, 'CARREFOUR', 10, 'EUR', 'queued', "
        "'2026-01-01', '2026-01-01', %s, %s)"
    )
    profile = f"team:{t.configs['sam'].team_id}"
    with t.connect("sam") as conn:
        # A forged agent name is refused; one's own is accepted.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(insert, ["r-x", "kim", profile])
        conn.execute(insert, ["r-y", "sam", profile])
        # Nobody edits a final pull: it is not even visible to UPDATE.
        cur = conn.execute("UPDATE pulls SET error_message = 'x' WHERE id = %s", [final_id])
        assert cur.rowcount == 0
        # Columns an agent never writes (the amount, the agent) are not granted.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE pulls SET amount = 1000 WHERE request_id = 'r-y'")
        # Events are append-only.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM events")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE events SET kind = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO events (pull_id, at, kind, actor) VALUES (%s, 'x', 'x', 'kim')",
                [final_id],
            )
        # Cards are never rewritten, and no one's keys but one's own are readable.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE cards SET code_last4 = '0000'")
        members = {r[0] for r in conn.execute("SELECT member FROM team_keys").fetchall()}
        assert members == {"sam"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE members SET role = 'admin' WHERE name = 'sam'")
        from walleo_desktop.store.postgres.schema import team_roles

        owner = team_roles(t.db.name).owner
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SET ROLE {owner}")
        # A lease held (and valid) by kim is not sam's to take...
        conn.execute("RESET ROLE")
    with t.connect("kim") as kim:
        kim.execute(
            "UPDATE pulls SET lease_owner = 'kim-desktop', lease_epoch = lease_epoch + 1, "
            "lease_until = '2999-01-01T00:00:00.000000Z' WHERE request_id = 'r-y'"
        )
        assert kim.execute("SELECT lease_user FROM pulls WHERE request_id = 'r-y'").fetchone() == (
            "kim",
        )
    with t.connect("sam") as conn:
        cur = conn.execute("UPDATE pulls SET state = 'sending' WHERE request_id = 'r-y'")
        assert cur.rowcount == 0
    with t.connect("kim") as kim:  # ...until it expires
        kim.execute(
            "UPDATE pulls SET lease_until = '2000-01-01T00:00:00.000000Z' WHERE request_id = 'r-y'"
        )
    with t.connect("sam") as conn:
        cur = conn.execute(
            "UPDATE pulls SET lease_owner = 'sam-desktop', lease_epoch = lease_epoch + 1, "
            "lease_until = '2999-01-01T00:00:00.000000Z' WHERE request_id = 'r-y'"
        )
        assert cur.rowcount == 1
    with t.connect("fin") as fin:
        # Finance reads everything and writes no pull, no card.
        assert fin.execute("SELECT count(*) FROM pulls").fetchone()[0] == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            fin.execute(insert, ["r-z", "fin", profile])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            fin.execute("UPDATE pulls SET state = 'error'")


async def test_finance_sees_everything_issues_nothing(team_setup: Team):
    t = team_setup
    fin = await t.session("fin")
    sam = await t.session("sam")
    try:
        assert not fin.can_issue
        await fin.engine.start()
        seen: dict[int, PullState] = {}
        fin.engine.subscribe(lambda e: seen.__setitem__(e.pull.id, e.pull.state))
        await sam.engine.start()
        (pull,) = await sam.engine.submit(_gift_card(sam), 20, reference="F-1")
        await sam.engine.wait([pull.id])
        await wait_until(lambda: seen.get(pull.id) is PullState.SUCCESS, timeout=15)
        card = await fin.store.card_for_pull(pull.id)
        assert card is not None and len(card.code) >= 8  # the data key opens it
        from walleo_desktop.api.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="issues no cards"):
            await fin.engine.submit(_gift_card(sam), 20)
    finally:
        await sam.close()
        await fin.close()


async def test_a_commit_that_lands_after_a_later_one_is_not_missed(team_setup: Team):
    """Change numbers come from a sequence, taken before commit: a follower that saw 11 must
    still see 10 when its transaction commits later."""
    t = team_setup
    sam = await t.session("sam")
    fin = await t.session("fin")
    try:
        await sam.engine.start()
        pulls = await sam.engine.submit(_gift_card(sam), 10, count=2)
        await sam.engine.wait([p.id for p in pulls])
        await fin.engine.catch_up()
        seen: list[tuple[int, int]] = []
        fin.engine.subscribe(lambda e: seen.append((e.pull.id, e.pull.change_seq)))
        slow = t.db.connect()  # superuser: stands for any writer
        slow.execute("SET search_path = walleo")
        slow.execute(
            "UPDATE pulls SET change_seq = nextval('pulls_change_seq'), note = 'slow' "
            "WHERE id = %s",
            [pulls[0].id],
        )  # not committed yet
        with t.db.connect(autocommit=True) as fast:
            fast.execute(
                "UPDATE walleo.pulls SET change_seq = nextval('walleo.pulls_change_seq'), "
                "note = 'fast' WHERE id = %s",
                [pulls[1].id],
            )
        await fin.engine.catch_up()
        assert [i for i, _ in seen] == [pulls[1].id]
        slow.commit()
        slow.close()
        await fin.engine.catch_up()
        assert [i for i, _ in seen] == [pulls[1].id, pulls[0].id]
    finally:
        await fin.close()
        await sam.close()


# -- shared keys ------------------------------------------------------------------------------


async def test_a_removed_member_gets_no_new_key_and_cannot_log_in(team_setup: Team):
    t = team_setup
    sam = await t.session("sam")
    try:
        await sam.engine.start()
        (before,) = await sam.engine.submit(_gift_card(sam), 10)
        await sam.engine.wait([before.id])
    finally:
        await sam.close()
    kim_password = t.password("kim")
    kim = await t.session("kim")  # kim's desktop is open while an admin removes kim
    try:
        await kim.engine.start()
        assert team.remove_member(t.configs["lea"], "kim") == "k2"
        # Its sessions were ended: it can journal nothing more, and it is told so.
        with pytest.raises(StoreError):
            await kim.engine.submit(_gift_card(kim), 10)
        with pytest.raises(StoreError, match="kim was closed by a team admin"):
            await kim.engine.submit(_gift_card(kim), 10)
    finally:
        await kim.close()
    with pytest.raises(team.TeamError, match="kim was closed by a team admin"):
        team.open_team(t.configs["kim"])
    # Cards made after the removal are sealed with k2, which was never wrapped for kim.
    sam = await t.session("sam")
    try:
        await sam.engine.start()
        (after,) = await sam.engine.submit(_gift_card(sam), 10)
        await sam.engine.wait([after.id])
        old_card = await sam.store.card_for_pull(before.id)
        new_card = await sam.store.card_for_pull(after.id)
        assert old_card is not None and new_card is not None  # sam reads both versions
    finally:
        await sam.close()
    with t.db.connect() as conn:
        keys = conn.execute(
            "SELECT member, key_id, purpose FROM walleo.team_keys ORDER BY 1, 2, 3"
        ).fetchall()
        sealed = dict(conn.execute("SELECT pull_id, key_id FROM walleo.cards").fetchall())
        secret_key = conn.execute(
            "SELECT key_id FROM walleo.team_secrets WHERE name = 'walleo_credentials'"
        ).fetchone()
    assert sealed == {before.id: "k1", after.id: "k2"}
    assert [k for k in keys if k[0] == "kim"] == [("kim", "k1", "data"), ("kim", "k1", "issuing")]
    assert ("fin", "k2", "data") in keys and ("fin", "k2", "issuing") not in keys
    assert ("sam", "k2", "issuing") in keys
    assert secret_key == ("k2",)  # the Walleo credentials were sealed again, with k2
    # kim's login is closed at the server, whatever kim's desktop still knows.
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        psycopg.connect(t.configs["kim"].url, password=kim_password)


async def test_the_database_never_sees_a_code_a_pin_or_a_key(team_setup: Team, pg_server):
    t = team_setup
    sam = await t.session("sam")
    try:
        await sam.engine.start()
        pulls = await sam.engine.submit(_gift_card(sam), 30, count=3)
        await sam.engine.wait([p.id for p in pulls])
    finally:
        await sam.close()
    secrets_ = [DEMO_CREDENTIALS.api_key, DEMO_CREDENTIALS.shared_key]
    for card in t.sim.cards.values():
        secrets_ += [card.code, card.pin_code]
    for member in t.configs:
        config = t.configs[member]
        secrets_.append(t.password(member))
        secrets_.append(
            keyring.get_password(KEYRING_SERVICE, f"team-key:{config.team_id}:{member}")
        )
    assert len(t.sim.cards) == 3
    with t.db.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'walleo'"
            ).fetchall()
        ]
        dump = "\n".join(
            str(row)
            for table in tables
            for row in conn.execute(f"SELECT * FROM walleo.{table}").fetchall()  # noqa: S608
        )
        # bytea as hex too, in case a value was stored raw
        dump += "\n".join(
            bytes(v).decode("latin-1")
            for table in ("cards", "team_keys", "team_secrets")
            for row in conn.execute(f"SELECT * FROM walleo.{table}").fetchall()  # noqa: S608
            for v in row
            if isinstance(v, bytes | memoryview)
        )
    log = pg_server.log_file.read_text(errors="replace")
    for value in secrets_:
        assert value and value not in dump
        assert value not in log


# -- several desktops -----------------------------------------------------------------------------


async def test_one_customer_twice_by_two_agents_asks_once(team_setup: Team):
    """Two agents confirm nothing and submit the same reference at once: one is journaled, the
    other is asked to confirm (the advisory lock orders them)."""
    from walleo_desktop.store import DuplicateIntentError

    t = team_setup
    sam, kim = await t.session("sam"), await t.session("kim")
    try:
        results = await asyncio.gather(
            sam.engine.submit(_gift_card(sam), 50, reference="CUST-9"),
            kim.engine.submit(_gift_card(kim), 50, reference="CUST-9"),
            return_exceptions=True,
        )
        journaled = [r for r in results if isinstance(r, list)]
        asked = [r for r in results if isinstance(r, DuplicateIntentError)]
        assert len(journaled) == 1 and len(asked) == 1, results
        # Confirming it issues the second one, recorded as an override of the first.
        engine = kim.engine if results[1] is asked[0] else sam.engine
        (second,) = await engine.submit(
            _gift_card(kim),
            50,
            reference="CUST-9",
            confirmed_duplicates=[p.id for p in asked[0].matches],
        )
        assert second.id != journaled[0][0].id
        await asyncio.gather(
            sam.engine.wait([journaled[0][0].id]) if engine is kim.engine else asyncio.sleep(0),
            engine.wait([second.id]),
        )
    finally:
        await sam.close()
        await kim.close()


def _cli_env(t: Team, member: str, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALLEO_", "XDG_"))}
    env.update(
        PYTHON_KEYRING_BACKEND="walleo_desktop.devtools.testkeyring.TestFileKeyring",
        WALLEO_TEST_KEYRING=str(root / "keyring.json"),
        XDG_CONFIG_HOME=str(root / member / "config"),
        XDG_DATA_HOME=str(root / member / "data"),
        WALLEO_LEASE_SECONDS="3",
    )
    return env


def _cli(t: Team, member: str, root: Path, *args: str, stdin: str = "", timeout: float = 90):
    return subprocess.run(
        [sys.executable, "-m", "walleo_desktop", *args],
        env=_cli_env(t, member, root),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cli_team_set_up_then_a_killed_agent_is_finished_by_another(team_db, sim_server, tmp_path):
    """The whole flow as a team lead runs it, each member a separate process with its own
    config dir; then an agent's process is killed mid-batch and a teammate's finishes its
    pulls: one create per intent, every card in the shared history."""
    pg_database = team_db
    t = Team(db=pg_database, sim=sim_server.simulator, base_url=sim_server.base_url, root=tmp_path)
    sim_server.simulator.config.delay_scale = 0.3
    r = _cli(t, "lea", tmp_path, "team", "init", pg_database.url, "--admin", "lea",
             "--base-url", sim_server.base_url,
             stdin=f"{DEMO_CREDENTIALS.identifier}\n{DEMO_CREDENTIALS.api_key}\n"
                   f"{DEMO_CREDENTIALS.shared_key}\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert pg_database.server.password not in r.stdout + r.stderr
    for member in ("sam", "kim"):
        r = _cli(t, "lea", tmp_path, "team", "invite", member, "--role", "agent")
        assert r.returncode == 0, r.stderr
        code = next(line for line in r.stdout.splitlines() if line.startswith("walleo-invite:"))
        r = _cli(t, member, tmp_path, "team", "join", code)
        assert r.returncode == 0, r.stderr
        fp = r.stdout.split("fingerprint: ")[1].splitlines()[0]
        r = _cli(t, "lea", tmp_path, "team", "approve", member, "--fingerprint", fp)
        assert r.returncode == 0, r.stderr
    r = _cli(t, "lea", tmp_path, "team", "status")
    assert r.returncode == 0 and "sam" in r.stdout and "joined, to approve" not in r.stdout

    # sam's desktop dies with most of a batch unfinished.
    proc = subprocess.Popen(
        [sys.executable, "-m", "walleo_desktop", "pull", "CARREFOUR", "10", "--count", "40",
         "--json"],
        env=_cli_env(t, "sam", tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    with pg_database.connect(autocommit=True) as conn:
        while time.monotonic() < deadline:
            sent = conn.execute(
                "SELECT count(*) FROM walleo.pulls WHERE state <> 'queued'"
            ).fetchone()[0]
            if sent >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        unfinished = conn.execute(
            "SELECT count(*) FROM walleo.pulls WHERE state NOT IN ('success', 'error', 'rejected')"
        ).fetchone()[0]
    assert unfinished > 0, "the batch finished before the kill: nothing to take over"
    time.sleep(3.5)  # sam's leases (3 s here) expire
    r = _cli(t, "kim", tmp_path, "resume", "--json", timeout=150)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    with pg_database.connect() as conn:
        states = conn.execute("SELECT state, count(*) FROM walleo.pulls GROUP BY state").fetchall()
        cards = conn.execute("SELECT count(*) FROM walleo.cards").fetchone()[0]
        agents = conn.execute("SELECT DISTINCT agent FROM walleo.pulls").fetchall()
        request_ids = [r[0] for r in conn.execute("SELECT request_id FROM walleo.pulls")]
    assert dict(states) == {"success": 40}
    assert cards == 40 and agents == [("sam",)]
    creates: dict[str, int] = {}
    for rec in sim_server.simulator.records:
        if rec.method == "POST" and rec.request_id:
            creates[rec.request_id] = creates.get(rec.request_id, 0) + 1
    assert sim_server.simulator.pull_request_creates == 40
    assert set(creates) == set(request_ids)
    # kim's desktop sees the shared history, sam's pulls included.
    r = _cli(t, "kim", tmp_path, "history", "--json", "--limit", "100")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 40


async def test_the_database_going_away_loses_nothing(team_setup: Team, pg_server):
    """The server dies with pulls in flight: no create leaves without its intent committed,
    the window is told in a sentence, and everything finishes once it is back."""
    t = team_setup
    t.sim.config.delay_scale = 0.3
    sam = await t.session("sam")
    problems: list[str | None] = []
    try:
        sam.engine.subscribe_health(problems.append)
        await sam.engine.start()
        pulls = await sam.engine.submit(_gift_card(sam), 10, count=10)
        await asyncio.sleep(0.3)
        pg_server.kill()
        try:
            with pytest.raises(StoreError, match="cannot be reached"):
                await sam.engine.submit(_gift_card(sam), 10)
            creates_while_down = t.sim.pull_request_creates
            await asyncio.sleep(3)
            assert t.sim.pull_request_creates == creates_while_down  # nothing sent blind
        finally:
            pg_server.start()
        done = await asyncio.wait_for(sam.engine.wait([p.id for p in pulls]), 120)
        unfinished = [p for p in done if not p.final]
        # Pulls whose worker stopped while the database was away resume with the leases.
        deadline = time.monotonic() + 90
        while unfinished and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            unfinished = [p for p in await sam.store.pulls([p.id for p in pulls]) if not p.final]
        assert unfinished == []
        assert t.sim.pull_request_creates == 10
        assert any(p and "cannot be reached" in p for p in problems)
    finally:
        await sam.close()


def test_a_desktop_older_than_its_team_database_is_told_and_team_upgrade_brings_it(
    team_setup: Team, monkeypatch
):
    """The next version adds a migration: until an admin runs `team upgrade`, desktops of
    that version refuse the older database in a sentence; after it, they open it."""
    from walleo_desktop.store.postgres import schema

    t = team_setup
    known = schema.SCHEMA_VERSION
    v2 = "CREATE TABLE {SCHEMA}.v2_marker (x integer);\nGRANT SELECT ON v2_marker TO {ROLE_AGENT};"
    monkeypatch.setattr(schema, "_MIGRATIONS", [*schema._MIGRATIONS, v2])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    with pytest.raises(team.TeamError, match="team upgrade URL"):
        team.open_team(t.configs["sam"])
    assert team.upgrade_team(t.db.url, admin_password=None) == [known + 1]
    assert team.upgrade_team(t.db.url, admin_password=None) == []
    access = team.open_team(t.configs["sam"])
    access.backend.close()
    with t.connect("sam") as conn:
        assert conn.execute("SELECT count(*) FROM v2_marker").fetchone() == (0,)
    monkeypatch.setattr(schema, "_MIGRATIONS", schema._MIGRATIONS[:known])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", known)
    with pytest.raises(team.TeamError, match="Update Walleo Desktop"):
        team.open_team(t.configs["sam"])
