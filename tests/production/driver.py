"""Many applicants talking to several Rasa replicas at once, and what the tracker store must
hold afterwards.

Every message carries a unique probe id in its REST ``metadata``; Rasa stores metadata with the
user event, so each stored user message can be matched to the HTTP request that sent it and to
the replies that request got.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp

# Questions whose answers need no recruiter, and one (vacancies) that needs the action server.
SCRIPT = [
    "hi",
    "how long does vetting take",
    "any tech jobs in manchester?",
    "can I apply if I have dual nationality",
    "how old do you have to be to apply",
    "thanks",
]
# Different questions of one conversation sent at the same moment, two to each replica: the
# case of RasaHQ/rasa#9213. (With Rasa 3.6's RedisLockStore, groups of four lost acknowledged
# messages in 4 of 50 conversations on this machine; pairs alone seldom hit the race.)
BURSTS: List[Tuple[str, ...]] = [
    ("hello", "what is the application process", "how long does vetting take", "thanks"),
    ("any tech jobs in manchester?", "do I need a degree", "can I work from home", "thank you"),
]


# Probe ids are unique across every Driver of a test run.
_PROBE_IDS = itertools.count()


@dataclass
class Sent:
    """One message sent, and what its HTTP request got back."""

    sender: str
    probe: str
    replica: int
    text: str
    status: int | None = None  # None: no HTTP answer (refused, reset, timed out)
    replies: List[Dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    refused_at: List[float] = field(default_factory=list)  # when each 503 came back

    @property
    def acknowledged(self) -> bool:
        return self.status == 200

    @property
    def reply_texts(self) -> List[str | None]:
        return [reply.get("text") for reply in self.replies]


class Driver:
    """Sends REST messages to a list of replicas; every request has one timeout.

    With ``resend_for_s``, a message refused with 503 is sent again (the same message, same
    probe id) after the server's Retry-After, as a client of channels/reliable_rest.py does,
    until it is taken or that long has passed since it was first sent.
    """

    def __init__(
        self,
        urls: Sequence[str],
        timeout_s: float = 120,
        think_s: float = 0.0,
        resend_for_s: float = 0.0,
        rest_token: str = "",
    ):
        self.urls = list(urls)
        self.headers = {"Authorization": f"Bearer {rest_token}"} if rest_token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.think_s = think_s
        self.resend_for_s = resend_for_s
        self.sent: List[Sent] = []

    async def send(
        self, session: aiohttp.ClientSession, sender: str, text: str, replica: int
    ) -> Sent:
        record = Sent(sender, f"{sender}#{next(_PROBE_IDS)}", replica, text)
        self.sent.append(record)
        body = {"sender": sender, "message": text, "metadata": {"probe": record.probe}}
        record.started = time.monotonic()
        while True:
            retry_after = await self._post(session, record, body)
            record.finished = time.monotonic()
            if record.status != 503 or not self.resend_for_s:
                return record
            record.refused_at.append(record.finished)
            if record.finished + retry_after > record.started + self.resend_for_s:
                return record
            await asyncio.sleep(retry_after)

    async def _post(
        self, session: aiohttp.ClientSession, record: Sent, body: Dict[str, Any]
    ) -> float:
        """One attempt; the Retry-After it got (seconds)."""
        record.status, record.replies = None, []
        try:
            async with session.post(
                f"{self.urls[record.replica]}/webhooks/rest/webhook",
                json=body,
                headers=self.headers,
            ) as reply:
                record.status = reply.status
                payload = await reply.json(content_type=None)
                if reply.status == 200 and isinstance(payload, list):
                    record.replies = payload
                return float(reply.headers.get("Retry-After", "1"))
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return 1.0

    async def interleaved(
        self, senders: Sequence[str], script: Sequence[str] = SCRIPT, rounds: int = 1
    ) -> None:
        """Each conversation alternates between replicas; its next message goes only after
        the previous one's reply (REST is synchronous). All conversations run at once."""

        async def conversation(session: aiohttp.ClientSession, index: int, sender: str) -> None:
            for turn, text in enumerate(list(script) * rounds):
                await self.send(session, sender, text, (index + turn) % len(self.urls))
                if self.think_s:
                    await asyncio.sleep(self.think_s)

        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await asyncio.gather(*(conversation(session, i, s) for i, s in enumerate(senders)))

    async def bursts(
        self, senders: Sequence[str], groups: Sequence[Sequence[str]] = BURSTS
    ) -> None:
        """Each group's messages of one conversation sent at the same moment, spread over the
        replicas in turn; the next group goes when all of this one have been answered."""

        async def conversation(session: aiohttp.ClientSession, sender: str) -> None:
            for group in groups:
                await asyncio.gather(
                    *(
                        self.send(session, sender, text, i % len(self.urls))
                        for i, text in enumerate(group)
                    )
                )

        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await asyncio.gather(*(conversation(session, s) for s in senders))

    def of(self, sender: str) -> List[Sent]:
        return [record for record in self.sent if record.sender == sender]


def problems_in(events: List[Dict[str, Any]], sent: List[Sent], ordered: bool = True) -> List[str]:
    """What is wrong with one conversation's stored events, given what was sent and answered.

    - every acknowledged message (HTTP 200) is stored exactly once, and nothing is stored twice;
    - each stored user message is followed by exactly the replies its HTTP request got, before
      the next user message (turns never interleave), and the turn before it had ended;
    - with ``ordered``, the stored user messages are in the order they were sent.
    """
    problems: List[str] = []
    by_probe = {record.probe: record for record in sent}
    stored: List[str] = []
    for index, event in enumerate(events):
        if event.get("event") != "user":
            continue
        probe = (event.get("metadata") or {}).get("probe")
        if probe not in by_probe:
            problems.append(f"a user event nobody sent: {probe!r}")
            continue
        stored.append(probe)
        before = _previous_action(events, index)
        if before not in (None, "action_listen"):
            problems.append(f"{probe} stored while a turn was unfinished (after {before})")
        record = by_probe[probe]
        if record.acknowledged:
            bot = [e.get("text") for e in _turn(events, index) if e.get("event") == "bot"]
            if bot != record.reply_texts:
                problems.append(
                    f"{probe}: stored replies {bot!r} but HTTP got {record.reply_texts!r}"
                )
    for probe in set(stored):
        if stored.count(probe) > 1:
            problems.append(f"{probe} stored {stored.count(probe)} times")
    for record in sent:
        if record.acknowledged and record.probe not in stored:
            problems.append(f"{record.probe} acknowledged (200) but not stored")
    if ordered:
        expected = [record.probe for record in sent if record.probe in stored]
        if [probe for probe in stored if probe in expected] != expected:
            problems.append(f"stored out of order: {stored} (sent {expected})")
    return problems


def _turn(events: List[Dict[str, Any]], user_index: int) -> List[Dict[str, Any]]:
    turn = []
    for event in events[user_index + 1 :]:
        if event.get("event") == "user":
            break
        turn.append(event)
    return turn


def _previous_action(events: List[Dict[str, Any]], user_index: int) -> str | None:
    for event in reversed(events[:user_index]):
        if event.get("event") == "action":
            return str(event.get("name"))
        if event.get("event") == "user":
            return "user"  # two user events with no action between them
    return None
