"""A tracker store error refuses the message instead of Rasa's silent in-memory fallback.

The live proof is tests/production/test_faults.py (PostgreSQL restarted mid-load); these check
the wrapper itself without servers.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from rasa.core import agent as rasa_agent
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_server import tracker_store_errors
from rasa_server.tracker_store_errors import StrictTrackerStore


class DatabaseDown(Exception):
    pass


class BrokenStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id: str) -> Any:
        raise DatabaseDown

    async def retrieve_full_tracker(self, sender_id: str) -> Any:
        raise DatabaseDown

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise DatabaseDown

    async def keys(self) -> Any:
        raise DatabaseDown


@pytest.fixture
def installed() -> Iterator[None]:
    original = rasa_agent.FailSafeTrackerStore
    tracker_store_errors.install()
    yield
    rasa_agent.FailSafeTrackerStore = original


async def test_rasa_alone_hides_the_error_and_answers_from_memory() -> None:
    """Why the wrapper exists: Rasa's own treats a failed read as a new conversation."""
    store = FailSafeTrackerStore(BrokenStore(Domain.empty()))
    assert await store.retrieve("applicant") is None
    await store.save(DialogueStateTracker("applicant", []))  # no error: it went to memory


async def test_every_store_operation_lets_the_error_through() -> None:
    store = StrictTrackerStore(BrokenStore(Domain.empty()))
    with pytest.raises(DatabaseDown):
        await store.retrieve("applicant")
    with pytest.raises(DatabaseDown):
        await store.retrieve_full_tracker("applicant")
    with pytest.raises(DatabaseDown):
        await store.save(DialogueStateTracker("applicant", []))
    with pytest.raises(DatabaseDown):
        await store.keys()


async def test_a_working_store_works_through_it() -> None:
    store = StrictTrackerStore(InMemoryTrackerStore(Domain.empty()))
    await store.save(DialogueStateTracker("applicant", []))
    found = await store.retrieve("applicant")
    assert found is not None and found.sender_id == "applicant"
    assert list(await store.keys()) == ["applicant"]


def test_installed_the_agent_wraps_its_store_in_it(installed: None) -> None:
    wrapped = Agent._create_tracker_store(InMemoryTrackerStore(Domain.empty()), Domain.empty())
    assert isinstance(wrapped, StrictTrackerStore)
