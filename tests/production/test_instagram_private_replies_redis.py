"""Private replies shared by several Rasa servers through Redis: one reply per comment and
one hourly cap, whichever replica a delivery or the desk's request reaches.

Two channel instances, each with its own Redis client (as two servers have), share the
local Redis under a key prefix of their own; they understand comments with the real
trained agent and send through the Graph API stand-in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, List

import pytest
import redis.asyncio as aioredis
from rasa.core.agent import load_agent

from channels.instagram.channel import InstagramInput
from channels.instagram.dedup import RedisSeenMessageIds
from channels.instagram.reply_store import RedisReplyStore
from channels.instagram.settings import InstagramSettings
from tests.production import services
from tests.production.services import REDIS_HOST, REDIS_PORT
from tests.support.graph_api_stand_in import GraphApiStandIn
from tests.support.instagram_deliveries import (
    ACCOUNT_ID,
    Deliveries,
    encode,
    new_comment_id,
    new_sender,
    signed_headers,
)

redis_prefix = pytest.fixture(name="redis_prefix")(services.unique_redis_prefix)
TOKEN = "IGAAreplicas"
SECRETS = {"verify_token": "v", "app_secret": "s" * 32, "access_token": TOKEN}
QUESTION = "how do I apply for a job at MI5?"
d = Deliveries()


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def agent(trained_model: Path) -> Any:
    return asyncio.run(load_agent(model_path=str(trained_model)))


def redis_client() -> aioredis.Redis:
    return aioredis.Redis(host=REDIS_HOST, port=REDIS_PORT)


def replica(graph: GraphApiStandIn, prefix: str, agent: Any, per_hour: int = 700) -> InstagramInput:
    """One Rasa server's channel: its own Redis clients, the shared keys."""
    settings = InstagramSettings.load(
        SECRETS,
        environ={
            "INSTAGRAM_GRAPH_URL": graph.url,
            "INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": str(per_hour),
        },
    )
    settings = dataclasses.replace(settings, backoff_base_seconds=0.01)
    channel = InstagramInput(
        settings,
        seen=RedisSeenMessageIds(redis_client(), 3600, prefix),
        store=RedisReplyStore(redis_client(), prefix),
    )
    channel.agent = agent
    return channel


async def deliver(channel: InstagramInput, payload: Any) -> int:
    body = encode(payload)
    request = SimpleNamespace(
        headers=signed_headers(SECRETS["app_secret"], body), stream=None, body=body
    )

    async def on_new_message(_: Any) -> None:
        raise AssertionError("comments never reach the dialogue")

    answer = await channel._receive(request, on_new_message)  # type: ignore[arg-type]
    return answer.status


async def settle(*channels: InstagramInput) -> None:
    for channel in channels:
        await channel.queues.drain(60)


async def test_a_comment_delivered_to_two_replicas_gets_one_private_reply(
    graph: GraphApiStandIn, redis_prefix: str, agent: Any
) -> None:
    first, second = replica(graph, redis_prefix, agent), replica(graph, redis_prefix, agent)
    change = d.comment(QUESTION, new_sender())
    delivery = d.changes(change)
    statuses = await asyncio.gather(*(deliver(r, delivery) for r in (first, second) * 3))
    assert statuses == [200] * 6
    await settle(first, second)
    (reply,) = graph.private_replies_to(change["value"]["id"])
    assert reply.status == 200 and reply.body["recipient"] == {"comment_id": change["value"]["id"]}


async def test_the_hourly_cap_holds_across_replicas(
    graph: GraphApiStandIn, redis_prefix: str, agent: Any
) -> None:
    first, second = (replica(graph, redis_prefix, agent, per_hour=5) for _ in range(2))
    ids: List[str] = [new_comment_id() for _ in range(12)]
    for index, comment_id in enumerate(ids):
        channel = first if index % 2 else second
        await deliver(channel, d.changes(d.comment(QUESTION, new_sender(), comment_id)))
    await settle(first, second)
    sent = [c for c in ids if graph.private_replies_to(c, include_failed=False)]
    assert len(sent) == 5


async def test_the_desk_can_ask_any_replica_and_still_gets_one_reply(
    graph: GraphApiStandIn, redis_prefix: str, agent: Any
) -> None:
    first, second = replica(graph, redis_prefix, agent), replica(graph, redis_prefix, agent)
    media = "18000000000000444"
    graph.start_live(ACCOUNT_ID, media)
    comment_id = new_comment_id()
    await deliver(
        first, d.changes(d.live_comment("when is the next intake", media, None, comment_id))
    )
    await settle(first)
    ask = {"replies": [{"comment_id": comment_id, "topic": "faq/process_how_to_apply"}]}
    results = [await r.comments.answer_for_desk(agent, ask) for r in (second, first, second)]
    statuses = [result[0]["status"] for result in results]
    auto = graph.private_replies_to(comment_id, include_failed=False)
    # The channel may have answered the comment itself; either way there is one reply.
    assert len(auto) == 1
    assert statuses.count("sent") == (0 if statuses[0] == "duplicate" else 1)
    assert set(statuses) <= {"sent", "duplicate"}
    graph.end_live(media)
