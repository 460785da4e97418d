"""A FIFO conversation lock in Redis that stays correct when several Rasa servers share it.

Rasa 3.6's `RedisLockStore` reads the whole serialised ticket queue, changes it in Python
and writes it back, so two replicas taking messages of one conversation at the same moment
overwrite each other's tickets and both go ahead (RasaHQ/rasa#9213). Here every step is one
Lua script, which Redis runs atomically:

- issue: `INCR` gives the ticket its place; the ticket joins a sorted set ordered by it;
- turn: the head of the queue is served; an expired head is dropped first;
- release: the ticket leaves the queue; an empty queue leaves no keys behind.

A release publishes the conversation id on one Redis channel; every process listens and
wakes its waiters for that conversation at once, so a queued message starts within a
round trip of its predecessor finishing. Waiters also look again every `max_poll_s` (0.5 s),
which covers a lost notification and a holder whose lease ran out.

Every ticket has a lease kept in Redis server time, so replicas' clocks don't matter. A
waiting ticket's lease is renewed each time its owner looks, so a process that died while
waiting is skipped `waiter_ttl_s` after its last poll. The holder's lease is the lock
lifetime (Rasa's 60 s, `TICKET_LOCK_LIFETIME`), counted from when it got the lock: a
holder that crashed blocks its conversation for at most that long, never for ever. Action
calls are bounded well under it (rasa_server/action_calls.py), so a live holder finishes
first; one that does not is logged when it releases.

If Redis cannot be reached the message is refused with a `LockError` naming Redis, never
processed without the lock: an error, not a silent double answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Sequence, Tuple

import redis.asyncio as aioredis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "careers"
DEFAULT_WAITER_TTL_S = 30.0
DEFAULT_SOCKET_TIMEOUT_S = 5.0
# Between notifications a waiter looks again after this, doubling up to max_poll_s.
FIRST_POLL_S = 0.01
DEFAULT_MAX_POLL_S = 0.5

# Current time in ms from the Redis server, so every replica uses the same clock.
_NOW = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: counter, queue, leases. ARGV: token, waiter ttl ms, key ttl ms.
# Idempotent on the token, so a retry after a lost reply issues no second ticket.
ISSUE = (
    _NOW
    + """
local position = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not position then
  position = redis.call('INCR', KEYS[1])
  redis.call('ZADD', KEYS[2], position, ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], now + tonumber(ARGV[2]))
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return tonumber(position)
"""
)

# KEYS: counter, queue, leases. ARGV: token, lifetime ms, waiter ttl ms, key ttl ms.
# Returns {1, 0} when the token is served (its lease becomes the lifetime), {0, tickets
# ahead} while waiting (its lease renewed), {-1, 0} when the ticket is gone (it expired).
TURN = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {-1, 0} end
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if head == ARGV[1] then
    redis.call('HSET', KEYS[3], head, now + tonumber(ARGV[2]))
    for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
    return {1, 0}
  end
  local expires = tonumber(redis.call('HGET', KEYS[3], head) or '0')
  if expires > now then break end
  redis.call('ZREM', KEYS[2], head)
  redis.call('HDEL', KEYS[3], head)
end
redis.call('HSET', KEYS[3], ARGV[1], now + tonumber(ARGV[3]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return {0, redis.call('ZRANK', KEYS[2], ARGV[1])}
"""
)

# KEYS: counter, queue, leases. ARGV: token, channel, conversation id. Returns 1 if the
# ticket was still held. Tells the waiters, if any, that their turn may have come.
RELEASE = """
local held = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
else
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return held
"""


def _seconds(value: Any, default: float) -> float:
    return float(value) if value not in (None, "") else default


