"""Putting an applicant's question into the training data: under a topic, or as a new topic.

Every edit is a few lines inserted into the trainer's own file, at the place ruamel.yaml's
round-trip loader says the block ends, in that block's own indentation; the result is parsed
again and compared with the intended change before anything is written. So the file stays
byte-identical except for the added lines. (ruamel's dumper alone is not enough: it re-indents
any block indented differently from its one setting, and hand-edited files differ.)
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import fcntl
import hashlib
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

from ruamel.yaml.nodes import Node, ScalarNode

from training.content import (
    ContentError,
    Document,
    IntentBlock,
    child,
    entries,
    intent_blocks,
    items,
    key_of,
    line_of,
    load,
    load_text,
    parse,
    scalar,
    yaml_files,
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
UNANSWERED_MARKER = "UNANSWERED"
STUB_ANSWER = (
    "Good question. I don't have an answer written for that yet, but a recruiter can help: tap "
    '"Talk to a recruiter" and one will reply to you here.'
)
STUB_COMMENT = (
    f"{UNANSWERED_MARKER}: until its answer is written, this topic sends applicants to a "
    "recruiter. Replace `text` with the answer (plain English, at most 1,000 bytes, a link to "
    "the official page it rests on), then delete these comments and the `metadata` lines."
)
# YAML cannot hold these even in a block scalar.
NOT_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


class LabellingError(Exception):
    """The change was refused; the message says why and what to do. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Change:
    path: Path
    line: int  # 1-based line of the first added line
    what: str


@dataclass(frozen=True)
class Added:
    """What was written, and what the trainer still has to do."""

    intent: str
    text: str
    changes: Tuple[Change, ...]
    notes: Tuple[str, ...] = ()


@dataclass
class _Edit:
    """A new version of one file, checked before it is written."""

    path: Path
    new_text: str
    change: Change


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
        edit = _add_to_block(block, example, layout)
    else:  # an FAQ topic with an answer but no examples yet
        edit = _add_block(layout.nlu_file(area_of(_topic(intent))), intent, example, layout)
    _write([edit])
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
        _add_block(layout.nlu_file(expected_area), intent, example, layout),
        _add_response_stub(responses_file, topic, layout),
        _add_test_story(layout.faq_test_stories, topic, layout),
    ]
    _write(edits)
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


# Reading


def _read_examples(layout: Layout) -> Tuple[List[IntentBlock], List[IntentBlock]]:
    training: List[IntentBlock] = []
    heldout: List[IntentBlock] = []
    for directory, target in ((layout.nlu, training), (layout.heldout, heldout)):
        for path in yaml_files(directory):
            blocks, _ = intent_blocks(_load(path, layout), layout)
            target.extend(blocks)
    return training, heldout


def _load(path: Path, layout: Layout) -> Document:
    try:
        return load(path, layout)
    except ContentError as error:
        raise LabellingError(f"refused: {error.problem}") from None


def _has_response(path: Path, topic: str, layout: Layout) -> bool:
    if not path.is_file():
        return False
    return key_of(child(_load(path, layout).node, "responses"), RESPONSE_PREFIX + topic) is not None


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
        for rule in items(child(_load(path, layout).node, "rules")):
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


# Editing


def _line_ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _last_line_of(lines: List[str], start: int, belongs: Callable[[str], bool]) -> int:
    """Index of the last non-blank line from `start` on that belongs to the node at `start`."""
    last = start
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if not belongs(line):
            break
        last = index
    return last


def _insert(text: str, after: int, new_lines: List[str], blank_before: bool = False) -> str:
    """`text` with `new_lines` inserted after line index `after` (-1: at the start)."""
    lines = text.splitlines(keepends=True)
    ending = next((_line_ending(line) for line in lines if _line_ending(line)), "\n")
    if after >= 0 and not _line_ending(lines[after]):
        lines[after] += ending  # the file ended without a newline; the new last line does too
        chunk = [line + ending for line in new_lines[:-1]] + [new_lines[-1]]
    else:
        chunk = [line + ending for line in new_lines]
    if blank_before:
        chunk.insert(0, ending)
    return "".join(lines[: after + 1] + chunk + lines[after + 1 :])


def _verified(document: Document, new_text: str, expected: Any, layout: Layout) -> str:
    """`new_text` if it parses to exactly `expected`; otherwise refuse, writing nothing."""
    try:
        _, actual = parse(new_text)
    except Exception as error:  # any parse failure means the edit is wrong, not the trainer
        actual = error
    if actual != expected:
        raise LabellingError(
            f"refused: adding to {layout.relative(document.path)} would not give the intended "
            "content (unusual formatting there?); nothing was written: add the lines by hand and "
            "run make check"
        )
    return new_text


