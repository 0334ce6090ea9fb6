"""The pull engine against the simulator: the money invariants.

Fast tests use the in-process simulator and a fast poll policy; the soak and cadence tests go
over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict

import httpx
import pytest

from walleo_desktop.api import WalleoClient
from walleo_desktop.api.models import FacialValues, GiftCard
from walleo_desktop.engine import PollPolicy, PullEngine
from walleo_desktop.simulator import (
    DEMO_CREDENTIALS,
    IN_PROCESS_BASE_URL,
    Simulator,
    SimulatorConfig,
    serve_in_thread,
)
from walleo_desktop.store import Store
from walleo_desktop.store.crypto import CardCipher, new_data_key
from walleo_desktop.store.records import NewPull, PullState
from walleo_desktop.store.sqlite import open_core

FAST = PollPolicy(
    first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.4, create_retry_base=0.05
)


def make_sim(**config) -> Simulator:
    config.setdefault("delay_scale", 0.01)
    config.setdefault("seed", 7)
    return Simulator(SimulatorConfig(credentials=DEMO_CREDENTIALS, **config))


@pytest.fixture
async def store(tmp_path):
    s = await Store.open_sqlite(tmp_path / "history.sqlite3", cipher=CardCipher(new_data_key()))
    yield s
    await s.close()


class Harness:
    def __init__(self, sim: Simulator, store: Store, policy: PollPolicy = FAST, **kw):
        self.sim = sim
        self.store = store
        self.client = WalleoClient(
            kw.pop("base_url", IN_PROCESS_BASE_URL),
            DEMO_CREDENTIALS,
            transport=kw.pop("transport", None) or (sim.transport() if sim else None),
            timeout=kw.pop("timeout", 2.0),
        )
        self.engine = PullEngine(
            self.client, store, policy=policy, rng=random.Random(1), agent="tester", **kw
        )
        self.events: list = []
        self.engine.subscribe(self.events.append)

    async def catalog(self, code: str) -> GiftCard:
        return await self.client.get_gift_card(code)

    async def close(self):
        await self.engine.close()
        await self.client.aclose()


async def first_gift_card(h: Harness, kind: str) -> tuple[GiftCard, int]:
    cards = await h.client.list_gift_cards()
    for g in cards:
        choices = g.facial_values.choices()
        if g.facial_values.type == kind and choices:
            return g, choices[0]
    raise AssertionError(f"no {kind} gift card in the simulator catalog")


async def pull_until_final(h: Harness, count: int = 1, timeout: float = 20.0, kind: str = "fixed"):
    g, amount = await first_gift_card(h, kind)
    pulls = await h.engine.submit(g, amount, count=count, reference="T-1")
    return await asyncio.wait_for(h.engine.wait([p.id for p in pulls]), timeout)


async def test_happy_path_issues_each_card_once(store):
    sim = make_sim(async_error_rate=0.0)
    h = Harness(sim, store)
    try:
        final = await pull_until_final(h, count=3)
    finally:
        await h.close()
    assert [p.state for p in final] == [PullState.SUCCESS] * 3
    assert sim.pull_request_creates == 3
    for p in final:
        card = await store.card_for_pull(p.id)
        assert card is not None and card.code and card.card_id == p.card_id
        assert p.reference == "T-1" and p.agent == "tester"
        kinds = [e.kind for e in await store.events(p.id)]
        assert kinds[0] == "journaled" and "send" in kinds and kinds[-1] == "success"
    assert {e.kind for e in h.events} == {"added", "changed"}


async def test_journal_before_send(store):
    """The intent is committed before the POST leaves: the POST handler sees it in the file."""
    sim = make_sim()
    seen_states: list[str] = []

    async def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            rid = request.headers["X-RequestId"]
            other = open_core(store.path)  # a second connection: only committed rows are visible
            try:
                seen_states.append(other.find_pull(rid).state.value)
            finally:
                other.close()
        return await sim.transport().handle_async_request(request)

    h = Harness(sim, store, transport=httpx.MockTransport(spy))
    try:
        await pull_until_final(h)
    finally:
        await h.close()
    assert seen_states == ["sending"]


async def test_invalid_amount_is_refused_before_anything_is_sent(store):
    sim = make_sim()
    h = Harness(sim, store)
    try:
        g = GiftCard(code="X", name="X", facial_values=FacialValues(type="fixed", amounts=(15, 30)))
        with pytest.raises(ValueError, match="one of 15 or 30"):
            await h.engine.submit(g, 20)
    finally:
        await h.close()
    assert await store.unfinished_pulls() == []
    assert sim.records == []


async def test_async_error_is_final_and_retry_links_a_new_pull(store):
    sim = make_sim(async_error_rate=1.0)
    h = Harness(sim, store)
    try:
        (failed,) = await pull_until_final(h)
        assert failed.state is PullState.ERROR and failed.error_code == "pull_error"
        sim.config.async_error_rate = 0.0
        retry = await h.engine.retry(failed.id)
        assert retry.retry_of == failed.id and retry.request_id != failed.request_id
        (done,) = await asyncio.wait_for(h.engine.wait([retry.id]), 10)
        with pytest.raises(ValueError):
            await h.engine.retry(done.id)
    finally:
        await h.close()
    assert done.state is PullState.SUCCESS
    assert sim.pull_request_creates == 2
    assert "retried" in [e.kind for e in await store.events(failed.id)]


async def test_definite_refusal_is_rejected_without_retrying(store):
    sim = make_sim(balance=1)
    h = Harness(sim, store)
    try:
        (p,) = await pull_until_final(h)
    finally:
        await h.close()
    assert p.state is PullState.REJECTED and p.error_code == "not_enough_funds"
    assert "balance" in p.error_message
    assert sim.pull_request_creates == 0
    assert [r.method for r in sim.records if r.path.endswith("/pull_requests")] == ["POST"]


async def test_dropped_create_is_in_doubt_then_resolved_without_a_second_create(store):
    sim = make_sim()
    sim.faults.drop = 1.0
    sim.faults.methods = {"POST"}
    h = Harness(sim, store)
    seen: list[PullState] = []
    h.engine.subscribe(lambda e: seen.append(e.pull.state))
    try:
        (p,) = await pull_until_final(h)
    finally:
        await h.close()
    assert PullState.IN_DOUBT in seen
    assert p.state is PullState.SUCCESS
    assert sim.pull_request_creates == 1
    posts = [r for r in sim.records if r.method == "POST"]
    assert len(posts) == 1  # resolved by GET, never re-POSTed


async def test_create_that_never_landed_is_sent_again_with_the_same_id(store):
    sim = make_sim()
    sim.faults.html_502 = 1.0  # the proxy answers; Walleo never sees the request
    sim.faults.methods = {"POST"}
    h = Harness(sim, store)
    try:
        g, amount = await first_gift_card(h, "fixed")
        (p,) = await h.engine.submit(g, amount)

        async def after_not_found():
            kinds = [e.kind for e in await store.events(p.id)]
            return "not_found" in kinds

        for _ in range(200):
            if await after_not_found():
                break
            await asyncio.sleep(0.02)
        sim.faults.html_502 = 0.0
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 10)
    finally:
        await h.close()
    assert done.state is PullState.SUCCESS
    posts = [r for r in sim.records if r.method == "POST"]
    assert len(posts) >= 2 and {r.request_id for r in posts} == {p.request_id}
    assert sim.pull_request_creates == 1


async def test_request_id_already_used_means_keep_polling(store):
    """A crash after the POST landed but before we recorded it: on restart Walleo says 'already
    used' for our own id, and the engine polls that id instead of minting a new one."""
    sim = make_sim(honour_x_request_id=False)
    h = Harness(sim, store)
    try:
        g, amount = await first_gift_card(h, "fixed")
        (p,) = await store.add_pulls(
            [NewPull(request_id="wd-crash-1", gift_card_code=g.code, amount=amount)]
        )
        await h.client.create_pull_request(g.code, amount, "wd-crash-1")  # landed, then "crash"
        await h.engine.start()
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 10)
    finally:
        await h.close()
    assert done.state is PullState.SUCCESS and done.request_id == "wd-crash-1"
    assert sim.pull_request_creates == 1
    assert "already_used" in [e.kind for e in await store.events(p.id)]


