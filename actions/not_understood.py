"""What the assistant says when it does not understand (off-topic or low confidence)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import not_understood_in_a_row
from observability.metrics import FALLBACKS

OFFER_AFTER = 2


class ActionNotUnderstood(Action):
    """First ask to rephrase with topic suggestions; the second time in a row, offer a person."""

    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if not_understood_in_a_row(tracker) >= OFFER_AFTER:
            FALLBACKS.labels(reply="offer_recruiter").inc()
            dispatcher.utter_message(response="utter_offer_recruiter")
            return [SlotSet("offer", "recruiter")]
        FALLBACKS.labels(reply="rephrase").inc()
        dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet("offer", None)]