def _add_to_block(block: IntentBlock, example: str, layout: Layout) -> _Edit:
    document = _load(block.path, layout)
    index, item = _find_item(document, block)
    examples = child(item, "examples")
    examples_key = key_of(item, "examples")
    where = f"{layout.relative(block.path)}:{block.line}"
    if not isinstance(examples, ScalarNode) or examples.style != "|" or examples_key is None:
        raise LabellingError(
            f"refused: {where}: the examples of {block.intent} are not an `examples: |` block: "
            "rewrite them as `examples: |` with one '- example' per line"
        )
    lines = document.lines
    header = int(examples.start_mark.line)
    key_col = int(examples_key.start_mark.column)
    last = _last_line_of(lines, header, lambda line: _indent(line) > key_col)
    content = [lines[i] for i in range(header + 1, last + 1) if lines[i].strip()]
    dashed = [line for line in content if line.lstrip(" ").startswith("-")]
    indent = _indent(dashed[-1]) if dashed else key_col + 2
    new_text = _insert(document.text, last, [" " * indent + "- " + example])

    expected = copy.deepcopy(document.data)
    value = str(examples.value)
    kept = value.rstrip("\n")
    if kept:  # the example goes after the last one, before any kept trailing newlines
        value = f"{kept}\n- {example}{value[len(kept) :]}"
    else:
        value = f"- {example}" + ("" if "|-" in lines[header] else "\n")
    expected["nlu"][index]["examples"] = value
    _verified(document, new_text, expected, layout)
    change = Change(block.path, last + 2, f"added {example!r} to {block.intent}")
    return _Edit(block.path, new_text, change)


def _find_item(document: Document, block: IntentBlock) -> Tuple[int, Node]:
    for index, item in enumerate(items(child(document.node, "nlu"))):
        if line_of(item) == block.line:
            return index, item
    raise LabellingError(f"refused: {block.path} changed while it was being read: try again")


def _document_or_new(path: Path, section: str, layout: Layout) -> Document:
    text = _load(path, layout).text if path.is_file() else f'version: "3.1"\n{section}:\n'
    document = load_text(path, text, layout)
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get(section) or [], (list, dict)):
        raise LabellingError(
            f"refused: {layout.relative(path)}:1: the file has no `{section}:` section to add to"
        )
    if section not in data:  # a file with only `version:`: start the section at its end
        text = document.text + ("" if document.text.endswith("\n") else "\n") + f"{section}:\n"
        document = load_text(path, text, layout)
    return document


def _section_last_line(document: Document, section: str) -> int:
    """Index of the line after which a new item of a top-level section goes."""
    key = key_of(document.node, section)
    start = int(key.start_mark.line) if key is not None else len(document.lines) - 1
    return _last_line_of(
        document.lines, start, lambda line: _indent(line) > 0 or line.startswith("- ")
    )


def _add_block(path: Path, intent: str, example: str, layout: Layout) -> _Edit:
    """A new `- intent:` block after the last intent block of an NLU file."""
    document = _document_or_new(path, "nlu", layout)
    nodes = items(child(document.node, "nlu"))
    intents = [i for i, item in enumerate(nodes) if child(item, "intent") is not None]
    lines = document.lines
    dash, key, content, blank = 0, 2, 4, False
    if intents:
        index = intents[-1]
        item = nodes[index]
        start = int(item.start_mark.line)
        dash = _indent(lines[start])
        blank = start > 0 and not lines[start - 1].strip()
        key = int(item.start_mark.column)
        last = _last_line_of(lines, start, lambda line: _indent(line) > dash)
        examples = child(item, "examples")
        if isinstance(examples, ScalarNode) and examples.style == "|":
            header = int(examples.start_mark.line)
            if header + 1 < len(lines) and lines[header + 1].strip():
                content = _indent(lines[header + 1])
    else:
        index = len(nodes) - 1
        last = _section_last_line(document, "nlu")
    new_lines = [
        " " * dash + f"- intent: {intent}",
        " " * key + "examples: |",
        " " * content + f"- {example}",
    ]
    new_text = _insert(document.text, last, new_lines, blank_before=blank)
    expected = copy.deepcopy(document.data)
    expected["nlu"] = expected["nlu"] or []
    expected["nlu"].insert(index + 1, {"intent": intent, "examples": f"- {example}\n"})
    _verified(document, new_text, expected, layout)
    change = Change(path, last + 2 + blank, f"added {intent} with {example!r}")
    return _Edit(path, new_text, change)


