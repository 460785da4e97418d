"""Putting an applicant's question into the training data: under a topic, or as a new topic.

Each addition is checked first (a clean example, an existing topic or a well-named new one, no
duplicate in the training or held-out data) and written by training/data_file_edits.py, which
keeps the trainer's files byte-identical apart from the added lines.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Tuple

from training.content import (
    IntentBlock,
    child,
    intent_blocks,
    items,
    key_of,
    line_of,
    scalar,
    yaml_files,
)
from training.data_file_edits import (
    Change,
    LabellingError,
    add_block,
    add_response_stub,
    add_test_story,
    add_to_block,
    load_document,
    write_all,
)
from training.topics import (
    AREAS,
    DATA,
    FAQ_INTENT,
    FAQ_PREFIX,
    RESPONSE_PREFIX,
    Layout,
    area_names,
    area_of,
    is_generated,
    naming_problem,
    normalise,
)

MAX_EXAMPLE_CHARS = 500
# YAML cannot hold these even in a block scalar.
NOT_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


@dataclass(frozen=True)
class Added:
    """What was written, and what the trainer still has to do."""

    intent: str
    text: str
    changes: Tuple[Change, ...]
    notes: Tuple[str, ...] = ()


@contextlib.contextmanager
def one_labeller_at_a_time(data_dir: Path) -> Iterator[None]:
    """Hold the data folder's labelling lock (across processes: the CLI and desk workers).

    Each labelling reads files, checks for duplicates and writes new versions: two at once
    would each write what they read, and one addition would be lost. The lock file lives in
    the temporary folder, so a read-only project folder can still be locked.
    """
    key = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"careers-labelling-{key}.lock"
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def add_example(topic: str, text: str, data_dir: Path = DATA) -> Added:
    """Append `text` as an example of `topic`: an FAQ topic name, or an intent such as greet."""
    with one_labeller_at_a_time(data_dir):
        return _add_example(topic, text, data_dir)


def _add_example(topic: str, text: str, data_dir: Path) -> Added:
    layout = Layout.from_data_dir(data_dir)
    example = clean_example(text)
    training, heldout = _read_examples(layout)
    intent = _resolve(topic, training, layout)
    _refuse_duplicate(example, training, heldout, layout)
    blocks = [block for block in training if block.intent == intent]
    if blocks:
        preferred = _preferred_file(intent, layout)
        # Never into a generated file (the off-topic background): it is rewritten from templates.
        blocks = [b for b in blocks if not is_generated(b.path)] or blocks
        block = next((b for b in blocks if b.path == preferred), blocks[0])
        edit = add_to_block(block, example, layout)
    else:  # an FAQ topic with an answer but no examples yet
        edit = add_block(layout.nlu_file(area_of(_topic(intent))), intent, example, layout)
    write_all([edit])
    return Added(intent, example, (edit.change,))


def add_topic(name: str, text: str, area: str | None = None, data_dir: Path = DATA) -> Added:
    """Start a new FAQ topic from one example: its examples block, an unanswered answer stub and
    a test story stub. The one `faq` rule answers every topic, so no rule is added."""
    with one_labeller_at_a_time(data_dir):
        return _add_topic(name, text, area, data_dir)


def _add_topic(name: str, text: str, area: str | None, data_dir: Path) -> Added:
    layout = Layout.from_data_dir(data_dir)
    topic = name.strip()
    topic = topic[len(FAQ_PREFIX) :] if topic.startswith(FAQ_PREFIX) else topic
    why = naming_problem(topic)
    if why:
        raise LabellingError(f"refused: {why}")
    expected_area = area_of(topic)
    if area is not None and area != expected_area:
        raise LabellingError(
            f"refused: {topic!r} belongs to the area {expected_area!r} by its prefix, not "
            f"{area!r}: name it with the prefix of its area ({_prefixes(area)})"
        )
    example = clean_example(text)
    training, heldout = _read_examples(layout)
    intent = FAQ_PREFIX + topic
    existing = {block.intent for block in training}
    responses_file = layout.responses_file(expected_area)
    if intent in existing or _has_response(responses_file, topic, layout):
        raise LabellingError(
            f"refused: the topic {topic} already exists: add the example to it with --topic {topic}"
        )
    _refuse_duplicate(example, training, heldout, layout)
    edits = [
        add_block(layout.nlu_file(expected_area), intent, example, layout),
        add_response_stub(responses_file, topic, layout),
        add_test_story(layout.faq_test_stories, topic, layout),
    ]
    write_all(edits)
    notes = [_rule_note(layout)]
    similar = difflib.get_close_matches(topic, [_topic(i) for i in existing if _is_faq(i)], 3, 0.75)
    if similar:
        notes.append(f"similar topics exist: {', '.join(similar)}; make sure this one is different")
    notes.append(
        f"{topic} is unanswered until you write its answer in {layout.relative(responses_file)} "
        "and delete the `metadata: unanswered: true` lines; `make check` says so until then"
    )
    notes.append(
        f"add at least 14 more training examples (make label TEXT=... TOPIC={topic}) and 5 "
        f"held-out questions under faq/{topic} in "
        f"{layout.relative(layout.heldout_file(expected_area))}"
    )
    return Added(intent, example, tuple(edit.change for edit in edits), tuple(notes))


def clean_example(text: str) -> str:
    """The example as it will be written: one line, spacing collapsed; refused if unusable."""
    example = " ".join(str(text).split())
    if not example or not normalise(example):
        raise LabellingError("refused: the example is empty: give the applicant's words")
    if len(example) > MAX_EXAMPLE_CHARS:
        raise LabellingError(
            f"refused: the example is {len(example)} characters, more than {MAX_EXAMPLE_CHARS}: "
            "keep only the question (long messages usually ask several things; label each part)"
        )
    bad = NOT_PRINTABLE.search(example)
    if bad:
        raise LabellingError(
            f"refused: the example contains the control character U+{ord(bad.group(0)):04X}: "
            "remove it"
        )
    return example


def topics(data_dir: Path = DATA) -> List[str]:
    """Every intent with examples: FAQ topics by their name, other intents as they are."""
    layout = Layout.from_data_dir(data_dir)
    training, _ = _read_examples(layout)
    names = {_topic(block.intent) for block in training}
    return sorted(names)


def _read_examples(layout: Layout) -> Tuple[List[IntentBlock], List[IntentBlock]]:
    training: List[IntentBlock] = []
    heldout: List[IntentBlock] = []
    for directory, target in ((layout.nlu, training), (layout.heldout, heldout)):
        for path in yaml_files(directory):
            blocks, _ = intent_blocks(load_document(path, layout), layout)
            target.extend(blocks)
    return training, heldout


def _has_response(path: Path, topic: str, layout: Layout) -> bool:
    if not path.is_file():
        return False
    return (
        key_of(child(load_document(path, layout).node, "responses"), RESPONSE_PREFIX + topic)
        is not None
    )


def _is_faq(intent: str) -> bool:
    return intent.startswith(FAQ_PREFIX)


def _topic(intent: str) -> str:
    return intent[len(FAQ_PREFIX) :] if _is_faq(intent) else intent


def _prefixes(area: str) -> str:
    prefixes = [p + "_" for p, a in AREAS.items() if a == area]
    return ", ".join(prefixes) if prefixes else f"areas are {', '.join(area_names())}"


def _preferred_file(intent: str, layout: Layout) -> Path | None:
    if _is_faq(intent) and not naming_problem(_topic(intent)):
        return layout.nlu_file(area_of(_topic(intent)))
    return None


def _resolve(topic: str, training: List[IntentBlock], layout: Layout) -> str:
    """The intent a trainer means by `topic`, or a refusal naming the closest topics."""
    name = topic.strip()
    intents = {block.intent for block in training}
    if name in intents:
        return name
    if FAQ_PREFIX + name in intents:
        return FAQ_PREFIX + name
    known = sorted({_topic(i) for i in intents})
    bare = _topic(name)
    guess = re.sub(r"[^a-z0-9]+", "_", bare.lower()).strip("_")
    close = difflib.get_close_matches(guess, known, n=3, cutoff=0.6)
    message = f"refused: there is no topic {topic!r}"
    if close:
        message += f": did you mean {' or '.join(close)}?"
    else:
        message += ": `python -m training.label --list` lists the topics"
    why = naming_problem(bare)
    if why and guess not in known and bare not in known:
        message += f" (and {why})"
    raise LabellingError(message + "; a question no topic covers can start one with --new-topic")


def _refuse_duplicate(
    example: str, training: List[IntentBlock], heldout: List[IntentBlock], layout: Layout
) -> None:
    key = normalise(example)
    for block in training:
        for found in block.examples:
            if found.key == key:
                raise LabellingError(
                    f"refused: {example!r} is already an example of {found.intent} at "
                    f"{layout.relative(found.path)}:{found.line} ({found.text!r}); if it "
                    "belongs to another topic, move that line there instead of adding it"
                )
    for block in heldout:
        for found in block.examples:
            if found.key == key:
                raise LabellingError(
                    f"refused: {example!r} is a held-out example of {found.intent} at "
                    f"{layout.relative(found.path)}:{found.line} ({found.text!r}); held-out "
                    "questions measure the assistant on words it never trained on, so they "
                    "stay out of the training data: label a differently worded question instead"
                )


def _rule_note(layout: Layout) -> str:
    for path in yaml_files(layout.rules):
        for rule in items(child(load_document(path, layout).node, "rules")):
            steps = [
                (scalar(child(s, "intent")), scalar(child(s, "action")))
                for s in items(child(rule, "steps"))
            ]
            if (FAQ_INTENT, None) in steps and (None, "utter_faq") in steps:
                return (
                    f"no rule added: the rule {scalar(child(rule, 'rule'))!r} "
                    f"({layout.relative(path)}:{line_of(rule)}) answers every faq/ topic"
                )
    return "no rule answers faq/ topics in data/rules/: add one (intent: faq, action: utter_faq)"


__all__ = [
    "Added",
    "Change",
    "LabellingError",
    "add_example",
    "add_topic",
    "clean_example",
    "topics",
]
