"""Hand the conversation to a recruiter: queue it in the desk, promise a reply, then pause.

The desk's service API queues it (actions/desk_client.py) and says when recruiters aim to
reply, from its own office hours; a desk that cannot be reached gets the applicant the
contact-page route instead, and the conversation is not paused.

The assistant pauses (ConversationPaused) so a recruiter and the bot never answer at
once; the desk resumes it when the recruiter hands back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import NOT_UNDERSTOOD, intent_of, latest_intent, user_events
from actions.desk_client import DeskClient, DeskUnavailable, HandoffRequest
from actions.handoff_topics import last_faq_topic
from actions.settings import HandoffSettings
from channels.conversation_ids import channel_of
from observability.metrics import HANDOFFS

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
TRANSCRIPT_MESSAGES = 50
PREVIEW_CHARS = 200
# Messages that say nothing about what the applicant wants to ask.
SMALL_TALK = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help", "request_human"}
)
QUESTION_LOOKBACK = 3


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """What the recruiter reads first: the latest messages from both sides, oldest first."""
    lines = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        who = "applicant" if kind == "user" else "assistant"
        lines.append({"who": who, "text": event["text"], "at": event.get("timestamp")})
    return lines[-TRANSCRIPT_MESSAGES:]


def channel_of_conversation(tracker: Tracker) -> str:
    """The channel the recruiter's replies go to, fixed when the handoff is opened.

    The conversation id's namespace says it (channels/conversation_ids.py); the latest
    input channel only for an id from before namespacing.
    """
    return channel_of(tracker.sender_id) or tracker.get_latest_input_channel() or "unknown"


def reason_for(tracker: Tracker) -> str:
    if latest_intent(tracker) == "request_human":
        return "asked for a person"
    earlier = list(user_events(tracker))[1:2]
    if earlier and intent_of(earlier[0]) == NOT_UNDERSTOOD:
        return "not understood twice"
    return "depends on circumstances"


def question_is_clear(tracker: Tracker) -> bool:
    """Did one of the last few messages ask something a recruiter can answer?"""
    recent = list(user_events(tracker))[:QUESTION_LOOKBACK]
    for event in recent:
        text = (event.get("text") or "").strip()
        if intent_of(event) not in SMALL_TALK and text and not text.startswith("/"):
            return True
    return False


def preview_of(tracker: Tracker) -> str:
    for event in user_events(tracker):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text[:PREVIEW_CHARS]
    return ""


class ActionHandoffToRecruiter(Action):
    def __init__(
        self,
        settings: HandoffSettings | None = None,
        clock: Clock = utc_now,
        client: DeskClient | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._client = client

    def name(self) -> str:
        return "action_handoff_to_recruiter"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        client = self._client or DeskClient(self._settings or HandoffSettings.from_env())
        handoff = HandoffRequest(
            conversation_id=tracker.sender_id,
            channel=channel_of_conversation(tracker),
            topic=last_faq_topic(tracker) or "general",
            reason=reason_for(tracker),
            preview=preview_of(tracker),
            transcript=transcript(tracker),
            created_at=self._clock().timestamp(),
        )
        try:
            queued = await client.create_handoff(handoff)
        except DeskUnavailable as error:
            logger.warning("handoff not queued: %s", error)
            HANDOFFS.labels(outcome="unavailable").inc()
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet("offer", None)]
        HANDOFFS.labels(outcome="queued").inc()
        dispatcher.utter_message(response="utter_handoff_confirm", when=queued.promised_reply)
        if not question_is_clear(tracker):
            dispatcher.utter_message(response="utter_handoff_ask_question")
        return [SlotSet("offer", None), ConversationPaused()]