async def test_resume_after_crash_while_sending(store):
    sim = make_sim()
    h = Harness(sim, store)
    try:
        g, amount = await first_gift_card(h, "fixed")
        (p,) = await store.add_pulls(
            [NewPull(request_id="wd-sending-1", gift_card_code=g.code, amount=amount)]
        )
        await store.update_pull(p.id, state=PullState.SENDING, event="send")
        resumed = await h.engine.start()
        assert [r.state for r in resumed] == [PullState.IN_DOUBT]
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 10)
    finally:
        await h.close()
    # The GET found nothing, so the same id was sent: exactly one card.
    assert done.state is PullState.SUCCESS and sim.pull_request_creates == 1


async def test_overdue_pull_is_flagged_and_never_abandoned(store):
    sim = make_sim(delay_scale=0.5)  # seconds-long brand delays
    policy = PollPolicy(
        first_check=0.05, min_interval=0.1, max_interval=0.2, slow_interval=0.3, overdue_after=0.3
    )
    h = Harness(sim, store, policy=policy)
    flagged: list[bool] = []
    h.engine.subscribe(lambda e: flagged.append(e.pull.overdue))
    try:
        (p,) = await pull_until_final(h, timeout=30)
    finally:
        await h.close()
    assert any(flagged)
    assert p.state is PullState.SUCCESS


