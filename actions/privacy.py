"""Erasing an applicant's conversation on request: ask first, then erase both stores.

`delete_my_data` runs action_ask_erase_my_data: it says what erasing covers and asks to
confirm. The yes or no is a plain affirm or deny, answered by action_answer_offer, which
erases only when the question was the assistant's last action, so a stray "yes" later on
never erases anything. Erasing asks the desk to delete the applicant's records (its service
API, DELETE /api/applicants/<id>, tried twice), then sets the erasure marker; the tracker
store deletes the conversation when Rasa saves the turn (rasa_server/tracker_store.py), so
nothing of it is written back. If the desk cannot erase, nothing is erased, the applicant is
told to ask again later, and the failure is logged. See docs/privacy.md.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.desk_client import DeskClient, DeskUnavailable
from actions.settings import HandoffSettings
from observability.metrics import ERASURES
from privacy.erasure import ERASED_SLOT
from privacy.retention import DEFAULT_RETENTION_DAYS, SettingsError, days_text, retention_days

logger = logging.getLogger(__name__)

ASK_ACTION = "action_ask_erase_my_data"
ERASE = "erase"  # the `offer` slot while the question is open
LISTEN = "action_listen"


def previous_action(tracker: Tracker) -> str | None:
    """What the assistant did last before the applicant's latest message."""
    seen_latest_message = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_message:
                return None
            seen_latest_message = True
        elif seen_latest_message and kind == "action" and event.get("name") != LISTEN:
            return event.get("name")
    return None


def awaiting_erasure_answer(tracker: Tracker) -> bool:
    return previous_action(tracker) == ASK_ACTION


class ActionAskEraseMyData(Action):
    def name(self) -> str:
        return ASK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        try:
            days = retention_days()
        except SettingsError as error:
            logger.error("privacy settings: %s", error)
            days = DEFAULT_RETENTION_DAYS
        dispatcher.utter_message(response="utter_ask_erase_my_data", days=days_text(days))
        return [SlotSet("offer", ERASE)]


async def erase_conversation(
    dispatcher: CollectingDispatcher, tracker: Tracker, desk: DeskClient | None = None
) -> List[Dict[str, Any]]:
    """Erase the desk's records, then mark the conversation for the tracker store to erase."""
    client = desk or DeskClient(HandoffSettings.from_env())
    try:
        done = await client.erase_applicant(tracker.sender_id)
    except DeskUnavailable as error:
        # The reason names no applicant (desk_client.py keeps the id out of its messages).
        logger.error("privacy.erasure.desk_failed error=%s", error)
        dispatcher.utter_message(response="utter_erasure_failed")
        return [SlotSet("offer", None)]
    ERASURES.labels(store="desk").inc()
    logger.info(
        "privacy.erasure.desk handoffs_deleted=%d rows_deleted=%d", done.handoffs, done.rows
    )
    dispatcher.utter_message(response="utter_data_erased")
    return [SlotSet("offer", None), SlotSet(ERASED_SLOT, True)]
