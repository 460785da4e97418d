"""Generate the broad off-topic training corpus (`make off-topic-corpus`).

Why: the model only learns what "not about careers at MI5" looks like from examples. A few
hundred hand-picked ones left whole areas of everyday life (banking, the time abroad, 5G, jobs
at Tesco) to be answered with a careers topic at high confidence. This fills intent
`out_of_scope` with thousands of everyday requests and the messages a public account receives,
from the templates and hand-written messages in data/off_topic/templates.yml, written in
the ways people type DMs. The output is generated, so it is reproducible from a seed and
reviewed through the templates, never edited by hand.

Examples equal (after `training.topics.normalise`) to an example of data/nlu or of the
held-out set in tests/nlu are left out, as are messages with a word the templates' settings
forbid (MI5, other public-service careers, safety words) or that a safety phrase matches.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Set

import yaml

from evaluation import sets
from training.content import Layout, read_content
from training.topics import GENERATED_MARK, ROOT, normalise

TEMPLATES = ROOT / "data" / "off_topic" / "templates.yml"
OUTPUT = ROOT / "data" / "nlu" / "out_of_scope_background.yml"
COMMAND = "make off-topic-corpus"
INTENT = "out_of_scope"
SLOT = re.compile(r"\{(\w+)\}")
AN = re.compile(r"\ba (?=[aeio])")  # "a {job}" filled with "engineer"
ATTEMPTS_PER_EXAMPLE = 12
MAX_SLOT_DEPTH = 3
WORD = re.compile(r"[a-z']+")
SAFETY_FILE = Path("data") / "nlu" / "safety.yml"


class CorpusError(Exception):
    """The templates cannot make a corpus (a missing slot, a forbidden hand-written line)."""


@dataclass
class Corpus:
    """The examples of each domain, in the order they are written."""

    domains: Dict[str, List[str]] = field(default_factory=dict)
    handwritten: Dict[str, int] = field(default_factory=dict)  # per domain, after generated ones
    for_nlu: Dict[str, List[str]] = field(default_factory=dict)  # the sample DIET trains on too
    dropped: int = 0  # generated messages left out as forbidden or unsafe

    @property
    def examples(self) -> List[str]:
        return [example for examples in self.domains.values() for example in examples]

    @property
    def nlu_examples(self) -> List[str]:
        return [example for examples in self.for_nlu.values() for example in examples]


@dataclass
class Filters:
    """What a corpus message must not be: in-scope data, forbidden words, safety phrases."""

    taken: Set[str]
    forbidden: re.Pattern
    safety: List[re.Pattern]

    def refuses(self, text: str) -> bool:
        lowered = text.lower()
        return bool(self.forbidden.search(lowered)) or any(p.search(lowered) for p in self.safety)


def load_spec(path: Path = TEMPLATES) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def project_keys(root: Path, output: Path) -> Set[str]:
    """Normalised examples of data/nlu (except the corpus itself), of tests/nlu, and of the
    evaluation sets: evaluation data is never trained on, even when two generators happen
    to write the same short message ("is 5g dangerous")."""
    content = read_content(Layout(root))
    examples = [*content.training_examples, *content.heldout_examples]
    corpus_files = {output.resolve(), (root / OUTPUT.relative_to(ROOT)).resolve()}
    keys = {example.key for example in examples if example.path.resolve() not in corpus_files}
    evaluation = root / "evaluation" / "data"
    if evaluation.is_dir():
        held_apart = [
            *sets.off_topic(evaluation / "off_topic"),
            *sets.other_words(evaluation / "other_words.tsv"),
        ]
        keys |= {normalise(example.text) for example in held_apart}
    return keys


def safety_patterns(root: Path) -> List[re.Pattern]:
    """The safety phrase regexes, so no off-topic example looks like a safety message."""
    path = root / SAFETY_FILE
    document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    patterns = []
    for item in (document or {}).get("nlu", []):
        if "regex" in item:
            lines = str(item.get("examples", "")).splitlines()
            patterns += [re.compile(line.strip()[2:], re.I) for line in lines if line.strip()]
    return patterns


def make_filters(spec: Mapping[str, Any], root: Path, output: Path) -> Filters:
    words = spec["settings"]["never_contain"]
    forbidden = re.compile(r"\b(?:" + "|".join(re.escape(w.lower()) for w in words) + ")")
    return Filters(project_keys(root, output), forbidden, safety_patterns(root))


def fill(template: str, slots: Mapping[str, Sequence[str]], rng: random.Random) -> str:
    """`template` with each {slot} replaced by a random value (values may hold slots too)."""
    text = template
    for _ in range(MAX_SLOT_DEPTH):
        if not SLOT.search(text):
            return AN.sub("an ", text)
        text = SLOT.sub(lambda match: _value(match.group(1), slots, rng, template), text)
    raise CorpusError(f"slots nested too deep in {template!r}")


def _value(name: str, slots: Mapping[str, Sequence[str]], rng: random.Random, where: str) -> str:
    if name not in slots:
        raise CorpusError(f"{where!r} uses {{{name}}}, which no slot list defines")
    return str(rng.choice(slots[name]))


def combinations(template: str, slots: Mapping[str, Sequence[str]]) -> int:
    """How many different fillings a template has at most (nested slots not counted)."""
    count = 1
    for name in SLOT.findall(template):
        count *= len(slots.get(name, [""]))
    return count


def dm_style(text: str, style: Mapping[str, Any], rng: random.Random) -> str:
    """`text` as someone might type it in a DM: case, text-speak, a typo, a greeting, emoji."""
    if rng.random() < style["text_speak"]:
        text = _text_speak(text, style["text_speak_words"], rng)
    if rng.random() < style["typo"]:
        text = _typo(text, rng)
    if text.endswith("?"):
        if rng.random() < style["drop_question_mark"]:
            text = text[:-1]
        elif rng.random() < style["double_question_mark"]:
            text += "?"
    if rng.random() < style["prefix"]:
        text = f"{rng.choice(style['prefixes'])} {text}"
    if rng.random() < style["suffix"]:
        text = f"{text} {rng.choice(style['suffixes'])}"
    if rng.random() < style["emoji"]:
        text = f"{text} {rng.choice(style['emojis'])}"
    draw = rng.random()
    if draw < style["sentence_case"]:
        text = re.sub(r"\bi\b", "I", text[:1].upper() + text[1:])
    elif draw < style["sentence_case"] + style["all_caps"] and len(text) < 40:
        text = text.upper()
    return text


def _text_speak(text: str, words: Mapping[str, str], rng: random.Random) -> str:
    for long, short in words.items():
        if rng.random() < 0.7:
            text = re.sub(rf"\b{re.escape(long)}\b", short, text)
    return text


def _typo(text: str, rng: random.Random) -> str:
    """One slip of the thumb in one word of four letters or more: swapped, dropped or doubled."""
    words = [m for m in WORD.finditer(text) if len(m.group()) >= 4 and "'" not in m.group()]
    if not words:
        return text
    match = rng.choice(words)
    word, at = match.group(), rng.randrange(1, len(match.group()) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        slipped = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif kind == "drop":
        slipped = word[:at] + word[at + 1 :]
    else:
        slipped = word[:at] + word[at] + word[at:]
    return text[: match.start()] + slipped + text[match.end() :]


def generate(spec: Mapping[str, Any], filters: Filters, seed: int | None = None) -> Corpus:
    """The corpus: each domain's generated messages, then its hand-written ones."""
    settings = spec["settings"]
    seed = settings["seed"] if seed is None else seed
    corpus = Corpus()
    seen = set(filters.taken)
    handwritten = spec.get("handwritten") or {}
    unknown = sorted(set(handwritten) - set(spec["domains"]))
    if unknown:
        raise CorpusError(f"hand-written messages for domains with no templates: {unknown}")
    for domain, body in spec["domains"].items():
        slots = {**spec["shared"], **(body.get("slots") or {})}
        cap = body.get("per_template", settings["per_template"])
        style = {**spec["style"], **(body.get("style") or {})}
        examples: List[str] = []
        for index, template in enumerate(body.get("templates") or []):
            # One generator per template: editing one template leaves the others' output alone.
            rng = random.Random(f"{seed}:{domain}:{index}")
            made, refused = _from_template(template, slots, cap, style, filters, rng, seen)
            examples += made
            corpus.dropped += refused
        written = _handwritten(domain, handwritten.get(domain) or [], filters, seen)
        corpus.handwritten[domain] = len(written)
        corpus.domains[domain] = examples + written
        sampler = random.Random(f"{seed}:nlu:{domain}")
        size = body.get("nlu_per_domain", settings["nlu_per_domain"])
        corpus.for_nlu[domain] = sample(corpus.domains[domain], size, sampler)
    return corpus


