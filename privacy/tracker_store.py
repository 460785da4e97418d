"""Rasa's SQL tracker store, except that an erasure really erases.

Configure it in endpoints.yml as `type: privacy.tracker_store.ErasingSQLTrackerStore` with
the same keys as `type: SQL`. Why a tracker store: `SQLTrackerStore.save` appends the events
beyond those it finds stored, so rows deleted by an action in the middle of a turn would be
written back, the whole conversation with them, when Rasa saves at the end of the turn.
Here the save itself notices the erasure marker among the conversation's events and deletes
every row of the conversation instead of saving: nothing is written back, and the
applicant's next message starts a new conversation (Rasa keeps no other copy: its lock
store holds locks, not conversations).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from observability.metrics import ERASURES
from privacy import tracker_events
from privacy.erasure import asks_for_erasure
from privacy.log_redaction import redact_rasa_logs

logger = logging.getLogger(__name__)


class ErasingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Loaded by every Rasa server that keeps conversations: the place to make sure Rasa's
        # own logs at INFO and above carry no message text (privacy/log_redaction.py).
        redact_rasa_logs()
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        # The marker is never stored (an erasing save stores nothing), so one in the tracker
        # was added during this turn.
        if asks_for_erasure(tracker.events):
            deleted = self.erase(tracker.sender_id)
            ERASURES.labels(store="tracker").inc()
            logger.info("privacy.erasure.tracker events_deleted=%d", deleted)
            return
        await super().save(tracker)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; how many there were."""
        with self.engine.begin() as db:
            return tracker_events.erase_sender(db, sender_id)

    def ping(self) -> None:
        """Raises if the database cannot be reached (the Rasa server's readiness check)."""
        with self.engine.connect() as db:
            db.execute(sa.text("SELECT 1"))
