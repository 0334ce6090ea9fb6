"""Several processes on one data dir at once: real processes, real files, no keyring.

What last wave missed: two first starts racing on a new history's key lost the key (cards
encrypted under a key stored nowhere) or crashed on a shared temporary file name.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from walleo_desktop.store import CardRecord, NewPull
from walleo_desktop.store.sqlite import open_core as open_store

ROUNDS = 25


def _first_starts(data_root: str, rounds: int, barrier, who: str, results) -> None:
    """One process: for each round, wait for the other at the barrier, then open the round's
    new history (creating it and its key when first) and record one card in it."""
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    from walleo_desktop.engine.datakey import open_history

    outcomes = []
    for i in range(rounds):
        history = Path(data_root) / f"round-{i}" / "history.sqlite3"
        barrier.wait(timeout=60)
        try:
            store, _key = open_history(history)
            with store:
                [pull] = store.add_pulls(
                    [NewPull(request_id=f"{who}-{i}", gift_card_code="AMZ", amount=5)]
                )
                store.record_card(
                    pull.id,
                    CardRecord(
                        card_id=f"card-{who}-{i}",
                        pull_id=pull.id,
                        code=f"CODE-{who}-{i}-0000",
                        pin_code="1234",
                        expire_at=None,
                        amount=5,
                        gift_card_code="AMZ",
                        pdf_url="",
                        created_at=datetime.now(UTC),
                    ),
                )
            outcomes.append("ok")
        except Exception as exc:  # reported to the parent, which fails the test
            outcomes.append(f"{type(exc).__name__}: {exc}")
    results.put((who, outcomes))


def test_two_first_starts_never_lose_the_historys_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_first_starts, args=(str(tmp_path), ROUNDS, barrier, who, results))
        for who in ("a", "b")
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    failures = {who: [o for o in out if o != "ok"] for who, out in outcomes.items()}
    assert failures == {"a": [], "b": []}, failures

    # Every round's history opens with the key found where it is kept, and both cards decrypt.
    import keyring
    import keyring.backends.null

    from walleo_desktop.engine.datakey import load_data_key

    keyring.set_keyring(keyring.backends.null.Keyring())
    for i in range(ROUNDS):
        history = tmp_path / f"round-{i}" / "history.sqlite3"
        key = load_data_key(history)
        assert not key.created, f"round {i}: the history's key was lost"
        with open_store(history, cipher=key.cipher()) as store:
            codes = sorted(store.get_card(f"card-{w}-{i}").code for w in "ab")
        assert codes == [f"CODE-a-{i}-0000", f"CODE-b-{i}-0000"]
        leftovers = [p.name for p in history.parent.iterdir() if ".part" in p.name]
        assert leftovers == []


def test_two_cli_first_starts_share_one_history(tmp_path: Path) -> None:
    """Two `walleo-desktop pull` at once on a fresh data dir, no keyring: both cards issued,
    and `history` then reads both with the one key."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLEO_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    cmd = [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data)]
    procs = [
        subprocess.Popen(
            [*cmd, "pull", "FNAC", "50", "--json", "--show-codes"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode in (0, 1), err  # 1: the simulator's own occasional async failure
        assert "Traceback" not in err
    r = subprocess.run(
        [*cmd, "history", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 2
    keys = json.loads((data / "history.key").read_text())["keys"]
    assert len(keys) == 1


@pytest.fixture(autouse=True)
def _no_leftover_children():
    yield
    for child in multiprocessing.active_children():
        child.kill()
