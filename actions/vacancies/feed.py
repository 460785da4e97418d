"""Fetching the job feed: bounded in time, cached, and forgiving when the feed misbehaves.

The feed is a plain GET, so it is safe to retry: connection errors, 429 and 5xx are retried with
exponential backoff (429's Retry-After honoured) while time remains before the deadline. The
whole fetch, retries included, finishes within the timeout, because an applicant is waiting.
A good copy is kept for the cache TTL and revalidated with If-None-Match / If-Modified-Since.
When a refresh fails the last good copy is served marked stale (stale-if-error), and the feed is
left alone for a short cool-down (longer if the server asked, with Retry-After), so a broken
feed doesn't make every applicant wait for the full timeout.

Blocking by design (requests, file reads, JSON parsing): callers in the action server run it in
a worker thread. One client is shared by all conversations in a process; a lock makes sure only
one thread refreshes at a time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Generic, List, TypeVar
from urllib.parse import urlsplit

import requests

from observability.metrics import FEED_ERRORS

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_FEED_BYTES = 64 * 1024 * 1024
CONNECT_TIMEOUT_S = 3.0
MAX_ATTEMPTS = 3
BACKOFF_S = 0.25
MAX_COOL_DOWN_S = 30.0
MAX_RETRY_AFTER_S = 3600.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "mi5-careers-assistant/1 (+https://www.mi5.gov.uk/careers)"


class FeedError(Exception):
    """One refresh failed; `retry_after` is how long the server asked us to wait, if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FeedUnavailable(Exception):
    """No copy of the feed to answer from: the applicant needs another route to the jobs."""


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    data: T
    checked_at: float  # clock time the copy was last confirmed current
    stale: bool = False  # True when served because a refresh failed


@dataclass(frozen=True)
class _Body:
    content: bytes
    etag: str | None = None
    last_modified: str | None = None
    file_version: tuple[int, int] | None = None


@dataclass(frozen=True)
class _Good(Generic[T]):
    data: T
    checked_at: float
    etag: str | None = None
    last_modified: str | None = None
    file_version: tuple[int, int] | None = None


