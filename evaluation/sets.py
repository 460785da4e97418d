"""The evaluation sets: messages the model is scored on and never trained on.

- held-out paraphrases (tests/nlu/): written beside the training data, one file per area;
- off-topic messages (evaluation/data/off_topic/): everyday requests and the kinds of
  messages a public account gets, over many domains, made apart from the training data;
- questions in other people's words (evaluation/data/other_words.tsv): quoted from
  official FAQ pages, the press and forums, each with its source;
- safety messages (evaluation/data/safety.tsv): threat reports, crises and abuse in the
  writers' own words, and look-alikes that are none of these.

See evaluation/data/README.md: none of this may be copied into data/.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = ROOT / "tests" / "nlu"
DATA_DIR = ROOT / "evaluation" / "data"
OFF_TOPIC_DIR = DATA_DIR / "off_topic"
OTHER_WORDS = DATA_DIR / "other_words.tsv"
SAFETY = DATA_DIR / "safety.tsv"
OFF_TOPIC = "out_of_scope"


@dataclass(frozen=True)
class Example:
    text: str
    expected: str  # `faq/<topic>`, an intent, or out_of_scope
    source: str  # the held-out file's area, the off-topic domain, or the quoted page


def heldout(directory: Path = HELDOUT_DIR) -> List[Example]:
    examples = []
    for path in sorted(directory.glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            examples.append(Example(message.get("text"), message.get_full_intent(), path.stem))
    return examples


def off_topic(directory: Path = OFF_TOPIC_DIR) -> List[Example]:
    examples = []
    for path in sorted(directory.glob("*.txt")):
        domain = path.name.split(".")[0]
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                examples.append(Example(line.strip(), OFF_TOPIC, domain))
    return examples


def other_words(path: Path = OTHER_WORDS) -> List[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(row["question"], row["expected"], row["source_url"]) for row in rows]


def safety_messages(path: Path = SAFETY) -> List[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(row["message"], row["expected"], "safety") for row in rows]


SETS: Dict[str, Callable[[], List[Example]]] = {
    "held-out paraphrases": heldout,
    "other people's words": other_words,
    "off-topic messages": off_topic,
    "safety messages": safety_messages,
}
