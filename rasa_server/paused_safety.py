"""Safety answers still go out while a recruiter has the conversation.

A hand-over pauses the assistant (`ConversationPaused`) so a recruiter and the bot never
answer at once, and Rasa then predicts nothing until the conversation resumes. A threat
report or a person in distress would wait for a recruiter to read it, which out of office
hours is the next working day. The safety rules must win over any flow, a hand-over
included, so while a conversation is paused a message with one of these intents gets its
fixed answer, `utter_<intent>` (the same response data/rules/safety.yml gives, which
tests/test_content.py holds to this convention). The conversation stays paused and the
recruiter sees both the message and the answer in the transcript.

A request to erase the conversation is honoured in a pause too, never silently dropped:
`delete_my_data` gets the usual question (action_ask_erase_my_data), and a yes or no straight
after it gets action_answer_offer, which erases the desk's records (so the handoff is gone
from the recruiter's queue, and the desk says it was erased at the applicant's request) and
the whole conversation, pause included. A "no" leaves the conversation with the recruiter.

The answer is run directly, not predicted: a paused conversation has no `action_listen`
before the applicant's message, so the rules would not match it. `install()`, called by
`python -m rasa_server`, wraps Rasa's `MessageProcessor._run_prediction_loop` and calls its
`_run_action`: both private, so it refuses any Rasa but the pinned one (rasa_server/versions.py).
Why not a policy or a rule: Rasa asks no policy at all while a conversation is paused
(`MessageProcessor._should_handle_message`; tests/production/test_stock_rasa.py shows it),
so neither could ever answer there (docs/upgrading.md).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable

from contracts.safety import SAFETY_INTENTS
from rasa_server.versions import require
from rasa_server.wrapping import wrap_once

logger = logging.getLogger(__name__)

POLICY_NAME = "PausedSafety"


# Erasure while paused (actions/privacy.py, actions/offers.py).
ERASURE_INTENT = "delete_my_data"
ASK_ERASURE_ACTION = "action_ask_erase_my_data"
ANSWER_ACTION = "action_answer_offer"
YES_OR_NO = frozenset({"affirm", "deny"})
LISTEN = "action_listen"


def safety_intent_while_paused(tracker: Any) -> str | None:
    """The safety intent of a paused conversation's latest message, if it has one."""
    if not tracker.is_paused() or tracker.latest_message is None:
        return None
    intent = tracker.latest_message.intent.get("name")
    return intent if intent in SAFETY_INTENTS else None


def previous_action_name(tracker: Any) -> str | None:
    """The last action before the latest message (action_listen aside), as actions/privacy.py
    reads it, so a stray "yes" later in the pause never erases anything."""
    seen_latest_message = False
    for event in reversed(tracker.events):
        kind = getattr(event, "type_name", None)
        if kind == "user":
            if seen_latest_message:
                return None
            seen_latest_message = True
        elif seen_latest_message and kind == "action" and event.action_name != LISTEN:
            return str(event.action_name)
    return None


def action_while_paused(tracker: Any) -> str | None:
    """What answers the latest message of a paused conversation; None for the recruiter."""
    safety = safety_intent_while_paused(tracker)
    if safety is not None:
        return f"utter_{safety}"
    if not tracker.is_paused() or tracker.latest_message is None:
        return None
    intent = tracker.latest_message.intent.get("name")
    if intent == ERASURE_INTENT:
        return ASK_ERASURE_ACTION
    if intent in YES_OR_NO and previous_action_name(tracker) == ASK_ERASURE_ACTION:
        return ANSWER_ACTION
    return None


def answering_safety_while_paused(
    run_prediction_loop: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Rasa's prediction loop, after the answer a paused conversation still gets."""

    @functools.wraps(run_prediction_loop)
    async def _run_prediction_loop(processor: Any, output_channel: Any, tracker: Any) -> None:
        name = action_while_paused(tracker)
        if name is None:
            return await run_prediction_loop(processor, output_channel, tracker)
        from rasa.core.actions.action import action_for_name_or_text
        from rasa.core.policies.policy import PolicyPrediction

        logger.info("paused_safety.answered action=%s", name)  # no sender id: personal
        action = action_for_name_or_text(name, processor.domain, processor.action_endpoint)
        prediction = PolicyPrediction.for_action_name(processor.domain, name, POLICY_NAME)
        await processor._run_action(action, tracker, output_channel, processor.nlg, prediction)

    return _run_prediction_loop


def install() -> None:
    """Wrap Rasa's message processor's prediction loop (once; safe to call again)."""
    require("paused_safety: MessageProcessor._run_prediction_loop wrapped, _run_action called")
    from rasa.core.processor import MessageProcessor

    wrap_once(MessageProcessor, "_run_prediction_loop", answering_safety_while_paused)
