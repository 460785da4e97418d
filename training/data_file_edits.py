"""Edits to the trainers' YAML files that leave every other byte as it was.

Every edit is a few lines inserted into the trainer's own file, at the place ruamel.yaml's
round-trip loader says the block ends, in that block's own indentation; the result is parsed
again and compared with the intended change before anything is written. So the file stays
byte-identical except for the added lines. (ruamel's dumper alone is not enough: it re-indents
any block indented differently from its one setting, and hand-edited files differ.)
"""

from __future__ import annotations

import copy
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Tuple

from ruamel.yaml.nodes import Node, ScalarNode

from training.content import (
    ContentError,
    Document,
    IntentBlock,
    child,
    entries,
    items,
    key_of,
    line_of,
    load,
    load_text,
    parse,
)
from training.topics import FAQ_PREFIX, RESPONSE_PREFIX, Layout

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


@dataclass
class Edit:
    """A new version of one file, checked before it is written."""

    path: Path
    new_text: str
    change: Change


def load_document(path: Path, layout: Layout) -> Document:
    try:
        return load(path, layout)
    except ContentError as error:
        raise LabellingError(f"refused: {error.problem}") from None


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


def add_to_block(block: IntentBlock, example: str, layout: Layout) -> Edit:
    document = load_document(block.path, layout)
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
    return Edit(block.path, new_text, change)


def _find_item(document: Document, block: IntentBlock) -> Tuple[int, Node]:
    for index, item in enumerate(items(child(document.node, "nlu"))):
        if line_of(item) == block.line:
            return index, item
    raise LabellingError(f"refused: {block.path} changed while it was being read: try again")


def _document_or_new(path: Path, section: str, layout: Layout) -> Document:
    text = load_document(path, layout).text if path.is_file() else f'version: "3.1"\n{section}:\n'
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


def add_block(path: Path, intent: str, example: str, layout: Layout) -> Edit:
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
    return Edit(path, new_text, change)


def add_response_stub(path: Path, topic: str, layout: Layout) -> Edit:
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
    return Edit(path, new_text, change)


def add_test_story(path: Path, topic: str, layout: Layout) -> Edit:
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
    return Edit(path, new_text, change)


def write_all(edits: List[Edit]) -> None:
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