async def test_unknown_status_keeps_polling_slowly_and_is_flagged(store):
    state = {"gets": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "id": "3db15189-ef10-49b4-8265-58e3fe946ffb",
            "request_id": "wd-odd",
            "status": "waiting",
            "amount_cents": 5000,
            "card": None,
        }
        if request.method == "GET":
            state["gets"] += 1
            body["status"] = "on_hold" if state["gets"] < 3 else "success"
            if state["gets"] >= 3:
                body["card"] = {"id": "c-1", "code": "1234567890", "pin_code": "1234", "amount": 50}
        return httpx.Response(200, json={"pull_request": body})

    h = Harness(None, store, transport=httpx.MockTransport(handler))
    try:
        (p,) = await store.add_pulls([NewPull(request_id="wd-odd", gift_card_code="X", amount=50)])
        flags: list[str] = []
        h.engine.subscribe(lambda e: flags.append(e.pull.error_code))
        await h.engine.start()
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 10)
    finally:
        await h.close()
    assert "unknown_status" in flags
    assert done.state is PullState.SUCCESS
    assert "unknown_status" in [e.kind for e in await store.events(p.id)]


async def test_rate_limited_check_honours_retry_after(store):
    sim = make_sim()
    h = Harness(sim, store)
    try:
        g, amount = await first_gift_card(h, "fixed")
        sim.faults.rate_limit = 1.0
        sim.faults.methods = {"GET"}
        sim.faults.retry_after_seconds = 1
        (p,) = await h.engine.submit(g, amount)
        for _ in range(200):
            if any(r.status == 429 for r in sim.records):
                break
            await asyncio.sleep(0.02)
        sim.faults.rate_limit = 0.0
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 10)
    finally:
        await h.close()
    gets = [r for r in sim.records if r.method == "GET" and r.request_id == p.request_id]
    limited = next(i for i, r in enumerate(gets) if r.status == 429)
    assert gets[limited + 1].at - gets[limited].at >= 1.0
    assert done.state is PullState.SUCCESS


@pytest.mark.slow
async def test_soak_200_pulls_with_30_percent_faults_over_http(store):
    """200 intents, faults on POST and GET (30 % in all): exactly 200 creates, all cards kept."""
    sim = make_sim(seed=11)
    f = sim.faults
    f.drop, f.error_500, f.html_502, f.slow, f.rate_limit = 0.08, 0.06, 0.06, 0.04, 0.06
    f.slow_seconds = 1.0
    f.retry_after_seconds = 0.2
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        h = Harness(
            sim, store, base_url=server.base_url, transport=None, timeout=0.5, concurrency=8
        )
        try:
            f_methods = f.methods
            f.methods = set()  # the catalog read itself is not what is being soaked
            g, amount = await first_gift_card(h, "fixed")
            f.methods = f_methods
            pulls = await h.engine.submit(g, amount, count=100)
            pulls += await h.engine.submit(g, amount, count=100)
            final = await asyncio.wait_for(h.engine.wait([p.id for p in pulls]), 120)
        finally:
            await h.close()
    assert len({p.request_id for p in pulls}) == 200
    assert sim.pull_request_creates == 200
    created = set(sim.pull_requests)
    assert created == {p.request_id for p in pulls}
    assert all(p.state is PullState.SUCCESS for p in final), {p.state for p in final}
    assert all([await store.card_for_pull(p.id) is not None for p in final])
    assert await store.unfinished_pulls() == []
    faults = defaultdict(int)
    for r in sim.records:
        if r.fault:
            faults[r.fault] += 1
    assert len(faults) == 5  # every kind of fault actually happened


