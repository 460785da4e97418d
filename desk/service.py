"""What recruiters can do with a handoff, shared by the browser pages and the JSON API.

Database calls run in a thread so one slow statement does not hold up every recruiter.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, TypeVar

from contracts.recruiter_reply import HANDOFF_KEY
from contracts.safety import SAFETY_INTENTS
from desk.messages import BACK_WITH_ASSISTANT, HOLDING, MAX_REPLY_BYTES
from desk.office_hours import OfficeHours
from desk.rasa_api import DeliveryError, RasaApi, WindowClosed, reply_event
from desk.storage import CLAIMED, CLOSED, WAITING, Store

logger = logging.getLogger(__name__)
T = TypeVar("T")
TRANSCRIPT_LIMIT = 300
# The largest id a handoff can have (a signed 64-bit column in PostgreSQL and SQLite).
MAX_ID = 2**63 - 1
# A paused conversation stops right after the hand-over action, without the usual
# action_listen; adding it on resume lets the rules ("faq -> utter_faq") match again.
LISTEN = {"event": "action", "name": "action_listen"}


class Conflict(Exception):
    """The handoff's state does not allow this (HTTP 409); the message says why."""


class NotFound(Exception):
    pass


class BadRequest(ValueError):
    pass


@dataclass
class Delivery:
    message_id: int
    delivered: bool
    error: str | None = None


