"""Answers whose quick replies run an intent with entities (JSON payloads) go out as written,
and no slot value reaches the error log (rasa_server/response_payloads.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, MutableMapping

import pytest
import structlog
from rasa.core.nlg import TemplatedNaturalLanguageGenerator, interpolator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.io import read_yaml_file

from rasa_server import response_payloads

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "utter_faq/roles_technology"  # its "Tech vacancies" button carries JSON
RASAS_OWN = getattr(interpolator.interpolate_text, "__wrapped__", interpolator.interpolate_text)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Undone afterwards: this test process is not a Rasa server.
    monkeypatch.setattr(interpolator, "interpolate_text", RASAS_OWN)
    response_payloads.install()
    response_payloads.install()  # a second call changes nothing


def generate(
    name: str, slots: Dict[str, Any]
) -> tuple[Dict[str, Any], List[MutableMapping[str, Any]]]:
    """The answer as Rasa's NLG renders it for a conversation with these slots, and its logs."""
    responses = read_yaml_file(ROOT / "data" / "responses" / "roles.yml")["responses"]
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("applicant", [], slots=domain.slots)
    for slot, value in slots.items():
        tracker.update(SlotSet(slot, value))
    nlg = TemplatedNaturalLanguageGenerator(responses)
    with structlog.testing.capture_logs() as logs:
        answer = asyncio.run(nlg.generate(name, tracker, "rest"))
    assert answer is not None
    return answer, logs


def payloads(answer: Dict[str, Any]) -> List[str]:
    return [button["payload"] for button in answer.get("buttons", [])]


def test_a_json_payload_goes_out_as_written_and_nothing_is_logged(installed: None) -> None:
    answer, logs = generate(ANSWER, {"location": "Leeds"})

    assert payloads(answer)[0] == '/search_vacancies{"job_family":"technology"}'
    assert logs == []


def test_rasas_own_interpolator_logs_an_error_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # What install() prevents: without it, the same answer logs an error.
    monkeypatch.setattr(interpolator, "interpolate_text", RASAS_OWN)
    _, logs = generate(ANSWER, {"location": "Leeds"})
    assert [log["event"] for log in logs] == ["interpolator.interpolate.text"]


def test_slot_placeholders_in_answers_are_still_filled(installed: None) -> None:
    filled = interpolator.interpolate({"text": "Jobs in {location}"}, {"location": "Leeds"})
    assert filled == {"text": "Jobs in Leeds"}
