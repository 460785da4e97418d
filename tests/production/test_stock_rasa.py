"""Stock Rasa 3.6.21 still does what each of our patches is there for (docs/upgrading.md).

Each test calls Rasa's own code, never ours, and shows the problem. When one fails after an
upgrade, Rasa has changed there: the patch may no longer be needed (or no longer fits).
Speed-only patches are shown by what the stock code does on every call; their measured
effect is in BENCHMARKS.md ("Patches of private APIs: A/B").
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List
from unittest import mock

import jsonschema
import pytest
from rasa.core import agent as rasa_agent
from rasa.core.actions import action as rasa_actions
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.lock_store import LOCK_LIFETIME
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils import common as rasa_common
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from contracts.safety import SAFETY_INTENTS
from scripts.stack import free_port

STOCK_RUN_PREDICTION_LOOP = getattr(
    MessageProcessor._run_prediction_loop,
    "__wrapped__",
    MessageProcessor._run_prediction_loop,
)
STOCK_RESOLVE_BY_TYPE = getattr(Event.resolve_by_type, "__wrapped__", Event.resolve_by_type)


def paused_tracker(intent: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "rest:applicant",
        [
            ActionExecuted("action_listen"),
            ConversationPaused(),
            UserUttered("text", intent={"name": intent, "confidence": 1.0}),
        ],
    )


async def test_action_calls_stock_rasa_waits_longer_than_the_lock_and_then_raises() -> None:
    """action_calls: Rasa waits 300 s, past the 60 s lock, and a failed call raises (the
    processor then logs it and sends the applicant nothing)."""
    assert DEFAULT_REQUEST_TIMEOUT > LOCK_LIFETIME
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    stock = RemoteAction("action_search_vacancies", endpoint)
    tracker = DialogueStateTracker("rest:applicant", [])
    with pytest.raises(Exception, match="Failed to execute custom action"):
        await stock.run(mock.Mock(), mock.Mock(), tracker, Domain.empty())


def test_validator_cache_stock_rasa_checks_the_schema_itself_on_every_answer() -> None:
    """validator_cache: `jsonschema.validate` is called, meta-schema check and all, per call."""
    stock = RemoteAction("action_search_vacancies", None)
    answer: Dict[str, Any] = {"events": [], "responses": []}
    with mock.patch.object(jsonschema, "validate", wraps=jsonschema.validate) as validate:
        for _ in range(3):
            stock._validate_action_result(answer)
    assert validate.call_count == 3


def test_tracker_store_errors_rasa_still_finds_the_wrapper_by_its_module_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tracker_store_errors rebinds `rasa.core.agent.FailSafeTrackerStore` (Rasa's wrapper
    hides a failed read: test_tracker_store_errors.py); that only works while the agent
    looks the name up when it builds its store."""

    class Marker(FailSafeTrackerStore):
        pass

    monkeypatch.setattr(rasa_agent, "FailSafeTrackerStore", Marker)
    agent = Agent(domain=Domain.empty(), tracker_store=InMemoryTrackerStore(Domain.empty()))
    assert type(agent.tracker_store) is Marker


def test_action_calls_rasa_still_finds_the_action_class_by_its_module_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """action_calls rebinds `rasa.core.actions.action.RemoteAction`."""

    class Marker(RemoteAction):
        pass

    monkeypatch.setattr(rasa_actions, "RemoteAction", Marker)
    domain = Domain.from_dict({"actions": ["action_search_vacancies"]})
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook")
    built = rasa_actions.action_for_name_or_text("action_search_vacancies", domain, endpoint)
    assert type(built) is Marker


@pytest.mark.parametrize("intent", sorted(SAFETY_INTENTS))
async def test_paused_safety_stock_rasa_predicts_nothing_in_a_paused_conversation(
    intent: str,
) -> None:
    """paused_safety: no policy is even asked while a recruiter has the conversation, so no
    policy or rule could answer a safety intent there (hence the wrapped loop)."""
    asked: List[str] = []
    processor = SimpleNamespace(
        _should_handle_message=MessageProcessor._should_handle_message,
        predict_next_with_tracker_if_should=lambda tracker: asked.append("policy"),
    )
    await STOCK_RUN_PREDICTION_LOOP(processor, mock.Mock(), paused_tracker(intent))
    assert asked == []


def test_event_types_stock_rasa_lists_every_event_class_for_each_event() -> None:
    """event_types: each stored event rebuilt walks Rasa's whole class tree again."""
    with mock.patch.object(rasa_common, "all_subclasses", wraps=rasa_common.all_subclasses) as walk:
        for _ in range(5):
            STOCK_RESOLVE_BY_TYPE("user")
    assert walk.call_count >= 5


def test_ops_stock_rasa_offers_no_way_to_reach_the_store_behind_its_wrappers() -> None:
    """ops: the agent's store is Rasa's wrapper, with no ping or engine of its own."""
    store = AwaitableTrackerStore(InMemoryTrackerStore(Domain.empty()))
    assert not hasattr(store, "ping") and not hasattr(store, "engine")
