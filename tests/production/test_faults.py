"""The production set-up through faults: the action server killed, PostgreSQL restarted, Redis
gone, each in the middle of a load on two Rasa replicas.

PostgreSQL and Redis here are private instances this module starts on free ports (a
PostgreSQL 15 cluster made with initdb in a temporary directory, a redis-server without
persistence), so stopping them disturbs nobody else's tests. Each test leaves the set-up
healthy for the next.

- Action server killed (SIGKILL) mid-load and restarted: every message still gets a reply;
  those that needed it while it was down get the short apology (rasa_server/action_calls.py),
  never silence; after the restart the same conversations are answered normally.
- PostgreSQL stopped mid-load and started again: a message that could not be handled gets
  503 (channels/reliable_rest.py), never a 200 without it being stored, and the client sends
  it again; refusals stop once the database is back; in the end every message is in the
  tracker store exactly once with its replies, in order.
- Redis stopped: readiness says the lock store failed; messages, even two of one
  conversation at once on the two replicas, are refused with 503 and none is processed (a
  message processed without the lock could be answered twice); with Redis back, all is well.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
import requests

from rasa_server.action_calls import APOLOGY
from scripts.cluster import (
    Cluster,
    PrivatePostgres,
    PrivateRedis,
    scratch_services,
    tracker_events,
    unique_name,
)
from tests.production.driver import Driver, Sent, problems_in

CONVERSATIONS = 10
# Needs the action server (action_search_vacancies), so an outage shows in the reply.
VACANCIES = "any tech jobs in manchester?"
SCRIPT = [VACANCIES, "how long does vetting take", VACANCIES, "do I need a degree"]
MARKER = unique_name("zebracrossing")
# Requests begun this long after a store came back must all succeed. Generous: it is not a
# speed figure, only the line between "during the outage" and "after it" on a busy machine.
SETTLE_S = 15.0


@pytest.fixture(scope="module")
def private_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    if not PrivatePostgres.available() or not PrivateRedis.available():
        pytest.fail("PostgreSQL 15 binaries and redis-server are needed for the fault tests")
    postgres = PrivatePostgres(tmp_path_factory.mktemp("faults-pg") / "cluster")
    postgres.init()
    postgres.start()
    redis = PrivateRedis()
    redis.start()
    try:
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop(mode="immediate")


@pytest.fixture(scope="module")
def cluster(
    trained_model: Path, private_services: tuple, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    postgres, redis = private_services
    log_dir = tmp_path_factory.mktemp("faults")
    with scratch_services(db_port=postgres.port, redis_port=redis.port, stem="faults") as svc:
        # Action calls cut at 5 s here (20 s by default): a hung call still ends in an apology.
        servers = Cluster(svc, trained_model, log_dir=log_dir, env={"ACTION_TIMEOUT_S": "5"})
        with servers.running():
            yield servers


def apologised(record: Sent) -> bool:
    return any(text == APOLOGY for text in record.reply_texts)


async def load_with_fault(
    driver: Driver,
    senders: List[str],
    after_messages: int,
    fault: Callable[[], None],
    rounds: int = 3,
) -> None:
    """The load, with `fault` run (in a thread) once `after_messages` have been sent."""

    async def inject() -> None:
        while len(driver.sent) < after_messages:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(fault)

    await asyncio.gather(driver.interleaved(senders, SCRIPT, rounds=rounds), inject())


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def readiness(cluster: Cluster, replica: int) -> requests.Response:
    return cluster.ready(replica)


def all_ready_status(cluster: Cluster, status: int) -> bool:
    return all(readiness(cluster, r).status_code == status for r in range(cluster.replicas))


def stored_problems(cluster: Cluster, driver: Driver) -> dict:
    found = {}
    for sender in sorted({record.sender for record in driver.sent}):
        events = tracker_events(cluster.services, sender)
        problems = problems_in(events, driver.of(sender), ordered=True)
        if problems:
            found[sender] = problems
    return found


def test_action_server_killed_mid_load_apologises_then_carries_on(cluster: Cluster) -> None:
    senders = [unique_name("actionfault") for _ in range(CONVERSATIONS)]
    driver = Driver(cluster.urls, rest_token=cluster.rest_token, think_s=0.2)
    outage: List[float] = []

    def kill_wait_restart() -> None:
        for replica in range(cluster.replicas):
            cluster.kill_action_server(replica)
        outage.append(time.monotonic())
        # Keep it down until a good share of the load has met the outage.
        while len(driver.sent) < CONVERSATIONS * len(SCRIPT):
            time.sleep(0.1)
        for replica in range(cluster.replicas):
            cluster.restart_action_server(replica)
        outage.append(time.monotonic())

    asyncio.run(load_with_fault(driver, senders, CONVERSATIONS * 2, kill_wait_restart))
    # After the restart, every conversation goes on and is answered properly.
    asyncio.run(driver.interleaved(senders, [VACANCIES]))

    assert len(outage) == 2
    everything = driver.sent
    assert [r.probe for r in everything if not r.acknowledged] == []
    assert [r.probe for r in everything if not r.replies] == [], "silence instead of an answer"
    during = [r for r in everything if r.started > outage[0] and r.finished < outage[1]]
    assert any(apologised(r) for r in during), "no message met the outage"
    final = everything[-CONVERSATIONS:]
    assert [r.probe for r in final if apologised(r)] == []
    assert stored_problems(cluster, driver) == {}


def test_postgresql_restarted_mid_load_loses_nothing_acknowledged(
    cluster: Cluster, private_services: tuple
) -> None:
    postgres, _ = private_services
    senders = [unique_name("dbfault") for _ in range(CONVERSATIONS)]
    # A refused message is sent again after Retry-After, as a client should.
    driver = Driver(cluster.urls, rest_token=cluster.rest_token, think_s=0.2, resend_for_s=90)
    outage: List[float] = []

    def restart() -> None:
        outage.append(time.monotonic())
        postgres.stop(mode="fast")
        time.sleep(3)
        postgres.start()
        outage.append(time.monotonic())

    asyncio.run(load_with_fault(driver, senders, CONVERSATIONS * 2, restart, rounds=4))

    assert len(outage) == 2
    refusals = [when for record in driver.sent for when in record.refused_at]
    assert refusals, "no message met the outage"
    # Refusals (503, so the client sends again) happen only while the database is away.
    assert [when for when in refusals if when > outage[1] + SETTLE_S] == []
    # Every message was taken in the end, and is stored once, with its replies, in order.
    assert [r.probe for r in driver.sent if not r.acknowledged or not r.replies] == []
    assert stored_problems(cluster, driver) == {}


def test_redis_down_is_reported_and_nothing_is_answered_without_the_lock(
    cluster: Cluster, private_services: tuple
) -> None:
    _, redis = private_services
    senders = [unique_name("redisfault") for _ in range(CONVERSATIONS)]
    driver = Driver(cluster.urls, rest_token=cluster.rest_token)
    redis.stop()
    try:
        assert wait_until(lambda: all_ready_status(cluster, 503))
        for replica in range(cluster.replicas):
            assert "lock_store" in readiness(cluster, replica).json()["failed"]
        # Sequential and simultaneous messages of the same conversations, on both replicas.
        # One carries a word found nowhere else, to look for in the logs afterwards.
        asyncio.run(driver.interleaved(senders, ["hello", f"{VACANCIES} {MARKER}"]))
        asyncio.run(driver.bursts(senders, [("hi", "do I need a degree")]))
    finally:
        redis.start()

    assert {r.status for r in driver.sent} == {503}
    assert [r.probe for r in driver.sent if r.replies] == []
    for sender in senders:
        assert tracker_events(cluster.services, sender) == [], "processed without the lock"
    # The refusals are logged without what the applicant wrote.
    logs = "".join(log.read_text(errors="replace") for log in cluster.log_dir.glob("*.log"))
    assert "rest.message.not_handled" in logs
    assert MARKER not in logs

    assert wait_until(lambda: all_ready_status(cluster, 200))
    back = Driver(cluster.urls, rest_token=cluster.rest_token)
    asyncio.run(back.bursts(senders, [("hi", "do I need a degree")]))
    assert all(r.acknowledged and r.replies for r in back.sent)
    for sender in senders:
        events = tracker_events(cluster.services, sender)
        assert problems_in(events, back.of(sender), ordered=False) == []
