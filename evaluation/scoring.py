"""Scores on the evaluation sets: what an applicant would have been answered.

Each message ends in one outcome: a topic or intent answered, ``out_of_scope`` (the
assistant says what it covers), "did you mean" (``nlu_fallback`` with topic candidates),
or not understood (``nlu_fallback`` alone: asked to rephrase). The figures, per set:

- topic accuracy: in-scope messages answered with their own topic ("did you mean" counts
  as not answered, even when the right topic is among the choices);
- "did you mean" rate: in-scope messages that got the question instead of an answer;
- confident-wrong: in-scope messages answered with another topic or intent at a
  confidence of 0.9 or more, the intent confidence the parse reports (the answers no
  threshold could have caught);
- off-topic answered: off-topic messages that got a topic's or an intent's answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from rasa.core.agent import Agent
from rasa.utils.log_utils import configure_structlog

from evaluation.heldout import label_of
from evaluation.sets import OFF_TOPIC, SETS, Example

DID_YOU_MEAN = "did you mean"
NOT_UNDERSTOOD = "nlu_fallback"
# Outcomes that answer nothing: never a wrong answer, never an off-topic one answered.
NOT_ANSWERS = frozenset({OFF_TOPIC, NOT_UNDERSTOOD, DID_YOU_MEAN})
CONFIDENT = 0.9


def outcome(parse: Dict[str, Any]) -> Tuple[str, float, List[str]]:
    """(label or outcome, its confidence, "did you mean" candidates) of one parse."""
    intent = parse.get("intent") or {}
    confidence = float(intent.get("confidence") or 0.0)
    candidates = list(parse.get("topic_candidates") or [])
    if intent.get("name") == NOT_UNDERSTOOD and candidates:
        return DID_YOU_MEAN, confidence, candidates
    return label_of(parse), confidence, candidates


@dataclass
class Scored:
    example: Example
    got: str
    confidence: float
    candidates: List[str] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return self.got == self.example.expected

    @property
    def answered(self) -> bool:
        return self.got not in NOT_ANSWERS


@dataclass
class SetReport:
    name: str
    rows: List[Scored]

    @property
    def in_scope(self) -> List[Scored]:
        return [r for r in self.rows if r.example.expected != OFF_TOPIC]

    @property
    def off_topic(self) -> List[Scored]:
        return [r for r in self.rows if r.example.expected == OFF_TOPIC]

    @staticmethod
    def _share(rows: Sequence[Scored], test: Any) -> float | None:
        return sum(1 for r in rows if test(r)) / len(rows) if rows else None

    @property
    def topic_accuracy(self) -> float | None:
        return self._share(self.in_scope, lambda r: r.right)

    @property
    def did_you_mean(self) -> float | None:
        return self._share(self.in_scope, lambda r: r.got == DID_YOU_MEAN)

    @property
    def did_you_mean_offered_right(self) -> float | None:
        asked = [r for r in self.in_scope if r.got == DID_YOU_MEAN]
        return self._share(asked, lambda r: r.example.expected in r.candidates)

    @property
    def confident_wrong(self) -> float | None:
        return self._share(
            self.in_scope, lambda r: r.answered and not r.right and r.confidence >= CONFIDENT
        )

    @property
    def taken_as_off_topic(self) -> float | None:
        return self._share(self.in_scope, lambda r: r.got == OFF_TOPIC)

    @property
    def off_topic_answered(self) -> float | None:
        return self._share(self.off_topic, lambda r: r.answered)

    @property
    def off_topic_did_you_mean(self) -> float | None:
        return self._share(self.off_topic, lambda r: r.got == DID_YOU_MEAN)

    def wrong_answers(self, top: int = 10) -> List[Tuple[Tuple[str, str], int]]:
        """The most frequent (expected, got) pairs among messages answered wrongly."""
        wrong = Counter(
            (r.example.expected, r.got) for r in self.rows if r.answered and not r.right
        )
        return wrong.most_common(top)

    def misses(self) -> List[str]:
        return [
            f"{r.example.text!r}: expected {r.example.expected}, got {r.got} ({r.confidence:.2f})"
            for r in self.rows
            if not r.right and (r.answered or r.example.expected != OFF_TOPIC)
        ]


async def score(agent: Any, name: str, examples: List[Example]) -> SetReport:
    rows = []
    for example in examples:
        got, confidence, candidates = outcome(await agent.parse_message(example.text))
        rows.append(Scored(example, got, confidence, candidates))
    return SetReport(name, rows)


def evaluate_sets(model: Path) -> Dict[str, SetReport]:
    """Every evaluation set scored with the model at `model`."""
    configure_structlog(logging.WARNING)  # not a debug line per parsed message
    agent = Agent.load(str(model))

    async def run() -> Dict[str, SetReport]:
        return {name: await score(agent, name, load()) for name, load in SETS.items()}

    return asyncio.run(run())
