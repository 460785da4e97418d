"""Events rebuilt from storage get the same classes with the remembered lookup
(rasa_server/event_types.py) as with Rasa's own."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from rasa_server import event_types

RASAS_OWN = getattr(Event.resolve_by_type, "__wrapped__", Event.resolve_by_type)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Undone afterwards: this test process is not a Rasa server.
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(RASAS_OWN))
    monkeypatch.setattr(event_types, "_FOUND", {})
    event_types.install()


def test_every_event_type_resolves_to_the_class_rasa_gives(installed: None) -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for _ in range(2):  # found, then remembered
        for name in names:
            assert Event.resolve_by_type(name) is RASAS_OWN(name), name


def test_stored_events_come_back_as_the_same_events(installed: None) -> None:
    events = [
        SessionStarted(),
        UserUttered("how old do I have to be", intent={"name": "faq", "confidence": 0.9}),
        SlotSet("location", "Leeds"),
    ]
    rebuilt = [Event.from_parameters(event.as_dict()) for event in events]
    assert rebuilt == events


def test_unknown_names_are_still_rasas_to_answer(installed: None) -> None:
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None  # Rasa's old TopicSet events


def test_an_event_class_imported_later_is_found(installed: None) -> None:
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet

    class LateEvent(SlotSet):
        type_name = "late_event_for_this_test"

    assert Event.resolve_by_type("late_event_for_this_test") is LateEvent


def test_installing_twice_wraps_once(installed: None) -> None:
    event_types.install()
    assert Event.resolve_by_type.__wrapped__ is RASAS_OWN
