"""Sign-in throttling that an attacker cannot aim at a recruiter.

Locking an account after five wrong passwords, whoever sent them, let anyone lock any
recruiter out of the desk for 15 minutes at a time. Failed sign-ins are counted instead
(each count in a window of DESK_LOCKOUT_MINUTES, and a count that reaches its limit refuses
for that long):

- per source address and account name (DESK_MAX_FAILED_LOGINS, default 5): guessing one
  recruiter's password from one address stops there, while the recruiter, from any other
  address, signs in as usual;
- per source address (DESK_MAX_FAILED_LOGINS_PER_ADDRESS, default 20): one address trying
  many names (or passwords spread over several names) stops;
- per account, from all addresses together (DESK_MAX_FAILED_LOGINS_PER_ACCOUNT, default 50,
  kept in `desk_users`): guessing spread over many addresses locks the account, but only for
  addresses it has never been signed into from. A recruiter still signs in from an address
  they have used before; `python -m desk set-password` lifts the lock.

The source address is the connection's, or with DESK_PROXIES_COUNT (behind a proxy such as
the ingress) the one the proxy puts in X-Forwarded-For. Keys are SHA-256 hashes of the
address and name, so the table never holds an address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Dict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from desk.storage import sign_in_throttle as throttle
from desk.storage import users


@dataclass(frozen=True)
class Limits:
    per_address_and_account: int = 5
    per_address: int = 20
    per_account: int = 50
    lockout_s: float = 15 * 60


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused before its password is checked, and for how long."""

    seconds_left: float
    whole_account: bool  # locked for unknown addresses, not just this one


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def address_key(address: str) -> str:
    return _key("address", address)


def pair_key(address: str, name: str) -> str:
    return _key("pair", address, name.casefold())


class SignInThrottle:
    def __init__(self, engine: Engine, limits: Limits) -> None:
        self.engine = engine
        self.limits = limits

    def refusal(
        self, address: str, name: str, user: Dict[str, Any] | None, now: float
    ) -> Refusal | None:
        """A Refusal if this address may not try this name now, else None."""
        with self.engine.connect() as db:
            rows = _rows(db, address_key(address), pair_key(address, name))
        locked = [row["locked_until"] for row in rows.values() if (row["locked_until"] or 0) > now]
        if locked:
            return Refusal(max(locked) - now, whole_account=False)
        pair = rows.get(pair_key(address, name))
        known = pair is not None and pair["signed_in_at"] is not None
        if user and (user["locked_until"] or 0) > now and not known:
            return Refusal(user["locked_until"] - now, whole_account=True)
        return None

    def failed(self, address: str, name: str, user_id: int | None, now: float) -> bool:
        """Count a failure everywhere it counts; True if the account is now locked for
        unknown addresses (worth an audit entry)."""
        try:
            return self._failed(address, name, user_id, now)
        except IntegrityError:  # another replica created the same row first
            return self._failed(address, name, user_id, now)

    def _failed(self, address: str, name: str, user_id: int | None, now: float) -> bool:
        limits = self.limits
        with self.engine.begin() as db:
            _count(db, pair_key(address, name), limits.per_address_and_account, limits, now)
            _count(db, address_key(address), limits.per_address, limits, now)
            if user_id is None:
                return False
            return _count_account(db, user_id, limits, now)

    def succeeded(self, address: str, name: str, user_id: int, now: float) -> None:
        """The address is known to the account from now on; its failures are forgiven."""
        key = pair_key(address, name)
        with self.engine.begin() as db:
            done = db.execute(
                throttle.update()
                .where(throttle.c.key_hash == key)
                .values(failures=0, locked_until=None, signed_in_at=now)
            ).rowcount
            if not done:
                db.execute(
                    throttle.insert().values(
                        key_hash=key, failures=0, window_started_at=now, signed_in_at=now
                    )
                )
            db.execute(users.update().where(users.c.id == user_id).values(failed_logins=0))


def _rows(db: Connection, *keys: str) -> Dict[str, Dict[str, Any]]:
    found = db.execute(throttle.select().where(throttle.c.key_hash.in_(keys))).mappings()
    return {row["key_hash"]: dict(row) for row in found}


def _count(db: Connection, key: str, limit: int, limits: Limits, now: float) -> None:
    """One more failure for `key` in its window; at `limit`, refuse it for the lock-out."""
    row = _rows(db, key).get(key)
    if row is None:
        db.execute(throttle.insert().values(key_hash=key, failures=1, window_started_at=now))
        failures, started = 1, now
    else:
        started = row["window_started_at"]
        if started < now - limits.lockout_s:
            failures, started = 1, now
        else:
            failures = int(row["failures"]) + 1
    values: Dict[str, Any] = {"failures": failures, "window_started_at": started}
    if failures >= limit:
        values = {"failures": 0, "window_started_at": now, "locked_until": now + limits.lockout_s}
    db.execute(throttle.update().where(throttle.c.key_hash == key).values(**values))


def _count_account(db: Connection, user_id: int, limits: Limits, now: float) -> bool:
    db.execute(
        users.update().where(users.c.id == user_id).values(failed_logins=users.c.failed_logins + 1)
    )
    failed = db.execute(sa.select(users.c.failed_logins).where(users.c.id == user_id)).scalar_one()
    if failed < limits.per_account:
        return False
    db.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(failed_logins=0, locked_until=now + limits.lockout_s)
    )
    return True
