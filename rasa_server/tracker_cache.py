"""Conversations kept in memory between turns, checked against the database before use.

Rasa's SQL tracker store rebuilds the whole conversation from its stored events on every
message: each event is parsed from JSON, turned back into an event and replayed. That work
grows with the conversation's length (about a quarter of the Rasa server's time in the
benchmark's longer conversations, by py-spy). The tracker Rasa saves at the end of a turn
is the same one the next turn would rebuild, so the store keeps it and hands it out again,
but only while the conversation's *fingerprint* in the database (how many events it has
and the highest event id) is still the one seen when it was saved. Any other writer changes
the fingerprint: another replica, an event appended through the HTTP API, an erasure or the
purge (deleting rows lowers the count; adding rows raises the highest id).

A tracker is lent to one caller at a time: taking it out removes it, and only a tracker
this cache lent, saved with exactly the events added since, goes back in. A turn that
fails before saving leaves nothing behind, so the next turn reads the database.

Conversations are messages people wrote, so none stays longer than needed: one idle for
``idle_seconds`` is dropped when the cache is next used, as is the least recently used
one beyond ``size``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Tuple

from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

# (number of stored events, highest event id) of one conversation.
Fingerprint = Tuple[int, int | None]


@dataclass(frozen=True)
class _Entry:
    tracker: DialogueStateTracker
    fingerprint: Fingerprint
    length: int  # len(tracker.events) when stored or lent
    at: float  # when stored or lent (the cache's clock)


class TrackerCache:
    """At most ``size`` conversations, the least recently used dropped first."""

    def __init__(
        self,
        size: int,
        idle_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._kept: OrderedDict[str, _Entry] = OrderedDict()
        self._lent: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        self._drop_idle()
        return len(self._kept)

    def take(self, sender_id: str, fingerprint: Fingerprint) -> DialogueStateTracker | None:
        """The kept tracker if the database still holds exactly what it was saved with."""
        self._drop_idle()
        entry = self._kept.pop(sender_id, None)
        if entry is None or entry.fingerprint != fingerprint:
            return None
        if len(entry.tracker.events) != entry.length:  # changed after it was saved
            return None
        self.lend(sender_id, entry.tracker, fingerprint)
        return entry.tracker

    def lend(self, sender_id: str, tracker: DialogueStateTracker, fingerprint: Fingerprint) -> None:
        """Remember a tracker read at ``fingerprint``, so that saving it can keep it."""
        self._kept.pop(sender_id, None)
        self._put(self._lent, sender_id, self._entry(tracker, fingerprint))

    def lent_at(
        self, sender_id: str, tracker: DialogueStateTracker
    ) -> Tuple[Fingerprint, int] | None:
        """If this cache lent ``tracker``: the fingerprint then, and how many events it had."""
        lent = self._lent.get(sender_id)
        if lent is None or lent.tracker is not tracker:
            return None
        return lent.fingerprint, lent.length

    def saved(
        self, sender_id: str, tracker: DialogueStateTracker, fingerprint: Fingerprint
    ) -> None:
        """After a save: keep the tracker if it now equals what the database would rebuild."""
        lent = self._lent.pop(sender_id, None)
        self._kept.pop(sender_id, None)
        if lent is None or lent.tracker is not tracker:
            return  # built elsewhere (a new conversation, events replaced over HTTP)
        added = len(tracker.events) - lent.length
        if fingerprint[0] - lent.fingerprint[0] != added:
            return  # someone else wrote to the conversation during the turn
        if not _is_latest_session_only(tracker):
            return  # a rebuild would leave out the events before the latest session start
        self._put(self._kept, sender_id, self._entry(tracker, fingerprint))

    def forget(self, sender_id: str) -> None:
        self._kept.pop(sender_id, None)
        self._lent.pop(sender_id, None)

    def clear(self) -> None:
        self._kept.clear()
        self._lent.clear()

    def _entry(self, tracker: DialogueStateTracker, fingerprint: Fingerprint) -> _Entry:
        return _Entry(tracker, fingerprint, len(tracker.events), self._clock())

    def _drop_idle(self) -> None:
        # Least recently used first, so the idle ones are at the front.
        oldest = self._clock() - self.idle_seconds
        for entries in (self._kept, self._lent):
            while entries and next(iter(entries.values())).at < oldest:
                entries.popitem(last=False)

    def _put(self, entries: OrderedDict[str, _Entry], sender_id: str, entry: _Entry) -> None:
        self._drop_idle()
        if self.size <= 0:
            return
        entries[sender_id] = entry
        entries.move_to_end(sender_id)
        while len(entries) > self.size:
            entries.popitem(last=False)


def _is_latest_session_only(tracker: DialogueStateTracker) -> bool:
    """True if Rasa's SQL store would rebuild exactly these events from the stored rows.

    It reads the rows stamped no earlier than the latest `session_started` (all of them if
    there is none), so a turn that started a new session, or an event stamped before that
    start, makes the rebuild differ from this tracker.
    """
    starts = [event.timestamp for event in tracker.events if isinstance(event, SessionStarted)]
    if not starts:
        return True
    latest = max(starts)
    return all(event.timestamp >= latest for event in tracker.events)
