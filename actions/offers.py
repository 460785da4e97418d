"""Understand a plain "yes" or "no" from what the assistant last offered or asked."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent
from actions.desk_client import DeskClient
from actions.handoff_topics import load_handoff_topics, offered_after_answer
from actions.privacy import awaiting_erasure_answer, erase_conversation
from actions.settings import HandoffSettings

RECRUITER = "recruiter"
HANDOFF_ACTION = "action_handoff_to_recruiter"


class ActionAnswerOffer(Action):
    def __init__(self, desk: DeskClient | None = None) -> None:
        self._desk = desk

    def name(self) -> str:
        return "action_answer_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        offer = tracker.get_slot("offer")
        said_yes = latest_intent(tracker) == "affirm"
        if awaiting_erasure_answer(tracker):
            # Only straight after the question: a "yes" to anything else never erases.
            if said_yes:
                return await erase_conversation(dispatcher, tracker, self._desk)
            dispatcher.utter_message(response="utter_erasure_cancelled")
            return [SlotSet("offer", None)]
        if offer != RECRUITER and offered_after_answer(
            tracker, load_handoff_topics(HandoffSettings.from_env().handoff_topics_file)
        ):
            # The answer on a topic that depends on circumstances offered a recruiter.
            offer = RECRUITER
        if offer == RECRUITER and said_yes:
            return [SlotSet("offer", None), FollowupAction(HANDOFF_ACTION)]
        elif offer == RECRUITER:
            dispatcher.utter_message(response="utter_offer_declined")
        else:
            dispatcher.utter_message(response="utter_unclear_yes_no")
        return [SlotSet("offer", None)]
