"""Team mode under load: many agent desktops (real processes) on one PostgreSQL and a Walleo
stand-in, some killed mid-batch; and how soon a finance desktop sees a teammate's new card.

    .venv/bin/python bench/bench_team.py [--agents 20] [--pulls 50] [--kill 3] [--cards 100]

Part 1: a throwaway PostgreSQL (fsync on), the simulator in its own process (Walleo's cadence:
a card is ready a few seconds after its create), a team of ``--agents`` agents made with the
real set-up steps (init, invite, join, approve). Each agent is a process with its own config
dir and keyring entries, like a desktop: it journals ``--pulls`` pulls, drives them, and stays
open until the team has nothing unfinished (a desktop stays open all day). ``--kill`` of them
are SIGKILLed once pulls are in flight; their pulls are taken over when their leases expire
(``WALLEO_LEASE_SECONDS``, 10 s here, 60 s by default). Printed: creates and cards beside the
pulls journaled, GETs of one pull closer than 5 s (Walleo's cadence), the pulls of killed
agents that others finished, wall time beside the slowest card's ready time plus one lease.

Part 2: one agent issues ``--cards`` cards one after another while a finance desktop (another
process, a real History view offscreen, refreshed on the engine's change events as the window
does) follows the history; for each card, the time from the card's commit to the view showing
it as issued. Baseline: the same two processes on one SQLite history (a single
desktop's second window), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LEASE_SECONDS = "10"
BRAND = "CARREFOUR"


# -- the simulator, in its own process ----------------------------------------------------------


def _simulator_process(conn: Any, delay_scale: float) -> None:
    from walleo_desktop.simulator import (
        DEMO_CREDENTIALS,
        Simulator,
        SimulatorConfig,
        serve_in_thread,
    )

    sim = Simulator(
        SimulatorConfig(
            credentials=DEMO_CREDENTIALS, delay_scale=delay_scale, async_error_rate=0.0, seed=1
        )
    )
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        conn.send(server.base_url)
        while conn.recv() == "stats":
            ready = [p.created_at + p.delay for p in sim.pull_requests.values()]
            conn.send(
                {
                    "creates": sim.pull_request_creates,
                    "cards": len(sim.cards),
                    "last_ready": max(ready) if ready else 0.0,
                    "records": [
                        (r.at, r.method, r.request_id or r.path.rsplit("/", 1)[-1])
                        for r in sim.records
                        if "/pull_requests" in r.path
                    ],
                }
            )


# -- member processes ------------------------------------------------------------------------


def _member_env(root: Path, member: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALLEO_", "XDG_"))}
    env.update(
        PYTHON_KEYRING_BACKEND="walleo_desktop.devtools.testkeyring.TestFileKeyring",
        WALLEO_TEST_KEYRING=str(root / "keyring.json"),
        XDG_CONFIG_HOME=str(root / member / "config"),
        XDG_DATA_HOME=str(root / member / "data"),
        XDG_STATE_HOME=str(root / member / "state"),
        WALLEO_LEASE_SECONDS=LEASE_SECONDS,
        PYTHONPATH=str(ROOT),
    )
    return env


async def _open(data_dir: Path | None) -> Any:
    from walleo_desktop.engine import Profiles, Session, resolve_connection

    connection = resolve_connection(Profiles())
    return await Session.open(connection, data_dir or Path(os.environ["XDG_DATA_HOME"]))


async def _agent(pulls: int, spaced: float) -> dict[str, Any]:
    """A desktop: journal ``pulls`` (at once, or one every ``spaced`` s), drive them, stay
    until the team has nothing unfinished."""
    session = await _open(None)
    try:
        await session.engine.start()
        if session.catalog.find(BRAND) is None:
            await session.catalog.refresh()
        gift = session.catalog.find(BRAND)
        assert gift is not None
        print(json.dumps({"ready": True}), flush=True)
        if spaced:
            for _ in range(pulls):
                await session.engine.submit(gift, 10)
                await asyncio.sleep(spaced)
        else:
            await session.engine.submit(gift, 10, count=pulls)
        while await session.store.unfinished_pulls():
            await asyncio.sleep(1.0)
        return {"ok": True}
    finally:
        await session.close()


async def _watch(seconds: float) -> dict[str, Any]:
    """Finance (or a second window): when does each new card show in a real History view?
    The view follows the engine's change events as the main window's does."""
    from walleo_desktop.ui.history_view import HistoryView

    session = await _open(None)
    seen: dict[int, float] = {}
    try:
        view = HistoryView(session.store, agent=session.engine.agent)
        view.resize(1200, 700)
        view.show()
        session.engine.subscribe(lambda _event: view.schedule_refresh())

        def look(*_args: Any) -> None:
            now = time.time()
            for row in range(min(view.model.rowCount(), 50)):
                line = view.model.row_at(row)
                if line is None:
                    continue
                pull = line.pull
                if pull.state.value == "success" and pull.id not in seen:
                    seen[pull.id] = now

        view.model.query_finished.connect(look)
        view.model.modelReset.connect(look)
        view.model.dataChanged.connect(look)
        await session.engine.start()
        print(json.dumps({"ready": True}), flush=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if os.path.exists(os.environ["WALLEO_BENCH_STOP"]):
                await asyncio.sleep(3)  # the last cards
                break
        cards = {}
        for pull_id in seen:
            card = await session.store.card_for_pull(pull_id)
            if card is not None:
                cards[pull_id] = card.created_at.timestamp()
        view.shutdown()
        return {"latencies": [seen[i] - cards[i] for i in cards]}
    finally:
        await session.close()


def _run_qt(coro: Any) -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(coro)


def _child_main(args: argparse.Namespace) -> int:
    if args.child == "agent":
        result = asyncio.run(_agent(args.pulls, args.spaced))
    else:
        result = _run_qt(_watch(args.seconds))
    print(json.dumps(result), flush=True)
    return 0


def _spawn(root: Path, member: str, *args: str, data_env: dict[str, str] | None = None):
    env = _member_env(root, member)
    env.update(data_env or {})
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen[str], timeout: float = 60) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if '"ready"' not in line:
        raise SystemExit(f"a member process did not start: {line}{proc.stderr.read()}")


# -- the team ----------------------------------------------------------------------------------


def _make_team(
    db_url: str, base_url: str, root: Path, agents: list[str], finance: str, lead: str = "lead"
) -> None:
    os.environ["PYTHON_KEYRING_BACKEND"] = "walleo_desktop.devtools.testkeyring.TestFileKeyring"
    os.environ["WALLEO_TEST_KEYRING"] = str(root / "keyring.json")
    import keyring

    from walleo_desktop.devtools.testkeyring import TestFileKeyring
    from walleo_desktop.engine import Profiles, team
    from walleo_desktop.engine.profiles import TEAM_PROFILE
    from walleo_desktop.simulator import DEMO_CREDENTIALS

    keyring.set_keyring(TestFileKeyring())
    admin = team.init_team(
        db_url,
        admin_password=None,
        first_admin=lead,
        walleo_credentials=DEMO_CREDENTIALS,
        walleo_base_url=base_url,
        config_dir=root / lead / "config" / "walleo-desktop",
    )
    for name, role in [*((a, "agent") for a in agents), (finance, "finance")]:
        config_dir = root / name / "config" / "walleo-desktop"
        invite = team.invite_member(admin, name, role)  # type: ignore[arg-type]
        _config, fp = team.join_team(invite.code, config_dir=config_dir)
        team.approve_member(admin, name, expected_fingerprint=fp)
        Profiles(config_dir).set_active(TEAM_PROFILE)


def _gaps(records: list[tuple[float, str, str | None]], request_ids: set[str]) -> list[float]:
    gets: dict[str, list[float]] = {}
    for at, method, rid in records:
        if method == "GET" and rid in request_ids:
            gets.setdefault(rid, []).append(at)
    return [
        b - a
        for times in gets.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
    ]


def _part1(args: argparse.Namespace, server: Any, sim: Any, root: Path) -> None:
    agents = [f"agent{i:02d}" for i in range(args.agents)]
    db = server.create_database("team1")
    _make_team(db.url, sim["base_url"], root, agents, "fin")
    t0 = time.time()
    procs = {a: _spawn(root, a, "--child", "agent", "--pulls", str(args.pulls)) for a in agents}
    for proc in procs.values():
        _wait_ready(proc)
    killed = agents[: args.kill]
    with db.connect(autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill once the victims' pulls are out
            out = conn.execute(
                "SELECT count(*) FROM walleo.pulls WHERE agent = ANY(%s) AND state <> 'queued'",
                [killed],
            ).fetchone()[0]
            if out >= args.kill * 5:
                break
            time.sleep(0.05)
        for a in killed:
            procs[a].send_signal(signal.SIGKILL)
        killed_at = time.time()
        left = conn.execute(
            "SELECT count(*) FROM walleo.pulls WHERE agent = ANY(%s) AND state NOT IN "
            "('success', 'error', 'rejected')",
            [killed],
        ).fetchone()[0]
    failures = 0
    for a, proc in procs.items():
        out, err = proc.communicate(timeout=900)
        if a not in killed and proc.returncode != 0:
            failures += 1
            print(f"{a} exited {proc.returncode}: {err[-2000:]}", file=sys.stderr)
    wall = time.time() - t0
    sim["conn"].send("stats")
    stats = sim["conn"].recv()
    with db.connect() as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM walleo.pulls GROUP BY 1"))
        cards = conn.execute("SELECT count(*) FROM walleo.cards").fetchone()[0]
        request_ids = {r[0] for r in conn.execute("SELECT request_id FROM walleo.pulls")}
        taken = conn.execute(
            "SELECT count(*) FROM walleo.pulls WHERE agent = ANY(%s) AND lease_user <> agent",
            [killed],
        ).fetchone()[0]
    creates: dict[str, int] = {}
    for _at, method, rid in stats["records"]:
        if method == "POST" and rid:
            creates[rid] = creates.get(rid, 0) + 1
    gaps = _gaps(stats["records"], request_ids)
    journaled = sum(states.values())
    print(f"\n== {args.agents} agents x {args.pulls} pulls, {args.kill} killed mid-batch")
    print(f"pulls journaled           {journaled:6d}  (asked: {args.agents * args.pulls})")
    print(f"creates on Walleo         {stats['creates']:6d}  (baseline: one per pull, {journaled})")
    print(f"request ids sent twice    {sum(1 for n in creates.values() if n > 1):6d}")
    print(f"cards in the history      {cards:6d}  (cards Walleo issued: {stats['cards']})")
    print(f"states                    {states}")
    print(f"GETs of one pull < 5 s    {sum(1 for g in gaps if g < 5.0):6d}  "
          f"(of {len(gaps)} gaps; shortest {min(gaps, default=0):.2f} s)")  # fmt: skip
    print(f"killed agents' pulls      {left:6d} unfinished at the kill, {taken} finished by "
          "others")  # fmt: skip
    ready = stats["last_ready"] - t0
    print(f"wall time                 {wall:6.1f} s  (baseline: slowest card ready at "
          f"{ready:.1f} s, + one lease of {LEASE_SECONDS} s after the kill at "
          f"{killed_at - t0:.1f} s)")  # fmt: skip
    if failures:
        print(f"agents that failed        {failures}")


def _latencies(args: argparse.Namespace, root: Path, team_mode: bool, server: Any, sim: Any):
    stop = root / ("stop-team" if team_mode else "stop-local")
    extra = {"WALLEO_BENCH_STOP": str(stop)}
    if team_mode:
        db = server.create_database("team2")
        _make_team(db.url, sim["base_url"], root / "t2", ["issuer"], "watcher", lead="lead2")
        base = root / "t2"
    else:
        base = root / "local"
        # One desktop's history, two processes: profile "local simulator" via the env.
        extra.update(WALLEO_BASE_URL=sim["base_url"])
        shared = base / "shared-data"
        extra["XDG_DATA_HOME"] = str(shared)
    issuer_env = dict(extra)
    watcher = _spawn(base, "watcher", "--child", "watch", "--seconds", "600", data_env=extra)
    _wait_ready(watcher)
    issuer = _spawn(base, "issuer", "--child", "agent", "--pulls", str(args.cards),
                    "--spaced", "0.3", data_env=issuer_env)  # fmt: skip
    _wait_ready(issuer)
    out, err = issuer.communicate(timeout=900)
    if issuer.returncode != 0:
        raise SystemExit(f"the issuer failed: {err[-3000:]}")
    stop.write_text("stop")
    out, err = watcher.communicate(timeout=120)
    if watcher.returncode != 0:
        raise SystemExit(f"the watcher failed: {err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])["latencies"]


def _part2(args: argparse.Namespace, server: Any, sim: Any, root: Path) -> None:
    team = _latencies(args, root, True, server, sim)
    local = _latencies(args, root, False, server, sim)
    print(f"\n== a teammate's new card reaching a finance desktop ({args.cards} cards)")
    for label, values in (("team (PostgreSQL)", team), ("baseline: SQLite, 2nd window", local)):
        if not values:
            print(f"{label:30s} no card seen")
            continue
        print(f"{label:30s} median {statistics.median(values):.3f} s, max {max(values):.3f} s "
              f"over {len(values)} cards")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--pulls", type=int, default=50)
    parser.add_argument("--kill", type=int, default=3)
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--delay-scale", type=float, default=1.0)
    parser.add_argument("--part", choices=["1", "2", "all"], default="all")
    parser.add_argument("--child", choices=["agent", "watch"], help=argparse.SUPPRESS)
    parser.add_argument("--spaced", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child_main(args)

    from walleo_desktop.devtools.pgserver import PgServer

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_simulator_process, args=(child, args.delay_scale), daemon=True)
    proc.start()
    sim = {"base_url": parent.recv(), "conn": parent}
    server = PgServer.temporary(durable=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="walleo-bench-team-") as tmp:
            root = Path(tmp)
            root.chmod(0o755)
            if args.part in ("1", "all"):
                _part1(args, server, sim, root)
            if args.part in ("2", "all"):
                _part2(args, server, sim, root)
    finally:
        server.remove()
        parent.send("quit")
        proc.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
