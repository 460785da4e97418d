"""The FIFO Redis lock store against the real local Redis, with a second process contending
as a second Rasa replica would."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_server.lock_store import FifoRedisLockStore
from scripts.stack import ROOT, free_port
from tests.production import services
from tests.production.services import REDIS_HOST, REDIS_PORT

redis_prefix = pytest.fixture(name="redis_prefix")(services.unique_redis_prefix)
redis_client = pytest.fixture(name="redis_client")(services.redis_connection)


def store(prefix: str, **options: Any) -> FifoRedisLockStore:
    return FifoRedisLockStore(host=REDIS_HOST, port=REDIS_PORT, key_prefix=prefix, **options)


class Workers:
    """Lock-taking processes of the test's own, killed at the end whatever happens."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.processes: List[subprocess.Popen] = []

    def start(self, mode: str, conversation: str, *options: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "tests.production.lock_worker", mode,
                "--host", REDIS_HOST, "--port", str(REDIS_PORT),
                "--prefix", self.prefix, "--conversation", conversation, *options,
            ],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


@pytest.fixture
def workers(redis_prefix: str) -> Iterator[Workers]:
    started = Workers(redis_prefix)
    yield started
    started.kill_all()


def read_line(process: subprocess.Popen) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


async def wait_until(condition: Callable[[], Any], timeout: float = 60) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_two_processes_never_overlap_and_are_served_in_ticket_order(
    redis_prefix: str, redis_client: redis.Redis, workers: Workers
) -> None:
    """Two processes, 25 concurrent messages of one conversation each, released together."""
    count = 25
    contenders = [
        workers.start("contend", "applicant-1", "--count", str(count), "--hold-s", "0.005")
        for _ in range(2)
    ]
    assert [read_line(p) for p in contenders] == ["ready", "ready"]
    redis_client.set(f"{redis_prefix}:go", 1)
    for process in contenders:
        assert process.wait(timeout=120) == 0

    served = [
        item.decode().split(":") for item in redis_client.lrange(f"{redis_prefix}:served", 0, -1)
    ]
    tickets = [int(ticket) for ticket, _ in served]
    assert len(tickets) == 2 * count
    assert {inside for _, inside in served} == {"1"}, "two holders were inside at once"
    assert tickets == sorted(tickets) == list(range(1, 2 * count + 1))
    # Nothing is left behind for the conversation once everyone has released.
    assert not redis_client.exists(*store(redis_prefix).keys("applicant-1"))


async def test_messages_of_one_conversation_in_one_process_are_served_in_arrival_order(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    locks = store(redis_prefix)
    queue = locks.keys("applicant-2")[1]
    order: List[int] = []

    async def message(number: int) -> None:
        async with locks.lock("applicant-2"):
            order.append(number)

    tasks = []
    async with locks.lock("applicant-2"):  # an earlier message, still being answered
        for number in range(20):
            tasks.append(asyncio.create_task(message(number)))
            await wait_until(lambda: redis_client.zcard(queue) == len(tasks) + 1)
    await asyncio.gather(*tasks)
    assert order == list(range(20))
    await locks.close()


async def test_a_crashed_holder_blocks_the_conversation_only_until_its_lifetime_ends(
    redis_prefix: str, workers: Workers
) -> None:
    holder = workers.start("hold", "applicant-3", "--lifetime-s", "5")
    assert read_line(holder) == "held"
    holder.kill()
    holder.wait()
    locks = store(redis_prefix)
    entered = asyncio.Event()

    async def next_message() -> None:
        async with locks.lock("applicant-3"):
            entered.set()

    waiting = asyncio.create_task(next_message())
    await asyncio.sleep(0.5)
    assert not entered.is_set(), "the lock was free although its holder's lifetime had not ended"
    await asyncio.wait_for(waiting, timeout=30)
    assert entered.is_set()
    await locks.close()


async def test_a_waiter_that_died_is_skipped(
    redis_prefix: str, redis_client: redis.Redis, workers: Workers
) -> None:
    locks = store(redis_prefix, waiter_ttl_s=1)
    queue = locks.keys("applicant-4")[1]
    order: List[str] = []
    async with locks.lock("applicant-4"):
        dead = workers.start("wait", "applicant-4", "--waiter-ttl-s", "1")
        await wait_until(lambda: redis_client.zcard(queue) == 2)
        dead.kill()
        dead.wait()

        async def later() -> None:
            async with locks.lock("applicant-4"):
                order.append("later")

        behind = asyncio.create_task(later())
        await wait_until(lambda: redis_client.zcard(queue) == 3)
    await asyncio.wait_for(behind, timeout=30)
    assert order == ["later"]
    await locks.close()


async def test_conversations_do_not_block_each_other(redis_prefix: str) -> None:
    locks = store(redis_prefix)
    async with locks.lock("applicant-5"):
        await asyncio.wait_for(_enter_and_leave(locks, "applicant-6"), timeout=10)
    await locks.close()


async def _enter_and_leave(locks: FifoRedisLockStore, conversation: str) -> None:
    async with locks.lock(conversation):
        pass


async def test_holding_past_the_lifetime_lets_the_next_message_in_and_is_logged(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    locks = store(redis_prefix, lock_lifetime_s=0.5)
    entered = asyncio.Event()

    async def next_message() -> None:
        async with locks.lock("applicant-7"):
            entered.set()

    with caplog.at_level(logging.ERROR, logger="rasa_server.lock_store"):
        async with locks.lock("applicant-7"):
            waiting = asyncio.create_task(next_message())
            await asyncio.wait_for(entered.wait(), timeout=30)
        await waiting
    assert "longer than the lock lifetime" in caplog.text
    await locks.close()


async def test_redis_down_refuses_the_message_with_a_clear_error() -> None:
    locks = FifoRedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout_s=1)
    processed = False
    with pytest.raises(LockError, match=r"lock store \(Redis at 127\.0\.0\.1:\d+ db 0\)"):
        async with locks.lock("applicant-8"):
            processed = True
    assert not processed
    await locks.close()


async def test_rasa_builds_it_from_the_endpoint_configuration(redis_prefix: str) -> None:
    config = EndpointConfig(
        url=REDIS_HOST,
        type="rasa_server.lock_store.FifoRedisLockStore",
        port=str(REDIS_PORT),
        db="0",
        key_prefix=redis_prefix,
        lock_lifetime_s="20",
    )
    locks = LockStore.create(config)
    assert isinstance(locks, FifoRedisLockStore)
    assert (locks.port, locks.db, locks.lifetime_s) == (REDIS_PORT, 0, 20.0)
    assert locks.keys("a")[0].startswith(f"{redis_prefix}:lock:")
    assert await locks.ping()
    await _enter_and_leave(locks, "applicant-9")
    await locks.close()


def test_the_module_path_in_the_production_endpoints_is_this_class() -> None:
    text = (Path(ROOT) / "endpoints.prod.yml").read_text(encoding="utf-8")
    assert "type: rasa_server.lock_store.FifoRedisLockStore" in text