@pytest.mark.slow
async def test_polling_cadence_follows_walleos_guidance(store):
    """Walleo's guidance, read from the simulator's own record: the first GET no earlier than
    2 s after the create, then no two GETs of one pull closer than 5 s."""
    sim = make_sim(delay_scale=2.0, async_error_rate=0.0, seed=3)  # several seconds per card
    sim.faults.error_500 = 0.15
    sim.faults.methods = {"GET"}
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        # Walleo's cadence, with the failure back-off capped low so the test stays short.
        policy = PollPolicy(
            first_check=2.0, min_interval=5.0, max_interval=10.0, slow_interval=10.0
        )
        h = Harness(sim, store, policy=policy, base_url=server.base_url, transport=None)
        try:
            final = await pull_until_final(h, count=3, timeout=150)
        finally:
            await h.close()
    assert all(p.state is PullState.SUCCESS for p in final)
    by_id: dict[str, list] = defaultdict(list)
    for r in sim.records:
        if r.request_id:
            by_id[r.request_id].append(r)
    checked = 0
    for rid, records in by_id.items():
        creates = [r.at for r in records if r.method == "POST"]
        gets = [r.at for r in records if r.method == "GET"]
        assert creates and gets, rid
        assert gets[0] - creates[-1] >= 2.0
        gaps = [b - a for a, b in itertools.pairwise(gets)]
        assert all(g >= 5.0 for g in gaps), gaps
        checked += len(gaps)
    assert checked >= 3  # the test saw real polling, not just one GET per pull


async def test_check_now_wakes_a_sleeping_pull(store):
    sim = make_sim(delay_scale=0.1, async_error_rate=0.0)  # about 0.3 s per card
    slow = PollPolicy(
        first_check=0.05, min_interval=30.0, max_interval=30.0, slow_interval=60.0, min_gap=0.05
    )
    h = Harness(sim, store, policy=slow)
    try:
        g, amount = await first_gift_card(h, "fixed")
        (p,) = await h.engine.submit(g, amount)
        # first check at 0.05 s finds it still processing; the next is 30 s away
        for _ in range(200):
            current = await store.get_pull(p.id)
            if current.attempts >= 2 and current.next_check_at is not None:
                break
            await asyncio.sleep(0.02)
        assert not current.final
        await asyncio.sleep(0.5)  # the simulated card is ready by now
        assert h.engine.check_now(p.id)
        (done,) = await asyncio.wait_for(h.engine.wait([p.id]), 5)
    finally:
        await h.close()
    assert done.state is PullState.SUCCESS
    assert not h.engine.check_now(p.id)  # finished pulls are not driven any more


async def test_start_resumes_only_this_profiles_pulls(store):
    """A pull journaled under another profile must never be sent with these credentials."""
    sim = make_sim()
    h = Harness(sim, store, profile="shop-a")
    try:
        g, amount = await first_gift_card(h, "fixed")
        mine, theirs = await store.add_pulls(
            [
                NewPull(
                    request_id="wd-a-1", gift_card_code=g.code, amount=amount, profile="shop-a"
                ),
                NewPull(
                    request_id="wd-b-1", gift_card_code=g.code, amount=amount, profile="shop-b"
                ),
            ]
        )
        resumed = await h.engine.start()
        assert [p.id for p in resumed] == [mine.id]
        await asyncio.wait_for(h.engine.wait([mine.id]), 10)
    finally:
        await h.close()
    assert (await store.get_pull(theirs.id)).state is PullState.QUEUED
    assert {r.request_id for r in sim.records if r.request_id} == {"wd-a-1"}


