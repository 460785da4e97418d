"""Ask "Did you mean…?" when the understanding has plausible guesses but is not sure.

The NLU marks such a message `nlu_fallback` and lists its guesses, best first, in the parse
data's ``topic_candidates`` (``faq/<topic>`` or a plain intent name). The question offers up to
three of them under their titles, then "Something else", whose payload ``/nlu_fallback`` makes
the next turn an ordinary not-understood one (ask to rephrase, then offer a person): Rasa's
regex handler replaces the whole parse, so that turn carries no guesses of its own.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from actions.conversation import topic_candidates
from actions.topic_titles import payload_of

MAX_CHOICES = 3
SOMETHING_ELSE = {"title": "Something else", "payload": "/nlu_fallback"}


def choices(parse_data: Mapping[str, Any] | None, titles: Mapping[str, str]) -> List[str]:
    """The guesses that can be offered, best first: those with a title, at most three.

    A guess without a title (greetings, yes/no, distress, abuse, a topic not yet titled) is
    never offered."""
    offered: List[str] = []
    for name in topic_candidates(parse_data):
        if name in titles and name not in offered:
            offered.append(name)
    return offered[:MAX_CHOICES]


def buttons(names: List[str], titles: Mapping[str, str]) -> List[Dict[str, str]]:
    """One quick reply per guess, then "Something else"."""
    return [{"title": titles[name], "payload": payload_of(name)} for name in names] + [
        dict(SOMETHING_ELSE)
    ]
