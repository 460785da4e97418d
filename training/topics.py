"""The topic naming rules of ../shared/brief/taxonomy.md and where each area's files live.

Written once here so the labelling tool and the checks refuse and accept exactly the same names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

FAQ_INTENT = "faq"
FAQ_PREFIX = f"{FAQ_INTENT}/"
RESPONSE_PREFIX = f"utter_{FAQ_INTENT}/"

# Topic prefix -> area file stem under data/nlu/ and data/responses/ (the taxonomy's sections).
AREAS: Dict[str, str] = {
    "eligibility": "eligibility",
    "process": "process",
    "roles": "roles",
    "life": "working_life",
    "myth": "about",
    "about": "about",
    "public": "public",  # About MI5, not careers: signposts to the official route
}
MAX_TOPIC_CHARS = 40
TOPIC_NAME = re.compile(r"(?P<prefix>[a-z]+)_[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
NAMING_RULES = (
    "topic names are lowercase snake_case (letters, digits and single underscores) that start "
    f"with their area, one of {', '.join(p + '_' for p in AREAS)}, and are at most "
    f"{MAX_TOPIC_CHARS} characters, e.g. process_vetting"
)


@dataclass(frozen=True)
class Layout:
    """Where the content lives, relative to a project root (a copy of it in tests)."""

    root: Path

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> Layout:
        return cls(Path(data_dir).resolve().parent)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def nlu(self) -> Path:
        return self.data / "nlu"

    @property
    def responses(self) -> Path:
        return self.data / "responses"

    @property
    def rules(self) -> Path:
        return self.data / "rules"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def entity_patterns(self) -> Path:
        return self.data / "entity_patterns.jsonl"

    @property
    def heldout(self) -> Path:
        return self.root / "tests" / "nlu"

    @property
    def test_stories(self) -> Path:
        return self.root / "tests" / "stories"

    @property
    def faq_test_stories(self) -> Path:
        return self.test_stories / "test_faq_topics.yml"

    def nlu_file(self, area: str) -> Path:
        return self.nlu / f"{area}.yml"

    def responses_file(self, area: str) -> Path:
        return self.responses / f"{area}.yml"

    def heldout_file(self, area: str) -> Path:
        return self.heldout / f"heldout_{area}.yml"

    def relative(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def naming_problem(name: str) -> str | None:
    """Why `name` breaks the naming rules, or None when it follows them."""
    match = TOPIC_NAME.fullmatch(name)
    if not match or match.group("prefix") not in AREAS:
        return f"{name!r} breaks the naming rules: {NAMING_RULES}"
    if len(name) > MAX_TOPIC_CHARS:
        return f"{name!r} is {len(name)} characters long: {NAMING_RULES}"
    return None


def area_of(topic: str) -> str:
    """The area file stem of a topic that follows the naming rules."""
    return AREAS[topic.split("_", 1)[0]]


def area_names() -> List[str]:
    return sorted(set(AREAS.values()))


@lru_cache(maxsize=1 << 16)  # the checks and the labeller compare the same texts again and again
def normalise(text: str) -> str:
    """The form two examples are compared in: case, punctuation, spacing and entity markup ignored.

    Apostrophes vanish ("i'm" is "im"), other punctuation separates words ("part-time" is
    "part time"); emoji are kept because they can carry the meaning of a short message.
    """
    from rasa.shared.nlu.training_data.entities_parser import replace_entities

    plain = unicodedata.normalize("NFKC", replace_entities(text)).casefold()
    out = []
    for char in plain:
        if char in "'\u2018\u2019`":
            continue
        out.append(" " if unicodedata.category(char).startswith("P") else char)
    return " ".join("".join(out).split())