@pytest.mark.parametrize("amount", [2**63, 2**64 + 5, 10**30, 1_000_001, 0, -5])
async def test_an_amount_that_cannot_be_a_card_is_refused_before_journaling(store, amount):
    """An open-amount brand (no min, no max) accepts any positive amount by its own rules; the
    engine still refuses what cannot be a card (and what SQLite could not even store)."""
    sim = make_sim()
    h = Harness(sim, store)
    try:
        open_amount = GiftCard(code="OPEN", name="Open", facial_values=FacialValues(type="free"))
        with pytest.raises(ValueError, match="amount must be a whole number from 1 to"):
            await h.engine.submit(open_amount, amount)
        with pytest.raises(ValueError, match="quantity"):
            await h.engine.submit(open_amount, 10, count=10**20)
        with pytest.raises(ValueError, match="one line"):
            await h.engine.submit(open_amount, 10, reference="A\nB")
    finally:
        await h.close()
    assert await store.recent_pulls() == []
    assert sim.records == []


# -- answers that are well-formed but wrong (issue 10, items 2 and 3) ----------------------------


def http_harness(sim: Simulator, store, server, **kw) -> Harness:
    return Harness(sim, store, base_url=server.base_url, transport=None, timeout=5.0, **kw)


@pytest.mark.parametrize("variant", ["other", "amount", "brand"])
async def test_an_answer_about_another_pull_is_never_recorded_on_this_one(store, variant):
    """GET for pull A answers a success that is B's (or a card of another amount or brand): A
    records nothing of it, says so, keeps asking, and ends with its own card; B's card is
    recorded once, on B."""
    sim = make_sim(async_error_rate=0.0)
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        h = http_harness(sim, store, server)
        try:
            g, amount = await first_gift_card(h, "fixed")
            [b] = await h.engine.submit(g, amount, reference="B")
            [b_done] = await asyncio.wait_for(h.engine.wait([b.id]), 10)
            options = {"other_request_id": b.request_id} if variant == "other" else {}
            sim.arm("wrong_pull", method="GET", variant=variant, **options)
            [a] = await h.engine.submit(g, amount, reference="A")
            [a_done] = await asyncio.wait_for(h.engine.wait([a.id]), 20)
        finally:
            await h.close()
    assert not sim.armed, "the wrong answer was never sent"
    events = await store.events(a.id)
    [mismatch] = [e for e in events if e.kind == "answer_mismatch"]
    assert mismatch.detail["reason"]  # kept and said: what was wrong with it
    if variant == "other":
        assert mismatch.detail["answered_request_id"] == b.request_id
        assert mismatch.detail["card_id"] == b_done.card_id
    assert a_done.state is PullState.SUCCESS
    a_card, b_card = await store.card_for_pull(a.id), await store.card_for_pull(b.id)
    assert a_card is not None and b_card is not None
    assert a_card.card_id != b_card.card_id and b_card.card_id == b_done.card_id
    assert sim.pull_requests[a.request_id].card_id == a_card.card_id  # A's own card
    assert a_card.amount == amount and a_card.gift_card_code == g.code


async def test_a_card_already_recorded_for_another_pull_is_not_recorded_twice(store):
    sim = make_sim(async_error_rate=0.0)
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        h = http_harness(sim, store, server)
        try:
            g, amount = await first_gift_card(h, "fixed")
            [b] = await h.engine.submit(g, amount)
            await asyncio.wait_for(h.engine.wait([b.id]), 10)
            sim.arm("duplicate_card", method="GET", other_request_id=b.request_id)
            [a] = await h.engine.submit(g, amount)
            [a_done] = await asyncio.wait_for(h.engine.wait([a.id]), 20)
        finally:
            await h.close()
    assert not sim.armed
    kinds = [e.kind for e in await store.events(a.id)]
    assert "answer_mismatch" in kinds and a_done.state is PullState.SUCCESS
    assert await store.pull_of_card(a_done.card_id) == a.id
    b_card = await store.card_for_pull(b.id)
    assert b_card is not None and await store.pull_of_card(b_card.card_id) == b.id


