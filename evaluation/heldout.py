"""Held-out accuracy: how often the trained model gets paraphrases it never saw.

A message's *label* is its topic: the FAQ response key (``faq/process_vetting``) for FAQ
questions, the intent otherwise. Out-of-scope recall counts an off-topic message as caught
when the model says ``out_of_scope`` or falls back (``nlu_fallback``): either way the
applicant is asked to rephrase rather than given a wrong answer.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from rasa.shared.nlu.training_data.loading import load_data

HELDOUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "nlu"
OUT_OF_SCOPE = "out_of_scope"
# The test gates (tests/test_nlu_heldout.py); the benchmark's targets are higher
# (BENCHMARKS.md). Issue 2 set 90% for topic accuracy; since the open-set decision (issue 14)
# a question the model is unsure of gets "did you mean" instead of a guess, which counts as
# not answered here, and the measured figure is 90.1%: the floor sits a little under it.
TOPIC_ACCURACY_FLOOR = 0.88
OUT_OF_SCOPE_RECALL_FLOOR = 0.85
CAUGHT_AS_OUT_OF_SCOPE = {OUT_OF_SCOPE, "nlu_fallback"}


def label_of(parse: Dict[str, Any]) -> str:
    intent = (parse.get("intent") or {}).get("name") or ""
    if intent == "faq":
        selected = parse.get("response_selector", {}).get("faq", {}).get("response", {})
        return selected.get("intent_response_key") or "faq"
    return intent


def load_examples(directory: Path = HELDOUT_DIR) -> List[Tuple[str, str]]:
    """(text, expected label) for every held-out example."""
    data = load_data(str(directory))
    return [(message.get("text"), message.get_full_intent()) for message in data.intent_examples]


@dataclass
class HeldoutReport:
    results: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    @property
    def in_scope(self) -> List[Tuple[str, str, str]]:
        return [r for r in self.results if r[1] != OUT_OF_SCOPE]

    @property
    def topic_accuracy(self) -> float:
        rows = self.in_scope
        return sum(expected == got for _, expected, got in rows) / max(len(rows), 1)

    @property
    def out_of_scope_recall(self) -> float:
        rows = [r for r in self.results if r[1] == OUT_OF_SCOPE]
        return sum(got in CAUGHT_AS_OUT_OF_SCOPE for _, _, got in rows) / max(len(rows), 1)

    def per_label_accuracy(self) -> Dict[str, float]:
        totals: Counter = Counter()
        right: Counter = Counter()
        for _, expected, got in self.results:
            totals[expected] += 1
            right[expected] += expected == got or (
                expected == OUT_OF_SCOPE and got in CAUGHT_AS_OUT_OF_SCOPE
            )
        return {label: right[label] / totals[label] for label in sorted(totals)}

    def mistakes(self) -> Dict[str, List[Tuple[str, str]]]:
        wrong: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
        for text, expected, got in self.results:
            caught = expected == OUT_OF_SCOPE and got in CAUGHT_AS_OUT_OF_SCOPE
            if expected != got and not caught:
                wrong[expected].append((text, got))
        return dict(wrong)


async def evaluate(agent: Any, examples: List[Tuple[str, str]]) -> HeldoutReport:
    report = HeldoutReport()
    for text, expected in examples:
        parse = await agent.parse_message(text)
        report.results.append((text, expected, label_of(parse)))
    return report


def evaluate_model(model: Path) -> HeldoutReport:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return asyncio.run(evaluate(agent, load_examples()))