class FeedClient(Generic[T]):
    def __init__(
        self,
        source: str,
        parse: Callable[[bytes], T],
        *,
        timeout_s: float,
        ttl_s: float,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        max_bytes: int = MAX_FEED_BYTES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self._remote = urlsplit(source).scheme in ("http", "https")
        self._parse = parse
        self._timeout_s = timeout_s
        self._ttl_s = ttl_s
        self._max_attempts = max(1, max_attempts)
        self._backoff_s = backoff_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._sleep = sleep
        self._cool_down_s = min(ttl_s, MAX_COOL_DOWN_S)
        self._good: _Good[T] | None = None
        self._not_before = 0.0
        self._refreshing = threading.Lock()
        self._session: requests.Session | None = None

    def fresh(self) -> Snapshot[T] | None:
        """The cached copy if it is within its TTL; never blocks."""
        good = self._good
        if good is not None and self._clock() - good.checked_at < self._ttl_s:
            return Snapshot(good.data, good.checked_at)
        return None

    def last_good(self) -> Snapshot[T] | None:
        """The last good copy, however old, marked stale; never blocks."""
        good = self._good
        return Snapshot(good.data, good.checked_at, stale=True) if good is not None else None

    def get(self) -> Snapshot[T]:
        """A current copy, refreshing if needed within the timeout; else the last good copy."""
        deadline = self._clock() + self._timeout_s
        cached = self.fresh()
        if cached is not None:
            return cached
        if self._clock() < self._not_before:
            return self._fall_back("the feed failed recently; not asking again yet")
        if not self._refreshing.acquire(timeout=max(0.0, deadline - self._clock())):
            return self._fall_back("another refresh took all the time there was")
        try:
            cached = self.fresh()  # another thread may have refreshed while we waited
            if cached is not None:
                return cached
            try:
                self._refresh(deadline)
            except FeedError as error:
                wait = max(self._cool_down_s, error.retry_after or 0.0)
                self._not_before = self._clock() + wait
                FEED_ERRORS.inc()
                logger.warning("vacancy feed %s: %s", self._redacted(), error)
                return self._fall_back(str(error))
            good = self._good
            assert good is not None
            return Snapshot(good.data, good.checked_at)
        finally:
            self._refreshing.release()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # Refreshing

    def _refresh(self, deadline: float) -> None:
        body = self._fetch_http(deadline) if self._remote else self._read_file()
        good = self._good
        if body is None:  # not modified
            assert good is not None
            self._good = _Good(
                good.data, self._clock(), good.etag, good.last_modified, good.file_version
            )
            return
        try:
            data = self._parse(body.content)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            # FeedFormatError, or a shape no adapter foresaw: either way keep the last good copy.
            raise FeedError(f"unusable feed: {type(error).__name__}: {error}") from error
        self._good = _Good(data, self._clock(), body.etag, body.last_modified, body.file_version)

    def _read_file(self) -> _Body | None:
        path = Path(self.source)
        try:
            stat = path.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            good = self._good
            if good is not None and good.file_version == version:
                return None
            if stat.st_size > self._max_bytes:
                raise FeedError(f"the feed file is over {self._max_bytes} bytes")
            return _Body(path.read_bytes(), file_version=version)
        except OSError as error:
            raise FeedError(f"cannot read the feed file: {error.strerror or error}") from error

    def _fetch_http(self, deadline: float) -> _Body | None:
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise FeedError("timed out")
            retry_after: float | None = None
            try:
                outcome = self._attempt(deadline, remaining)
            except _Retryable as problem:
                retry_after = problem.retry_after
                reason = str(problem)
            else:
                return outcome
            if attempt >= self._max_attempts:
                raise FeedError(f"{reason} (after {attempt} attempts)", retry_after)
            wait = retry_after
            if wait is None:
                wait = self._backoff_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            if self._clock() + wait >= deadline:
                raise FeedError(f"{reason}; no time left to try again", retry_after)
            self._sleep(wait)

    def _attempt(self, deadline: float, remaining: float) -> _Body | None:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        good = self._good
        if good is not None and good.etag:
            headers["If-None-Match"] = good.etag
        if good is not None and good.last_modified:
            headers["If-Modified-Since"] = good.last_modified
        try:
            response = self._http().get(
                self.source,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining),
                stream=True,
            )
        except requests.Timeout as error:
            raise _Retryable(f"no answer in time ({type(error).__name__})") from error
        except requests.RequestException as error:
            raise _Retryable(f"cannot connect ({type(error).__name__})") from error
        with response:
            status = response.status_code
            if status == 304 and good is not None:
                return None
            if status in RETRY_STATUSES:
                raise _Retryable(
                    f"HTTP {status}", _retry_after(response.headers.get("Retry-After"))
                )
            if status != 200:
                raise FeedError(f"HTTP {status}")  # not worth retrying: 404, 401, ...
            return _Body(
                self._read_body(response, deadline),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        chunks: List[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > self._max_bytes:
                    raise FeedError(f"the feed is over {self._max_bytes} bytes")
                if self._clock() > deadline:
                    raise FeedError("timed out while reading the feed")
                chunks.append(chunk)
        except requests.RequestException as error:
            raise _Retryable(
                f"the connection broke while reading ({type(error).__name__})"
            ) from error
        return b"".join(chunks)

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def _fall_back(self, reason: str) -> Snapshot[T]:
        stale = self.last_good()
        if stale is None:
            raise FeedUnavailable(reason)
        return stale

    def _redacted(self) -> str:
        """The feed's address without any query string (it may hold a token)."""
        parts = urlsplit(self.source)
        return f"{parts.scheme}://{parts.netloc}{parts.path}" if self._remote else self.source


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
