"""The safety intents: those whose fixed answer no flow may hold back.

Read from the rules that answer them, data/rules/safety.yml, where each rule is an intent
answered by `utter_<intent>`, so adding a safety intent to that file is all it takes for the
Rasa server (answers in a paused conversation, rasa_server/paused_safety.py), the NLU
components (components/), the desk's transcripts, the insights and the tests to treat it as
one. A rule in that file that is not shaped so is an error at import, not a silent gap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import yaml

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "rules" / "safety.yml"


class SafetyRulesError(ValueError):
    """data/rules/safety.yml has a rule that is not one intent answered by its utter_."""


def _intent_answered(rule: Any, path: Path) -> str:
    steps = rule.get("steps") if isinstance(rule, dict) else None
    name = rule.get("rule", "?") if isinstance(rule, dict) else "?"
    if (
        not isinstance(steps, list)
        or len(steps) != 2
        or set(steps[0]) != {"intent"}
        or steps[1] != {"action": f"utter_{steps[0]['intent']}"}
    ):
        raise SafetyRulesError(
            f"{path}: rule {name!r} must be two steps, `intent: X` then `action: utter_X`."
        )
    return str(steps[0]["intent"])


def safety_intents_from(path: Path = RULES_FILE) -> Tuple[str, ...]:
    """The intents the safety rules answer, in the file's order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules: List[Any] = document.get("rules") or []
    intents = tuple(_intent_answered(rule, path) for rule in rules)
    if not intents:
        raise SafetyRulesError(f"{path} has no safety rules.")
    return intents


SAFETY_RULE_ORDER = safety_intents_from()
SAFETY_INTENTS = frozenset(SAFETY_RULE_ORDER)
