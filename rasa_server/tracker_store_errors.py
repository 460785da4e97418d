"""Tracker store errors reach the channel, instead of a silent in-memory fallback.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore` (rasa/core/agent.py,
`Agent._create_tracker_store`). When the database fails, its `retrieve` answers None, so the
message is handled as the first of a new conversation, without its history, and its `save`
writes to an in-memory store, logging the database error (with the statement's parameters:
what the applicant wrote). The applicant gets a 200 and an answer that is never stored; with
several replicas that in-memory copy is not even on the replica that takes the next message.
tests/production/test_faults.py saw it in every conversation of a PostgreSQL restart.

`install()` (called by `python -m rasa_server`) puts a subclass in its place that lets the
error through: the message is refused (channels/reliable_rest.py answers 503 with
Retry-After, so the client sends it again) and nothing is answered that is not stored.
Rasa offers no setting for the wrapper, so the module name `rasa.core.agent.FailSafeTrackerStore`
is rebound: a private API, guarded by rasa_server/versions.py (docs/upgrading.md).
"""

from __future__ import annotations

from typing import Iterable

from rasa.core import agent as rasa_agent
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server.versions import require


class StrictTrackerStore(FailSafeTrackerStore):
    """The wrapper Rasa expects (it reads `_tracker_store` through it), with no fallback."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    async def keys(self) -> Iterable[str]:
        return await self._tracker_store.keys()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._tracker_store.save(tracker)


def install() -> None:
    """Make the Rasa agent wrap its tracker store in StrictTrackerStore."""
    require("tracker_store_errors: FailSafeTrackerStore rebound")
    rasa_agent.FailSafeTrackerStore = StrictTrackerStore
