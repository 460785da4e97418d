"""Instagram message-id deduplication shared by several Rasa servers through Redis."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, List

import pytest
import redis
import redis.asyncio as aioredis

from channels.instagram.channel import InstagramInput
from channels.instagram.dedup import (
    DedupUnavailable,
    InMemorySeenMessageIds,
    RedisSeenMessageIds,
    seen_message_ids,
)
from channels.instagram.settings import InstagramSettings
from scripts.stack import free_port
from tests.production import services
from tests.production.services import REDIS_HOST, REDIS_PORT
from tests.support.instagram_deliveries import Deliveries, encode, new_mid, signed_headers

redis_prefix = pytest.fixture(name="redis_prefix")(services.unique_redis_prefix)
redis_client = pytest.fixture(name="redis_client")(services.redis_connection)

SECRETS = {"verify_token": "v", "app_secret": "s" * 32, "access_token": "IGAAtoken"}


def server_store(prefix: str, ttl_seconds: float = 3600) -> RedisSeenMessageIds:
    """What one Rasa server builds: its own Redis client."""
    return RedisSeenMessageIds(
        aioredis.Redis(host=REDIS_HOST, port=REDIS_PORT), ttl_seconds, prefix
    )


async def test_of_two_servers_offered_one_message_id_many_times_exactly_one_answers(
    redis_prefix: str,
) -> None:
    first, second = server_store(redis_prefix), server_store(redis_prefix)
    mid = new_mid()
    answers = await asyncio.gather(
        *(store.first_sighting(mid) for _ in range(20) for store in (first, second))
    )
    assert answers.count(True) == 1
    assert await first.first_sighting(new_mid()), "another message id is new"


async def test_a_message_id_is_kept_for_the_ttl_and_then_forgotten(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    store = server_store(redis_prefix, ttl_seconds=0.3)
    mid = new_mid()
    assert await store.first_sighting(mid)
    key = f"{redis_prefix}:instagram:seen:{mid}"
    assert 0 < redis_client.pttl(key) <= 300
    assert not await store.first_sighting(mid)

    async def until_forgotten() -> None:
        while not await store.first_sighting(mid):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(until_forgotten(), timeout=10)


async def test_redis_down_is_an_error_not_a_guess() -> None:
    store = RedisSeenMessageIds(
        aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1), 60
    )
    with pytest.raises(DedupUnavailable, match="Redis"):
        await store.first_sighting(new_mid())


def test_redis_is_used_when_redis_host_is_set_and_the_process_store_otherwise() -> None:
    shared = InstagramSettings.load(
        SECRETS,
        environ={
            "REDIS_HOST": "redis.internal",
            "REDIS_PORT": "6380",
            "REDIS_DB": "2",
            "REDIS_PASSWORD": "p@ss/word",
            "REDIS_KEY_PREFIX": "careers-prod",
        },
    )
    assert shared.dedup_redis_url == "redis://:p%40ss%2Fword@redis.internal:6380/2"
    assert shared.dedup_key_prefix == "careers-prod"
    assert isinstance(seen_message_ids(shared), RedisSeenMessageIds)

    alone = InstagramSettings.load(SECRETS, environ={})
    assert alone.dedup_redis_url == ""
    assert isinstance(seen_message_ids(alone), InMemorySeenMessageIds)


async def test_a_delivery_that_cannot_be_checked_is_refused_for_redelivery_and_not_answered() -> (
    None
):
    settings = InstagramSettings.load(SECRETS, environ={})
    dead = RedisSeenMessageIds(
        aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1), 60
    )
    channel = InstagramInput(settings, seen=dead)
    body = encode(Deliveries().delivery(Deliveries().text("1234567890", "hello")))
    request = SimpleNamespace(
        headers=signed_headers(settings.app_secret, body), stream=None, body=body
    )
    handled: List[Any] = []

    async def on_new_message(message: Any) -> None:
        handled.append(message)

    answer = await channel._receive(request, on_new_message)  # type: ignore[arg-type]
    await asyncio.sleep(0.1)
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "30"
    assert handled == []
