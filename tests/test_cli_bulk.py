"""``walleo-desktop bulk FILE`` as a user runs it: real subprocesses, real HTTP to a simulator
on 127.0.0.1, real files; every exit code the README documents."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import cli_env, run_cli

from walleo_desktop.simulator import DEMO_CREDENTIALS, Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.store.sqlite import open_core as open_store


@pytest.fixture
def server():
    sim = Simulator(
        SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.05, seed=3, async_error_rate=0)
    )
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        yield sim, srv


def order_file(tmp_path: Path, text: str, name: str = "order.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "Marque;Montant;Quantité;Référence\nFnac;50,00 €;2;T-1\nSEPHORA;25;1;T-2\n"
BAD = GOOD + "NOPE;50;1;T-3\nFNAC;1,000;1;T-4\n\n"


def bulk(tmp_path, srv, *args, timeout=120, **kw):
    return run_cli(
        ["--data-dir", str(tmp_path / "data"), "bulk", *map(str, args)],
        cli_env(srv.base_url, tmp_path),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        **kw,
    )


def results(tmp_path: Path) -> list[dict[str, str]]:
    (path,) = tmp_path.glob("order-results-*.csv")
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))


def test_dry_run_shows_every_problem_with_its_row_and_the_totals(server, tmp_path):
    sim, srv = server
    path = order_file(tmp_path, BAD)
    r = bulk(tmp_path, srv, path, "--dry-run")
    assert r.returncode == 1, r.stderr  # rows with problems: not everything can be issued
    assert "row 4: error: No brand 'NOPE' in the catalog." in r.stdout
    assert "row 5: error: '1,000' could be 1000 or 1" in r.stdout
    assert "3 card(s)" in r.stdout and "125 EUR" in r.stdout
    assert "2 row(s) ready, 2 with problems, 1 empty skipped" in r.stdout
    assert sim.pull_request_creates == 0
    clean = bulk(tmp_path, srv, order_file(tmp_path, GOOD, "clean.csv"), "--dry-run")
    assert clean.returncode == 0, clean.stderr
    assert sim.pull_request_creates == 0


def test_dry_run_json(server, tmp_path):
    sim, srv = server
    r = bulk(tmp_path, srv, order_file(tmp_path, BAD), "--dry-run", "--json")
    assert r.returncode == 1, r.stderr
    (preview,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert preview["type"] == "preview" and preview["cards"] == 3 and preview["value"] == 125
    assert preview["rows"] == 4 and preview["rows_ok"] == 2 and preview["empty_rows_skipped"] == 1
    assert {(p["row"], p["kind"]) for p in preview["problems"]} == {
        (4, "unknown_brand"),
        (5, "amount_ambiguous"),
    }
    assert {t["gift_card_code"]: t["cards"] for t in preview["totals"]} == {"FNAC": 2, "SEPHORA": 1}
    assert sim.pull_request_creates == 0


def test_unreadable_file_and_missing_confirmation_exit_2_with_nothing_sent(server, tmp_path):
    sim, srv = server
    r = bulk(tmp_path, srv, order_file(tmp_path, "name,price\nx,1\n"), "--yes")
    assert r.returncode == 2 and "Nothing was sent" in r.stderr
    r = bulk(tmp_path, srv, tmp_path / "missing.csv", "--yes")
    assert r.returncode == 2 and "There is no file" in r.stderr
    r = bulk(tmp_path, srv, order_file(tmp_path, GOOD))  # not a terminal, no --yes
    assert r.returncode == 2 and "--yes" in r.stderr
    assert sim.pull_request_creates == 0


def test_issue_writes_results_then_the_same_file_again_is_refused_unless_allowed(server, tmp_path):
    sim, srv = server
    path = order_file(tmp_path, BAD)
    r = bulk(tmp_path, srv, path, "--yes", "--json")
    assert r.returncode == 1, r.stderr  # two rows had problems
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines[0]["type"] == "preview" and lines[-1]["type"] == "summary"
    rows = {o["row"]: o for o in lines if o["type"] == "row"}
    assert rows[2]["status"] == "issued" and len(rows[2]["request_ids"]) == 2
    assert all(len(x) == 4 for x in rows[2]["card_last4"])
    assert rows[4]["status"] == "problem" and rows[5]["status"] == "problem"
    assert sim.pull_request_creates == 3
    written = results(tmp_path)
    assert [w["status"] for w in written] == ["issued", "issued", "problem", "problem"]
    assert written[0]["request_ids"].split() == rows[2]["request_ids"]

    again = bulk(tmp_path, srv, path, "--yes")
    assert again.returncode == 2 and "--allow-duplicates" in again.stderr
    assert "row 2: already issued on" in again.stdout and "imported before on" in again.stdout
    assert sim.pull_request_creates == 3
    allowed = bulk(tmp_path, srv, path, "--yes", "--allow-duplicates")
    assert allowed.returncode == 1, allowed.stderr
    assert sim.pull_request_creates == 6


def test_a_clean_order_exits_0(server, tmp_path):
    sim, srv = server
    r = bulk(tmp_path, srv, order_file(tmp_path, GOOD), "--yes")
    assert r.returncode == 0, r.stderr
    assert "Rows: 2 issued." in r.stderr and sim.pull_request_creates == 3


@pytest.mark.slow
def test_sigkill_mid_order_then_resume_and_the_same_command_finish_it_once(tmp_path):
    sim = Simulator(
        SimulatorConfig(credentials=DEMO_CREDENTIALS, delay_scale=0.3, seed=5, async_error_rate=0)
    )
    lines = "".join(f"IKEA;{20 + i % 5};1;K-{i}\n" for i in range(1200))  # 1,200 cards, 3 chunks
    path = order_file(tmp_path, "brand;amount;quantity;reference\n" + lines)
    data = tmp_path / "data"
    with serve_in_thread(sim, host="127.0.0.1", port=0) as srv:
        env = cli_env(srv.base_url, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "walleo_desktop", "--data-dir", str(data), "bulk", str(path),
             "--yes", "--concurrency", "4"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while sim.pull_request_creates < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        at_kill = sim.pull_request_creates
        store = open_store(data / "history.sqlite3")
        try:
            journaled = len(store.recent_pulls(5000))
        finally:
            store.close()
        assert 0 < at_kill <= journaled < 1200  # killed mid-order: some rows never journaled

        r = run_cli(["--data-dir", str(data), "resume", "--json"], env, timeout=180)
        assert r.returncode == 0, r.stderr
        assert sim.pull_request_creates == journaled  # what was journaled, finished once

        again = run_cli(
            ["--data-dir", str(data), "bulk", str(path), "--yes"],
            env,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert again.returncode == 0, again.stderr
        assert "interrupted import" in again.stdout and "continuing" in again.stderr
    assert sim.pull_request_creates == 1200  # nothing lost, nothing issued twice
    assert len(set(sim.pull_requests)) == 1200
    written = list(
        csv.DictReader(
            io.StringIO(next(tmp_path.glob("order-results-*.csv")).read_text("utf-8-sig")),
            delimiter=";",
        )
    )
    assert len(written) == 1200 and {w["status"] for w in written} == {"issued"}