class FifoRedisLockStore(LockStore):
    """Rasa loads it from endpoints.yml (`lock_store: type:
    rasa_server.lock_store.FifoRedisLockStore`) with `url` (the Redis host), `port`, `db`,
    and optionally `password` (else REDIS_PASSWORD), `key_prefix` (else REDIS_KEY_PREFIX,
    else "careers"), `use_ssl`, `lock_lifetime_s` (else TICKET_LOCK_LIFETIME, else 60),
    `waiter_ttl_s` and `socket_timeout_s`.
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: str | None = None,
        key_prefix: str | None = None,
        use_ssl: bool = False,
        lock_lifetime_s: float | None = None,
        waiter_ttl_s: float = DEFAULT_WAITER_TTL_S,
        socket_timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S,
        max_poll_s: float = DEFAULT_MAX_POLL_S,
    ) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.host = (endpoint_config.url if endpoint_config else None) or host
        self.port = int(options.get("port") or port)
        self.db = int(options.get("db") or db)
        password = options.get("password") or password or os.environ.get("REDIS_PASSWORD")
        prefix = (
            options.get("key_prefix")
            or key_prefix
            or os.environ.get("REDIS_KEY_PREFIX")
            or DEFAULT_KEY_PREFIX
        )
        self.key_prefix = f"{prefix}:lock:"
        self.lifetime_s = _seconds(options.get("lock_lifetime_s"), lock_lifetime_s or 0) or float(
            LOCK_LIFETIME
        )
        self.waiter_ttl_s = _seconds(options.get("waiter_ttl_s"), waiter_ttl_s)
        self.max_poll_s = _seconds(options.get("max_poll_s"), max_poll_s)
        self.channel = f"{self.key_prefix}released"
        timeout = _seconds(options.get("socket_timeout_s"), socket_timeout_s)
        ssl = str(options.get("use_ssl", use_ssl)).lower() in ("1", "true", "yes")
        # A few quick retries ride over a failover or a dropped connection; the scripts are
        # safe to repeat. Redis really gone still fails within a couple of seconds.
        self.red = aioredis.Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            password=password or None,
            ssl=ssl,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self._issue = self.red.register_script(ISSUE)
        self._turn = self.red.register_script(TURN)
        self._release = self.red.register_script(RELEASE)
        # Notifications: a connection of its own that blocks reading, so no socket timeout.
        self._subscriber = aioredis.Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            password=password or None,
            ssl=ssl,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self._listener: asyncio.Task | None = None
        # Per conversation with local waiters: the event the next notification sets, and
        # how many waiters use it.
        self._wakeups: Dict[str, Tuple[asyncio.Event, int]] = {}
        super().__init__()

    @property
    def where(self) -> str:
        return f"Redis at {self.host}:{self.port} db {self.db}"

    def keys(self, conversation_id: str) -> List[str]:
        # One hash tag per conversation keeps its keys in one Redis Cluster slot.
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return [f"{base}:counter", f"{base}:queue", f"{base}:leases"]

    async def ping(self) -> bool:
        """For readiness checks: True when Redis answers."""
        return bool(await self.red.ping())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
            self._listener = None
        await self._subscriber.close()
        await self.red.close()

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Wait for this conversation's turn, in the order the messages arrived.

        `lock_lifetime` and `wait_time_in_seconds` are Rasa's arguments; the lifetime comes
        from this store's configuration, and the wait between polls is far shorter than
        Rasa's 1 s, which would add up to a second to every queued message.
        """
        keys = self.keys(conversation_id)
        token = uuid.uuid4().hex
        self._ensure_listener()
        position = await self._call(self._issue, keys, [token, self._ms(self.waiter_ttl_s)])
        try:
            await self._wait_for_turn(conversation_id, keys, token)
        except BaseException:
            await self._release_quietly(conversation_id, keys, token)
            raise
        acquired = time.monotonic()
        try:
            ticket = Ticket(int(position), time.time() + self.lifetime_s)
            yield TicketLock(conversation_id, deque([ticket]))
        finally:
            held_s = time.monotonic() - acquired
            still_held = await self._release_quietly(conversation_id, keys, token)
            if still_held is False:
                logger.error(
                    "A message of conversation %s held its lock for %.1f s, longer than the "
                    "lock lifetime (%.0f s); the next message may have been processed at "
                    "the same time.",
                    conversation_id,
                    held_s,
                    self.lifetime_s,
                )

    async def _wait_for_turn(self, conversation_id: str, keys: List[str], token: str) -> None:
        pause = FIRST_POLL_S
        args = [token, self._ms(self.lifetime_s), self._ms(self.waiter_ttl_s)]
        while True:
            # Taken before looking, so a release between the look and the wait still wakes us.
            wakeup = self._watch(conversation_id)
            try:
                state, ahead = await self._call(self._turn, keys, args)
                if state == 1:
                    return
                if state == -1:
                    raise LockError(
                        f"The lock ticket for conversation {conversation_id} expired while it "
                        f"waited (its process was stalled for more than {self.waiter_ttl_s:g} s)."
                    )
                logger.debug("Conversation %s: %s message(s) ahead.", conversation_id, ahead)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), pause)
            finally:
                self._unwatch(conversation_id, wakeup)
            pause = min(pause * 2, self.max_poll_s)

    def _watch(self, conversation_id: str) -> asyncio.Event:
        event, waiters = self._wakeups.get(conversation_id, (asyncio.Event(), 0))
        self._wakeups[conversation_id] = (event, waiters + 1)
        return event

    def _unwatch(self, conversation_id: str, event: asyncio.Event) -> None:
        current = self._wakeups.get(conversation_id)
        if current is None or current[0] is not event:
            return  # a notification already took that event away
        if current[1] <= 1:
            del self._wakeups[conversation_id]
        else:
            self._wakeups[conversation_id] = (event, current[1] - 1)

    def _wake(self, conversation_id: str) -> None:
        watched = self._wakeups.pop(conversation_id, None)
        if watched is not None:
            watched[0].set()

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        """Wake local waiters whenever any process releases one of their conversations."""
        while True:
            try:
                async with self._subscriber.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        if message and message.get("type") == "message":
                            self._wake(message["data"].decode("utf-8"))
            except (RedisError, OSError) as error:
                # Waiters keep looking on their own meanwhile; only the wake-ups are late.
                logger.warning("Lock notifications from %s interrupted: %r", self.where, error)
                await asyncio.sleep(1.0)

    async def _release_quietly(
        self, conversation_id: str, keys: List[str], token: str
    ) -> bool | None:
        """Release; if Redis is unreachable now, the lease frees the conversation later."""
        try:
            released = self._release(keys=keys, args=[token, self.channel, conversation_id])
            held = bool(await asyncio.shield(released))
            self._wake(conversation_id)  # this process's waiters need not wait for Redis
            return held
        except (RedisError, OSError) as error:
            logger.error(
                "Could not release the lock of conversation %s in %s (%r); it frees itself "
                "when its lease ends.",
                conversation_id,
                self.where,
                error,
            )
            return None

    async def _call(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await script(keys=keys, args=[*args, self._key_ttl_ms])
        except (RedisError, OSError) as error:
            raise LockError(
                f"The lock store ({self.where}) cannot be reached, so the message is not "
                f"processed (processing it without the lock could answer it twice): {error!r}"
            ) from error

    @property
    def _key_ttl_ms(self) -> int:
        # Keys outlive every lease they hold, and vanish after a crash leaves them behind.
        return self._ms(2 * max(self.lifetime_s, self.waiter_ttl_s))

    @staticmethod
    def _ms(seconds: float) -> int:
        return max(1, int(seconds * 1000))