def sample(examples: List[str], size: int, rng: random.Random) -> List[str]:
    """`size` of `examples` (all when 0), in their order. DIET's training time grows with
    examples times vocabulary, so it trains on a sample of each domain; the rest is marked
    as background, for the linear model alone (see `render_yaml`)."""
    if not size or size >= len(examples):
        return list(examples)
    chosen = sorted(rng.sample(range(len(examples)), size))
    return [examples[index] for index in chosen]


def _from_template(
    template: str,
    slots: Mapping[str, Sequence[str]],
    cap: int,
    style: Mapping[str, Any],
    filters: Filters,
    rng: random.Random,
    seen: Set[str],
) -> tuple[List[str], int]:
    """Up to `cap` fillings of `template` that nothing else says yet, each in a DM style,
    and how many were refused by the filters."""
    wanted = min(cap, combinations(template, slots))
    examples: List[str] = []
    refused = 0
    for _ in range(wanted * ATTEMPTS_PER_EXAMPLE):
        if len(examples) >= wanted:
            break
        plain = fill(template, slots, rng)
        styled = dm_style(plain, style, rng)
        keys = {normalise(plain), normalise(styled)}
        if keys & seen:
            continue
        seen.update(keys)
        if filters.refuses(plain) or filters.refuses(styled):
            refused += 1
            continue
        examples.append(styled)
    return examples, refused


