"""A separate process taking conversation locks, as a second Rasa replica would.

`contend`: once the key `<prefix>:go` exists, take the lock of one conversation COUNT times
at once; inside it, count who is inside (`<prefix>:inside`, must never exceed 1) and record
the ticket served (`<prefix>:served`). `hold`: take the lock, say "held", then sleep until
killed. `wait`: take the lock behind others and sleep there until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import redis.asyncio as aioredis

from rasa_server.lock_store import FifoRedisLockStore


async def contend(store: FifoRedisLockStore, args: argparse.Namespace) -> None:
    red = aioredis.Redis(host=args.host, port=args.port)
    print("ready", flush=True)
    while not await red.exists(f"{args.prefix}:go"):
        await asyncio.sleep(0.01)

    async def once() -> None:
        async with store.lock(args.conversation) as lock:
            inside = await red.incr(f"{args.prefix}:inside")
            await red.rpush(f"{args.prefix}:served", f"{lock.tickets[0].number}:{inside}")
            await asyncio.sleep(args.hold_s)
            await red.decr(f"{args.prefix}:inside")

    await asyncio.gather(*(once() for _ in range(args.count)))
    await red.close()


async def hold(store: FifoRedisLockStore, args: argparse.Namespace) -> None:
    async with store.lock(args.conversation):
        print("held", flush=True)
        await asyncio.sleep(3600)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["contend", "hold", "wait"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--conversation", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--hold-s", type=float, default=0.0)
    parser.add_argument("--lifetime-s", type=float, default=60.0)
    parser.add_argument("--waiter-ttl-s", type=float, default=30.0)
    args = parser.parse_args()
    store = FifoRedisLockStore(
        host=args.host,
        port=args.port,
        key_prefix=args.prefix,
        lock_lifetime_s=args.lifetime_s,
        waiter_ttl_s=args.waiter_ttl_s,
    )
    if args.mode == "contend":
        await contend(store, args)
    else:  # hold and wait differ only in whether someone holds the lock already
        await hold(store, args)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