@pytest.mark.parametrize("kind", ["conflict_409", "unknown_4xx"])
async def test_an_undocumented_refusal_after_a_create_is_in_doubt_and_asked_about(store, kind):
    """Walleo created the pull and answered 409 (or another undocumented 4xx): the pull is in
    doubt, a GET finds it, and its card is kept: never "rejected", never a second create."""
    sim = make_sim(async_error_rate=0.0)
    with serve_in_thread(sim, host="127.0.0.1", port=0) as server:
        h = http_harness(sim, store, server)
        try:
            g, amount = await first_gift_card(h, "fixed")
            sim.arm(kind, method="POST")
            [p] = await h.engine.submit(g, amount)
            [done] = await asyncio.wait_for(h.engine.wait([p.id]), 20)
        finally:
            await h.close()
    assert not sim.armed
    assert done.state is PullState.SUCCESS
    kinds = [e.kind for e in await store.events(p.id)]
    assert "in_doubt" in kinds and "rejected" not in kinds
    assert sim.pull_request_creates == 1
    assert (await store.card_for_pull(p.id)).card_id == sim.pull_requests[p.request_id].card_id


async def test_a_failure_gets_one_retry_even_from_two_engines_at_once(store, tmp_path):
    """Retry twice (or from two windows at once): one new card, and the second asker is shown
    the first retry instead."""
    from walleo_desktop.engine.pulls import AlreadyRetried

    sim = make_sim(async_error_rate=1.0)
    h = Harness(sim, store)
    other = Harness(sim, store)
    try:
        (failed,) = await pull_until_final(h)
        assert failed.state is PullState.ERROR
        sim.config.async_error_rate = 0.0
        outcomes = await asyncio.gather(
            h.engine.retry(failed.id), other.engine.retry(failed.id), return_exceptions=True
        )
        made = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, AlreadyRetried)]
        assert len(made) == 1 and len(refused) == 1, outcomes
        assert refused[0].retry.id == made[0].id
        with pytest.raises(AlreadyRetried):
            await h.engine.retry(failed.id)
        await asyncio.wait_for(h.engine.wait([made[0].id]), 10)
    finally:
        await h.close()
        await other.close()
    assert [p.id for p in await store.retries_of(failed.id)] == [made[0].id]
    assert sim.pull_request_creates == 2  # the failed one, and its one retry


async def test_leases_that_cannot_be_renewed_stop_the_pulls_then_they_resume(store, monkeypatch):
    """The history stops taking writes (a database away, a disk gone read-only) while pulls
    wait for their cards: once their lease has run out with renewals failing, the pulls stop
    and wait() hands them back with the reason (no hang, no GET on a lease that may be
    someone else's); when renewals work again, they are driven to their cards, one create each."""
    from walleo_desktop.engine import pulls as pulls_module
    from walleo_desktop.store import StoreError

    monkeypatch.setattr(pulls_module, "LEASE_SECONDS", 3.0)
    monkeypatch.setattr(pulls_module, "LEASE_MARGIN", 0.75)
    monkeypatch.setattr(pulls_module, "RENEW_EVERY", 0.5)
    sim = make_sim(async_error_rate=0.0, delay_scale=1.0)
    h = Harness(sim, store)
    renew = store.renew
    failing = asyncio.Event()

    async def flaky_renew(owner):
        if failing.is_set():
            raise StoreError("The history cannot be written: the disk is read-only.")
        return await renew(owner)

    monkeypatch.setattr(store, "renew", flaky_renew)
    try:
        await h.engine.start()
        g, amount = await first_gift_card(h, "fixed")
        pulls = await h.engine.submit(g, amount, count=2, reference="T-LEASE")
        failing.set()
        got = await asyncio.wait_for(h.engine.wait([p.id for p in pulls]), 15)
        stopped_at = len(sim.records)
        assert [p.final for p in got] == [False, False]
        assert all("lease could not be renewed" in h.engine.stopped_reason(p.id) for p in got)
        assert h.engine.problem is not None
        await asyncio.sleep(1.0)
        assert len(sim.records) == stopped_at  # stopped: nothing asked of Walleo meanwhile
        failing.clear()
        async with asyncio.timeout(30):
            # The journal is what is watched (no event tells a test the pulls were resumed).
            while not all(p.final for p in await store.pulls([p.id for p in pulls])):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        await h.close()
    done = await store.pulls([p.id for p in pulls])
    assert [p.state for p in done] == [PullState.SUCCESS] * 2
    assert sim.pull_request_creates == 2
