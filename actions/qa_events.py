"""Tell applicants when the next live Q&As are."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.qa_schedule import QaEvent, ScheduleError, load_schedule, upcoming
from actions.settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def uk_time(moment: datetime, zone: str) -> str:
    """Format as people in the UK write it: "Thursday 14 January 2027, 6pm (UK time)"."""
    local = moment.astimezone(ZoneInfo(zone))
    hour = local.strftime("%I").lstrip("0")
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    return (
        f"{local:%A} {local.day} {local:%B %Y}, {hour}{minutes}{local:%p}".replace(
            "AM", "am"
        ).replace("PM", "pm")
        + " (UK time)"
    )


class ActionShowQaEvents(Action):
    def __init__(self, settings: Settings | None = None, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        return "action_show_qa_events"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        settings = self._settings or Settings.from_env()
        try:
            events = upcoming(load_schedule(settings.qa_events_file), self._clock())
        except ScheduleError:
            logger.exception("Q&A schedule unreadable")
            events = []
        if not events:
            dispatcher.utter_message(response="utter_no_qa_events")
            return []
        dispatcher.utter_message(text=_describe(events, settings.timezone))
        return []


def _describe(events: List[QaEvent], zone: str) -> str:
    lines = [f"- {event.title}: {uk_time(event.starts, zone)}, {event.where}" for event in events]
    heading = "The next live Q&A is:" if len(events) == 1 else "Coming up:"
    return "\n".join([heading, *lines, "Bring your questions about careers at MI5."])
