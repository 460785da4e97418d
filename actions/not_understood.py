"""The assistant's two "no"s: an off-topic message, and a message it did not understand.

Off-topic (`out_of_scope`) was understood: it gets what the assistant covers, never a request
to rephrase, and never counts towards offering a person. Not understood (`nlu_fallback`): with
the NLU's guesses, "Did you mean…?" (actions/did_you_mean.py); without, a request to rephrase,
and the second in a row an offer of a person.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import did_you_mean
from actions.conversation import not_understood_in_a_row, topic_candidates
from actions.topic_titles import TOPIC_TITLES_FILE, load_topic_titles
from observability.metrics import FALLBACKS

logger = logging.getLogger(__name__)

OFFER_AFTER = 2


class ActionNotUnderstood(Action):
    """Did you mean…? when there are guesses; else rephrase, and the second time offer a person."""

    def __init__(self, titles_file: Path = TOPIC_TITLES_FILE) -> None:
        self._titles_file = titles_file

    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if topic_candidates(tracker.latest_message):
            # Read each time, like the other trainer-edited files: an edit needs no restart.
            titles = load_topic_titles(self._titles_file)
            names = did_you_mean.choices(tracker.latest_message, titles)
            if names:
                FALLBACKS.labels(reply="did_you_mean").inc()
                dispatcher.utter_message(
                    response="utter_did_you_mean", buttons=did_you_mean.buttons(names, titles)
                )
                return [SlotSet("offer", None)]
            logger.warning("No guess of the NLU has a title in %s", self._titles_file)
        if not_understood_in_a_row(tracker) >= OFFER_AFTER:
            FALLBACKS.labels(reply="offer_recruiter").inc()
            dispatcher.utter_message(response="utter_offer_recruiter")
            return [SlotSet("offer", "recruiter")]
        FALLBACKS.labels(reply="rephrase").inc()
        dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet("offer", None)]


class ActionOffTopic(Action):
    """Say what the assistant covers; an off-topic message was understood, so no rephrasing."""

    def name(self) -> str:
        return "action_off_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        FALLBACKS.labels(reply="off_topic").inc()
        dispatcher.utter_message(response="utter_out_of_scope")
        # A "yes" after this answers nothing offered before it.
        return [SlotSet("offer", None)]