def _handwritten(domain: str, lines: Iterable[str], filters: Filters, seen: Set[str]) -> List[str]:
    written = []
    for line in lines:
        text = " ".join(str(line).split())
        if filters.refuses(text):
            raise CorpusError(f"hand-written {domain} message {text!r}: a forbidden word or phrase")
        key = normalise(text)
        if key in seen:
            continue
        seen.add(key)
        written.append(text)
    return written


def _header(what: str) -> List[str]:
    return [
        f"{GENERATED_MARK}`{COMMAND}` (python -m training.off_topic_corpus)",
        "# from data/off_topic/templates.yml. Do not edit by hand: change the templates and run",
        "# the command again (tests/test_off_topic_corpus.py fails when this file is not its",
        f"# output). {what}",
    ]


def render_yaml(corpus: Corpus) -> str:
    """Rasa NLU YAML, two `out_of_scope` blocks per domain: the sample every classifier
    trains on, then the rest with the intent metadata `background: true`, which only the
    linear model learns from (components/linear_topics.py)."""
    lines = _header(
        f"All {len(corpus.examples)} off-topic examples over {len(corpus.domains)} domains: "
        f"{len(corpus.nlu_examples)} (up to nlu_per_domain of each) for every classifier, the "
        "rest marked `background: true` for the linear model alone. To label one message as "
        'off-topic, add it to data/nlu/out_of_scope.yml instead (make label TEXT="..." '
        "TOPIC=out_of_scope)."
    )
    lines = [*_wrap(lines), 'version: "3.1"', "nlu:"]
    for domain, examples in corpus.domains.items():
        chosen = corpus.for_nlu[domain]
        rest = [example for example in examples if example not in set(chosen)]
        lines += [f"# {domain}: {len(chosen)} for every classifier, {len(rest)} background"]
        lines += [f"- intent: {INTENT}", "  examples: |"]
        lines += [f"    - {example}" for example in chosen]
        if rest:
            lines += [f"- intent: {INTENT}", "  metadata:", "    background: true"]
            lines += ["  examples: |", *[f"    - {example}" for example in rest]]
    return "\n".join(lines) + "\n"


def _wrap(comment: List[str]) -> List[str]:
    """Header comment lines of at most 100 characters."""
    words = " ".join(line[2:] for line in comment).split(" ")
    lines, line = [], "#"
    for word in words:
        if len(line) + 1 + len(word) > 100:
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def build(
    root: Path = ROOT, templates: Path = TEMPLATES, output: Path = OUTPUT, seed: int | None = None
) -> Corpus:
    spec = load_spec(templates)
    return generate(spec, make_filters(spec, root, output), seed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.off_topic_corpus", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--templates", type=Path, default=TEMPLATES)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the Rasa NLU YAML file")
    parser.add_argument("--seed", type=int, help="default: settings.seed in the templates")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files are not current"
    )
    args = parser.parse_args(argv)
    corpus = build(ROOT, args.templates, args.output, args.seed)
    files = {args.output: render_yaml(corpus)}
    if args.check:
        stale = [p for p, text in files.items() if not _holds(p, text)]
        for path in stale:
            print(f"{relative(path)}: out of date: run {COMMAND}")
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(
        f"{relative(args.output)}: {len(corpus.examples)} examples over {len(corpus.domains)} "
        f"domains ({sum(corpus.handwritten.values())} hand-written; {corpus.dropped} generated "
        f"ones left out by the filters), {len(corpus.nlu_examples)} for every classifier"
    )
    return 0


def _holds(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == text


if __name__ == "__main__":
    sys.exit(main())
