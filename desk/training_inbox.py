"""The trainers' inbox as the desk sees it: the tracker store's missed messages, less what
trainers already decided and plus what recruiters flagged, both read from the desk's own
tables (desk/training_store.py). The Training page and `make inbox` read it here."""

from __future__ import annotations

from typing import List, Tuple

from desk.storage import make_engine
from desk.training_store import TrainingStore
from training.inbox_groups import Inbox, InboxQuery, inbox_from_tracker, missing_sqlite_file
from training.inbox_settings import InboxSettings
from training.missed_messages import FlaggedMessage, Flags


def collect(settings: InboxSettings, query: InboxQuery) -> Inbox:
    """The inbox from the tracker store and the desk's decisions and flags."""
    if missing_sqlite_file(settings.tracker_url):
        return Inbox(items=[])  # no conversation yet; connecting would create the file
    decided, flagged = decisions_and_flags(settings.desk_url, query.since)
    return inbox_from_tracker(settings.tracker_url, query, decided, Flags(flagged))


def decisions_and_flags(
    desk_url: str, since: float | None
) -> Tuple[List[str], List[FlaggedMessage]]:
    """The texts trainers decided on, and the messages recruiters flagged since `since`."""
    # A desk that never ran has no decisions or flags (and reading creates no file).
    if missing_sqlite_file(desk_url):
        return [], []
    engine = make_engine(desk_url)
    try:
        training = TrainingStore(engine)
        decided = [decision.text for decision in training.decisions()]
        flagged = [
            FlaggedMessage(flag.sender_id, flag.message_at, flag.text)
            for flag in training.flags(since)
        ]
        return decided, flagged
    finally:
        engine.dispose()
