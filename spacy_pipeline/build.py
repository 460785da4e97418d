"""Build the spaCy pipeline that Rasa's SpacyNLP loads.

spaCy's pretrained English pipelines come from outside the package registries, so the
assistant builds its own: blank English, the lookup lemmatizer (tables from
``spacy-lookups-data``) and an entity ruler whose patterns trainers edit in ``data/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import spacy
from spacy.language import Language

ENTITY_LABELS = ("job_family", "location")
# Lookup-table lemmas that would merge words the assistant must tell apart: the table maps
# "more" to "much", so "show more" looked like "much obliged".
LEMMA_OVERRIDES = {"more": "more"}


def load_patterns(path: Path) -> list[dict]:
    """Read JSON-lines patterns, failing with the line number of a bad one."""
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            pattern = json.loads(line)
        except json.JSONDecodeError as error:
            raise SystemExit(f"{path}:{number}: not valid JSON: {error.msg}") from error
        if pattern.get("label") not in ENTITY_LABELS or "pattern" not in pattern:
            raise SystemExit(
                f"{path}:{number}: a pattern needs 'pattern' and a label in {ENTITY_LABELS}"
            )
        patterns.append(pattern)
    return patterns


def build(patterns: list[dict]) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lemma tables, which phrase patterns are run through
    lemmas = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    for word, lemma in LEMMA_OVERRIDES.items():
        lemmas[word] = lemma
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patterns", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    patterns = load_patterns(args.patterns)
    nlp = build(patterns)
    nlp.meta["name"] = args.output.name
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"spaCy pipeline with {len(patterns)} entity patterns saved to {args.output}")


if __name__ == "__main__":
    main()