class Desk:
    def __init__(
        self,
        store: Store,
        rasa: RasaApi,
        office: OfficeHours,
        clock: Callable[[], float],
        holding_after_s: float,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.office = office
        self.clock = clock
        self.holding_after_s = holding_after_s

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(function, *args))

    async def handoff(self, handoff_id: int) -> Dict[str, Any]:
        """The handoff, or NotFound saying why: an id no database column can hold (a 500
        from the database otherwise), or one the applicant had erased."""
        if not 0 < handoff_id <= MAX_ID:
            raise NotFound(f"There is no handoff {handoff_id}.")
        found = await self.db(self.store.get_handoff, handoff_id)
        if found is not None:
            return found
        erased_at = await self.db(self.store.erased_at, handoff_id)
        if erased_at is not None:
            raise NotFound(
                f"Handoff {handoff_id} was erased at the applicant's request "
                f"({_moment(erased_at):%d %b %Y %H:%M} UTC): they asked the assistant to "
                "delete their conversation, so it and its replies and notes are gone."
            )
        raise NotFound(f"There is no handoff {handoff_id}.")

    async def claim(self, handoff_id: int, recruiter: str) -> Dict[str, Any]:
        handoff = await self.handoff(handoff_id)
        if not await self.db(self.store.claim, handoff_id, recruiter, self.clock()):
            handoff = await self.handoff(handoff_id)
            who = handoff.get("claimed_by") or "nobody"
            raise Conflict(f"Handoff {handoff_id} is {handoff['status']} (claimed by {who}).")
        try:
            # Pause again: the assistant resumes by itself if the conversation's session expired.
            await self.rasa.append(handoff["sender_id"], [{"event": "pause"}], handoff["channel"])
        except DeliveryError as error:
            await self._record(recruiter, "pause failed", handoff_id, str(error))
        return await self.handoff(handoff_id)

    async def _mine(self, handoff_id: int, recruiter: str, doing: str) -> Dict[str, Any]:
        handoff = await self.handoff(handoff_id)
        if handoff["status"] == CLOSED:
            raise Conflict(f"Handoff {handoff_id} is closed, so you cannot {doing} it.")
        if handoff["status"] == WAITING:
            raise Conflict(f"Claim handoff {handoff_id} before you {doing} it.")
        if handoff["claimed_by"] != recruiter:
            raise Conflict(
                f"Handoff {handoff_id} is claimed by {handoff['claimed_by']}, not you, "
                f"so you cannot {doing} it."
            )
        return handoff

    async def reply(self, handoff_id: int, recruiter: str, text: str) -> Delivery:
        text = (text or "").strip()
        if not text:
            raise BadRequest("A reply needs some text.")
        if len(text.encode("utf-8")) > MAX_REPLY_BYTES:
            raise BadRequest(f"A reply can be at most {MAX_REPLY_BYTES} bytes; shorten it.")
        handoff = await self._mine(handoff_id, recruiter, "reply to")
        # Stored before sending, so a failed delivery is shown, never lost.
        message_id = await self.db(
            self.store.add_message, handoff_id, recruiter, "reply", text, self.clock()
        )
        try:
            tracker = await self.rasa.tracker(handoff["sender_id"])
            event = reply_event(tracker, text, handoff_id)
            await self.rasa.append(handoff["sender_id"], [event], handoff["channel"])
        except WindowClosed as error:
            await self.db(self.store.set_delivery, message_id, "failed", str(error))
            raise Conflict(str(error)) from error
        except DeliveryError as error:
            await self.db(self.store.set_delivery, message_id, "failed", str(error))
            return Delivery(message_id, False, str(error))
        await self.db(self.store.set_delivery, message_id, "delivered")
        return Delivery(message_id, True)

    async def note(self, handoff_id: int, recruiter: str, text: str) -> int:
        text = (text or "").strip()
        if not text:
            raise BadRequest("A note needs some text.")
        await self.handoff(handoff_id)
        return await self.db(
            self.store.add_message, handoff_id, recruiter, "note", text, self.clock()
        )

    async def release(self, handoff_id: int, recruiter: str) -> None:
        """Hand back to the assistant, which says it is back; stays claimed if Rasa fails."""
        handoff = await self._mine(handoff_id, recruiter, "hand back")
        events = [{"event": "resume"}, {"event": "bot", "text": BACK_WITH_ASSISTANT}, LISTEN]
        await self.rasa.append(handoff["sender_id"], events, handoff["channel"])
        if not await self.db(self.store.finish, handoff_id, recruiter, "released", self.clock()):
            raise Conflict(f"Handoff {handoff_id} changed while you were handing it back.")

    async def close(self, handoff_id: int, recruiter: str) -> None:
        handoff = await self._mine(handoff_id, recruiter, "close")
        try:
            await self.rasa.append(
                handoff["sender_id"], [{"event": "resume"}, LISTEN], handoff["channel"]
            )
        except DeliveryError as error:
            await self._record(recruiter, "resume failed", handoff_id, str(error))
        if not await self.db(self.store.finish, handoff_id, recruiter, "closed", self.clock()):
            raise Conflict(f"Handoff {handoff_id} changed while you were closing it.")

    async def _record(self, actor: str, action: str, handoff_id: int, detail: str) -> None:
        await self.db(self.store.record, actor, action, handoff_id, detail, self.clock())

    async def transcript(self, handoff: Dict[str, Any]) -> Dict[str, Any]:
        """The live conversation from Rasa, with the desk's notes and undelivered replies."""
        live = True
        try:
            tracker = await self.rasa.tracker(handoff["sender_id"])
            entries = _entries(tracker.get("events") or [])
        except DeliveryError:
            live = False
            entries = [dict(line) for line in handoff["transcript"]]
        for message in await self.db(self.store.messages_for, handoff["id"]):
            if message["kind"] == "reply" and message["delivery"] == "delivered":
                continue  # already in the conversation
            who = "note" if message["kind"] == "note" else "recruiter"
            entries.append(
                {
                    "who": who,
                    "author": message["author"],
                    "text": message["text"],
                    "at": message["created_at"],
                    "delivery": message["delivery"],
                    "error": message["error"],
                }
            )
        entries.sort(key=lambda entry: entry.get("at") or 0)
        return {"live": live, "entries": entries[-TRANSCRIPT_LIMIT:]}

    async def send_holding_messages(self) -> int:
        """One holding message to each applicant left waiting too long in office hours."""
        now = self.clock()
        if not self.office.is_open(_moment(now)):
            return 0
        sent = 0
        for handoff in await self.db(self.store.list_handoffs, WAITING):
            due = handoff["created_at"] + self.holding_after_s <= now
            if not due or handoff["holding_sent_at"] is not None:
                continue
            if not self.office.is_open(_moment(handoff["created_at"])):
                continue  # promised the next working day, not a reply within minutes
            if not await self.db(self.store.mark_holding_sent, handoff["id"], now):
                continue
            event = {"event": "bot", "text": HOLDING, "metadata": {"desk_holding": True}}
            try:
                await self.rasa.append(handoff["sender_id"], [event], handoff["channel"])
            except DeliveryError as error:
                await self.db(self.store.mark_holding_sent, handoff["id"], None)
                logger.warning("holding message for handoff %s failed: %s", handoff["id"], error)
                continue
            await self._record("desk", "holding message", handoff["id"], "")
            sent += 1
        return sent


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def _entries(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    entries = []
    for event in events:
        kind = event.get("event")
        safety = False
        if kind == "user":
            who = "applicant"
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            safety = intent in SAFETY_INTENTS
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            who = "recruiter" if metadata.get(HANDOFF_KEY) else "assistant"
        else:
            continue
        text = event.get("text") or ((event.get("data") or {}).get("custom") or {}).get("text")
        if text:
            entry = {"who": who, "text": text, "at": event.get("timestamp")}
            if safety:
                entry["safety"] = True  # answered by the fixed safety rule, even while paused
            entries.append(entry)
    return entries


STATUSES_SHOWN = (WAITING, CLAIMED, CLOSED)
