"""One feed client per process, built on first use, and how to ask it without blocking.

The action server handles many conversations on one event loop, so the feed is fetched (and
parsed and indexed) in a worker thread, and the wait for it is capped at VACANCIES_TIMEOUT_S
whatever the thread is doing. A fetch that finishes after the cap still fills the cache for
the next applicant.
"""

from __future__ import annotations

import asyncio
import threading
from functools import partial
from typing import Callable, Dict
from zoneinfo import ZoneInfo

from actions.settings import VacancySettings
from actions.vacancies.feed import FeedClient, FeedUnavailable, Snapshot
from actions.vacancies.formats import parse_feed
from actions.vacancies.matching import Catalogue
from actions.vacancies.vocabulary import Vocabulary

# The client gives up a little before the action stops waiting, so it can still fall back to
# the last good copy itself and log why.
CLIENT_MARGIN_S = 0.25

_clients: Dict[VacancySettings, FeedClient[Catalogue]] = {}
_lock = threading.Lock()


def build_catalogue(
    feed_format: str, zone: ZoneInfo, vocabulary: Vocabulary, body: bytes
) -> Catalogue:
    parsed = parse_feed(feed_format, body, zone)
    return Catalogue.build(parsed.vacancies, vocabulary, skipped=len(parsed.skipped))


def shared_client(settings: VacancySettings, vocabulary: Vocabulary) -> FeedClient[Catalogue]:
    with _lock:
        client = _clients.get(settings)
        if client is None:
            margin = min(CLIENT_MARGIN_S, settings.timeout_s / 10)
            client = FeedClient(
                settings.url,
                partial(build_catalogue, settings.format, ZoneInfo(settings.timezone), vocabulary),
                timeout_s=settings.timeout_s - margin,
                ttl_s=settings.cache_ttl_s,
            )
            _clients[settings] = client
        return client


def forget_clients() -> None:
    """Close and drop every client (tests and benchmarks start from a cold cache)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


async def current_vacancies(
    client: FeedClient[Catalogue], timeout_s: float
) -> Snapshot[Catalogue] | None:
    """The catalogue to answer from, or None when there is no copy at all.

    Applicants asking while a refresh is under way wait for that same refresh (one worker
    thread per feed, however many conversations), each for at most `timeout_s`.
    """
    cached = client.fresh()
    if cached is not None:
        return cached
    try:
        return await asyncio.wait_for(asyncio.shield(_refresh(client)), timeout=timeout_s)
    except FeedUnavailable:
        return None
    except asyncio.TimeoutError:
        return client.last_good()


_refreshes: Dict[FeedClient[Catalogue], asyncio.Future] = {}


def _refresh(client: FeedClient[Catalogue]) -> asyncio.Future:
    """The refresh in progress for this client on this event loop, or a new one."""
    loop = asyncio.get_running_loop()
    running = _refreshes.get(client)
    if running is not None and not running.done() and running.get_loop() is loop:
        return running
    future = loop.run_in_executor(None, client.get)
    future.add_done_callback(_forget_refresh(client))
    _refreshes[client] = future
    return future


def _forget_refresh(client: FeedClient[Catalogue]) -> Callable[[asyncio.Future], None]:
    def forget(future: asyncio.Future) -> None:
        if _refreshes.get(client) is future:
            del _refreshes[client]
        if not future.cancelled():
            future.exception()  # retrieved here, so an unwaited failure isn't reported as lost

    return forget
