"""The action that answers "are you hiring?" and "any tech jobs in manchester?".

The search lives in slots, so it survives an FAQ in the middle and can be refined one part at a
time: job_family, location and keyword (filled from entities), and vacancies_shown (how many
of the current search's matches the applicant has seen; None until a search has run).

- search_vacancies naming a family, place or keyword: search, merging with what was already
  asked ("what about London?" keeps the job family) and starting at the first page.
- search_vacancies with nothing to narrow it ("are you hiring?"): start again and ask which
  kind of role, with quick replies of the job families and "Anything".
- more_vacancies ("show more"): the next page of the current search.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent
from actions.settings import CAREERS_URL, SettingsError, VacancySettings
from actions.vacancies import messages
from actions.vacancies.matching import Query, make_query, search
from actions.vacancies.service import current_vacancies, shared_client
from actions.vacancies.vocabulary import (
    ANY,
    ANYWHERE,
    Vocabulary,
    VocabularyError,
    shared_vocabulary,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SEARCH_SLOTS = ("job_family", "location", "keyword")
SHOWN_SLOT = "vacancies_shown"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ActionSearchVacancies(Action):
    def __init__(self, settings: VacancySettings | None = None, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._clock = clock

    def name(self) -> str:
        return "action_search_vacancies"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        try:
            settings = self._settings or VacancySettings.from_env()
            vocabulary = shared_vocabulary()
        except (SettingsError, VocabularyError) as error:
            logger.error("vacancy search is misconfigured: %s", error)
            _send(dispatcher, messages.unavailable(Query(), CAREERS_URL))
            return []
        try:
            return await self._answer(dispatcher, tracker, settings, vocabulary)
        except Exception:  # the applicant always gets an answer, whatever went wrong
            logger.exception("vacancy search failed")
            _send(dispatcher, messages.unavailable(Query(), settings.careers_url))
            return []

    async def _answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        settings: VacancySettings,
        vocabulary: Vocabulary,
    ) -> List[Dict[str, Any]]:
        shown = tracker.get_slot(SHOWN_SLOT)
        paging = latest_intent(tracker) == messages.MORE_INTENT
        if (paging and shown is None) or (not paging and not _narrowing_entities(tracker)):
            _send(dispatcher, messages.ask_job_family(vocabulary))
            return [SlotSet(name, None) for name in (*SEARCH_SLOTS, SHOWN_SLOT)]

        family, place, keyword = (_slot_text(tracker, name) for name in SEARCH_SLOTS)
        query = make_query(vocabulary, family, place, keyword)
        events = _normalised_slots(query, vocabulary, family, place)
        offset = _as_count(shown) if paging else 0

        client = shared_client(settings, vocabulary)
        snapshot = await current_vacancies(client, settings.timeout_s)
        if snapshot is None:
            _send(dispatcher, messages.unavailable(query, settings.careers_url))
            return [*events, SlotSet(SHOWN_SLOT, offset)]

        now = self._clock()
        zone = ZoneInfo(settings.timezone)
        matches = search(snapshot.data, query, now)
        # What was searched for comes from the applicant's words: DEBUG only (docs/privacy.md).
        logger.info("vacancy search: %d of %d postings match", len(matches), len(snapshot.data))
        logger.debug(
            "vacancy search family=%s place=%s keyword=%r", query.family, query.place, query.keyword
        )
        if not matches:
            message = messages.no_matches(query, vocabulary, settings.careers_url, snapshot.stale)
            _send(dispatcher, message)
            return [*events, SlotSet(SHOWN_SLOT, 0)]
        if offset >= len(matches):
            _send(
                dispatcher,
                messages.end_of_list(query, vocabulary, len(matches), settings.careers_url),
            )
            return [*events, SlotSet(SHOWN_SLOT, len(matches))]
        page = messages.results_page(
            matches,
            offset,
            query,
            vocabulary,
            now=now,
            zone=zone,
            careers_url=settings.careers_url,
            stale=snapshot.stale,
        )
        _send(dispatcher, page.message)
        return [*events, SlotSet(SHOWN_SLOT, offset + page.shown)]


def _narrowing_entities(tracker: Tracker) -> bool:
    entities = (tracker.latest_message or {}).get("entities") or []
    return any(entity.get("entity") in SEARCH_SLOTS for entity in entities)


def _slot_text(tracker: Tracker, name: str) -> str | None:
    value = tracker.get_slot(name)
    if isinstance(value, list):  # several entities of one kind: the first one asked for
        value = value[0] if value else None
    return (str(value).strip() or None) if value is not None else None


def _as_count(value: Any) -> int:
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        return 0


def _normalised_slots(
    query: Query, vocabulary: Vocabulary, family: str | None, place: str | None
) -> List[Dict[str, Any]]:
    """Slots as the search understood them, so the next refinement starts from those."""
    chose_any_family = family is not None and vocabulary.family(family) == ANY
    chose_anywhere = place is not None and vocabulary.place(place) == ANYWHERE
    return [
        SlotSet("job_family", query.family or (ANY if chose_any_family else None)),
        SlotSet("location", query.place_label or (ANYWHERE if chose_anywhere else None)),
        SlotSet("keyword", query.keyword or None),
    ]


def _send(dispatcher: CollectingDispatcher, message: messages.Message) -> None:
    dispatcher.utter_message(text=message.text, buttons=message.buttons)
