"""Erasing an applicant's conversation on request: ask first, then erase both stores.

`delete_my_data` runs action_ask_erase_my_data: it says what erasing covers and asks to
confirm. The yes or no is a plain affirm or deny, answered by action_answer_offer, which
erases only when the question was the assistant's last action, so a stray "yes" later on
never erases anything. Erasing deletes the applicant's desk records here, then sets the
erasure marker; the tracker store deletes the conversation when Rasa saves the turn
(rasa_server/tracker_store.py), so nothing of it is written back. See docs/privacy.md.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine

from actions.settings import HandoffSettings
from desk.storage import make_engine
from observability.metrics import ERASURES
from privacy import desk_records
from privacy.erasure import ERASED_SLOT
from privacy.settings import DEFAULT_RETENTION_DAYS, SettingsError, days_text, retention_days

logger = logging.getLogger(__name__)

ASK_ACTION = "action_ask_erase_my_data"
ERASE = "erase"  # the `offer` slot while the question is open
LISTEN = "action_listen"

_engines: Dict[str, Engine] = {}
_lock = threading.Lock()


def _engine(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


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
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    database_url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> List[Dict[str, Any]]:
    """Erase the desk's records, then mark the conversation for the tracker store to erase."""
    url = database_url or HandoffSettings.from_env().database_url
    loop = asyncio.get_running_loop()
    try:
        done = await loop.run_in_executor(
            None, desk_records.erase_sender, _engine(url), tracker.sender_id, clock()
        )
    except Exception as error:
        # Not the error's text: SQLAlchemy's carries the statement's parameters (the sender id).
        logger.error("privacy.erasure.desk_failed error=%s", type(error).__name__)
        dispatcher.utter_message(response="utter_erasure_failed")
        return [SlotSet("offer", None)]
    ERASURES.labels(store="desk").inc()
    logger.info(
        "privacy.erasure.desk handoffs_deleted=%d rows_deleted=%d",
        done.handoffs_deleted,
        done.rows_deleted,
    )
    dispatcher.utter_message(response="utter_data_erased")
    return [SlotSet("offer", None), SlotSet(ERASED_SLOT, True)]