def _add_response_stub(path: Path, topic: str, layout: Layout) -> _Edit:
    """An answer that hands over to a recruiter, marked unanswered until a trainer writes it."""
    document = _document_or_new(path, "responses", layout)
    answers = entries(child(document.node, "responses"))
    lines = document.lines
    key_col, dash, blank = 2, 2, False
    if answers:
        last_key = answers[-1][0]
        key_line, key_col = int(last_key.start_mark.line), int(last_key.start_mark.column)
        last = _last_line_of(
            lines,
            key_line,
            lambda line: (
                _indent(line) > key_col
                or (_indent(line) == key_col and line.lstrip(" ").startswith("- "))
            ),
        )
        dashes = [
            _indent(line)
            for line in lines[key_line + 1 : last + 1]
            if line.lstrip(" ").startswith("- ")
        ]
        dash = dashes[0] if dashes else key_col
        blank = key_line > 0 and not lines[key_line - 1].strip()
    else:
        last = _section_last_line(document, "responses")
    k, d = " " * key_col, " " * dash
    name = RESPONSE_PREFIX + topic
    new_lines = [
        f"{k}{name}:",
        *(f"{k}# {line}" for line in textwrap.wrap(STUB_COMMENT, 90)),
        f"{d}- text: >-",
        *(f"{d}    {line}" for line in textwrap.wrap(STUB_ANSWER, 88)),
        f"{d}  metadata:",
        f"{d}    unanswered: true",
        f"{d}  buttons:",
        f'{d}  - title: "Talk to a recruiter"',
        f'{d}    payload: "/request_human"',
    ]
    new_text = _insert(document.text, last, new_lines, blank_before=blank)
    expected = copy.deepcopy(document.data)
    expected["responses"] = expected["responses"] or {}
    expected["responses"][name] = [
        {
            "text": STUB_ANSWER,
            "metadata": {"unanswered": True},
            "buttons": [{"title": "Talk to a recruiter", "payload": "/request_human"}],
        }
    ]
    _verified(document, new_text, expected, layout)
    change = Change(path, last + 2 + blank, f"added the unanswered stub {name}")
    return _Edit(path, new_text, change)


def _add_test_story(path: Path, topic: str, layout: Layout) -> _Edit:
    """A test story: the topic is answered by its FAQ answer."""
    document = _document_or_new(path, "stories", layout)
    stories = items(child(document.node, "stories"))
    lines = document.lines
    dash, key, step, blank = 2, 4, 6, False
    if stories:
        story = stories[-1]
        start = int(story.start_mark.line)
        dash, key = _indent(lines[start]), int(story.start_mark.column)
        last = _last_line_of(lines, start, lambda line: _indent(line) > dash)
        steps = items(child(story, "steps"))
        if steps:
            step = _indent(lines[int(steps[0].start_mark.line)])
        blank = start > 0 and not lines[start - 1].strip()
    else:
        last = _section_last_line(document, "stories")
    new_lines = [
        " " * dash + f"- story: faq {topic}",
        " " * key + "steps:",
        " " * step + f"- intent: {FAQ_PREFIX}{topic}",
        " " * step + "- action: utter_faq",
    ]
    new_text = _insert(document.text, last, new_lines, blank_before=blank)
    expected = copy.deepcopy(document.data)
    expected["stories"] = expected["stories"] or []
    expected["stories"].append(
        {
            "story": f"faq {topic}",
            "steps": [{"intent": f"{FAQ_PREFIX}{topic}"}, {"action": "utter_faq"}],
        }
    )
    _verified(document, new_text, expected, layout)
    change = Change(path, last + 2 + blank, f"added the test story 'faq {topic}'")
    return _Edit(path, new_text, change)


def _write(edits: List[_Edit]) -> None:
    """Write each file whole through a temporary file, so a file is never left half-written."""
    for edit in edits:
        edit.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{edit.path.name}.", dir=edit.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(edit.new_text)
            if edit.path.exists():
                os.chmod(temporary, edit.path.stat().st_mode & 0o777)
            os.replace(temporary, edit.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


__all__ = [
    "Added",
    "Change",
    "LabellingError",
    "add_example",
    "add_topic",
    "clean_example",
    "topics",
]
