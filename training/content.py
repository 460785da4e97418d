"""Reading the trainers' YAML with the line of everything, so every complaint can say file:line.

Files are composed into ruamel.yaml nodes (libyaml's parser through ruamel.yaml.clib, which Rasa
already installs: fifty times faster than the pure-Python round-trip loader), and every node keeps
its position. A file that does not parse becomes a `Problem` at the line where it goes wrong, never
a traceback. Duplicate keys are refused as Rasa's own loader refuses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    from ruamel.yaml.cyaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - without the C extension: same nodes, slower
    from ruamel.yaml.loader import SafeLoader as Loader  # type: ignore[assignment]

from training.topics import FAQ_PREFIX, Layout, normalise

YAML_FIX = (
    "check this line and the one above it: indentation, a missing ':' or an unclosed quote "
    "(every line of an `examples: |` block starts with the same indentation and '- ')"
)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, printed as `file:line: what is wrong: how to fix it`."""

    path: str
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.fix}"


class ContentError(Exception):
    """A file could not be read; carries the problem with its file and line."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Document:
    """A parsed file: its text, its nodes (with positions) and its plain Python data."""

    path: Path
    text: str
    node: Node | None
    data: Any

    @property
    def lines(self) -> List[str]:
        return self.text.splitlines(keepends=True)


class _Loader(Loader):
    """The C loader, resolving plain scalars without writing into ruamel's shared table.

    ruamel.yaml 0.17.21 (the newest Rasa 3.6 allows) adds the catch-all implicit resolvers to
    the stored list of a scalar's first character each time it resolves one (`resolvers +=` in
    `Resolver.resolve`), once any catch-all is registered, as Rasa's `!env_var` is. Every parse
    then gets slower and the lists grow for the life of the process: 1,900 entries per letter
    after four `make check` runs, a tenth of a second more per run each time (the desk's
    Training pages parse on every view)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            table = self.yaml_implicit_resolvers
            first = table.get(value[0] if value else "", [])
            for tag, regexp in [*first, *table.get(None, [])]:
                if regexp.match(value):
                    return tag
            implicit = (False, implicit[1])  # ruamel's own lookup is done: skip it
        return super().resolve(kind, value, implicit)


def parse(text: str) -> Tuple[Node | None, Any]:
    """The root node and the data of a YAML text; raises ruamel's YAMLError when it is invalid."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def child(node: Node | None, key: str) -> Node | None:
    """The value node under `key` of a mapping node, or None."""
    for key_node, value in entries(node):
        if key_node.value == key:
            return value
    return None


def key_of(node: Node | None, key: str) -> Node | None:
    """The key node `key` of a mapping node (it holds the key's position), or None."""
    for key_node, _ in entries(node):
        if key_node.value == key:
            return key_node
    return None


def entries(node: Node | None) -> List[Tuple[Node, Node]]:
    return list(node.value) if isinstance(node, MappingNode) else []


def items(node: Node | None) -> List[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def scalar(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) else None


def line_of(node: Node) -> int:
    """1-based line of a node."""
    return int(node.start_mark.line) + 1


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    path: Path
    line: int  # 1-based

    @property
    def key(self) -> str:
        return normalise(self.text)


@dataclass
class IntentBlock:
    intent: str
    path: Path
    line: int  # 1-based line of "- intent: ..."
    item: Node  # the item's mapping node
    examples: List[Example] = field(default_factory=list)


@dataclass(frozen=True)
class Variant:
    path: Path
    line: int
    text: str | None
    unanswered: bool


@dataclass
class Response:
    name: str
    path: Path
    line: int
    variants: List[Variant] = field(default_factory=list)

    @property
    def unanswered(self) -> bool:
        return any(variant.unanswered for variant in self.variants)


@dataclass(frozen=True)
class StoryStep:
    intent: str
    path: Path
    line: int


def load(path: Path, layout: Layout) -> Document:
    """Parse one YAML file; raise ContentError with the file and line when it does not parse."""
    return load_text(path, path.read_bytes(), layout)


def load_text(path: Path, raw: bytes | str, layout: Layout) -> Document:
    where = layout.relative(path)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise ContentError(
                Problem(where, line, "not UTF-8 text", "save the file as UTF-8")
            ) from None
    else:
        text = raw
    try:
        node, data = parse(text)
    except MarkedYAMLError as error:
        raise ContentError(_yaml_problem(where, error)) from None
    except YAMLError as error:  # reader errors (e.g. a control character) carry no mark
        line = _line_of_reader_error(text, error)
        what = re.sub(r' in "[^"]*", position \d+', "", _one_line(error))
        fix = "delete the character (it is invisible in most editors: retype the line)"
        raise ContentError(Problem(where, line, f"YAML error: {what}", fix)) from None
    return Document(path, text, node, data)


def _yaml_problem(where: str, error: MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    if error.context_mark is not None and str(error.context).startswith("while scanning"):
        # An unclosed quote or a key without ':' is noticed lines later; point where it starts.
        mark = error.context_mark
    line = mark.line + 1 if mark is not None else 1
    duplicate = re.match(r'found duplicate key "([^"]*)"', str(error.problem))
    if duplicate:
        first = error.context_mark.line + 1 if error.context_mark is not None else line
        return Problem(
            where,
            line,
            f"the key {duplicate.group(1)!r} appears twice in the block from line {first}",
            "keep one (move the lines of the other under it)",
        )
    what = f"YAML syntax error: {_one_line(error.problem or error.context)}"
    if mark is not None:
        what += f" (column {mark.column + 1})"
    context = error.context_mark
    if error.context and context is not None and error.problem and context is not mark:
        what += f", {_one_line(error.context)} at line {context.line + 1}"
    return Problem(where, line, what, YAML_FIX)


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _line_of_reader_error(text: str, error: YAMLError) -> int:
    position = getattr(error, "position", None)
    if isinstance(position, int):
        return text[:position].count("\n") + 1
    return 1


def intent_blocks(document: Document, layout: Layout) -> Tuple[List[IntentBlock], List[Problem]]:
    """The `- intent:` items of an NLU file, each example with its line."""
    blocks: List[IntentBlock] = []
    problems: List[Problem] = []
    where = layout.relative(document.path)
    for item in items(child(document.node, "nlu")):
        intent = scalar(child(item, "intent"))
        if intent is None:
            continue
        block = IntentBlock(intent, document.path, line_of(item), item)
        examples = child(item, "examples")
        if isinstance(examples, ScalarNode):
            for line, raw in _block_lines(document, examples):
                if not raw.startswith("-"):
                    what = "an empty line" if not raw.strip() else f"the line {raw.strip()!r}"
                    problems.append(
                        Problem(
                            where,
                            line,
                            f"{what} in the examples of {intent} does not start with '- ', so "
                            "Rasa skips it",
                            "start it with '- ' or delete it",
                        )
                    )
                    continue
                text = raw[1:].strip("\n\r ")
                block.examples.append(Example(text, intent, document.path, line))
        elif isinstance(examples, SequenceNode):
            for entry in items(examples):
                entry_text = scalar(child(entry, "text"))
                if entry_text:
                    block.examples.append(
                        Example(entry_text.strip("\n\r "), intent, document.path, line_of(entry))
                    )
        else:
            problems.append(
                Problem(
                    where,
                    block.line,
                    f"{intent} has no examples block",
                    "add `examples: |` with one '- example' per line below it",
                )
            )
        blocks.append(block)
    return blocks, problems


def _block_lines(document: Document, examples: ScalarNode) -> Iterator[Tuple[int, str]]:
    """(1-based file line, text) of each line of an `examples` block scalar."""
    value = str(examples.value)
    header = int(examples.start_mark.line)  # 0-based line of the `|` indicator
    lines = document.lines
    cursor = header + 1 if examples.style in ("|", ">") else header
    for raw in value.splitlines():
        line = cursor
        # Comments or explicit indentation can shift the text; find the line that holds it.
        while raw.strip() and line < len(lines) and lines[line].strip() != raw.strip():
            line += 1
        if line >= len(lines):
            line = cursor
        yield line + 1, raw
        cursor = line + 1


def responses(document: Document, layout: Layout) -> List[Response]:
    """The responses of a domain or responses file, each variant with its line."""
    found: List[Response] = []
    for name, variants in entries(child(document.node, "responses")):
        response = Response(str(name.value), document.path, line_of(name))
        for variant in items(variants):
            if not isinstance(variant, MappingNode):
                continue
            metadata = child(variant, "metadata")
            flag = child(metadata, "unanswered")
            unanswered = (
                isinstance(flag, ScalarNode)
                and str(flag.tag).endswith(":bool")
                and str(flag.value).lower() in ("true", "yes", "on")
            )
            response.variants.append(
                Variant(document.path, line_of(variant), scalar(child(variant, "text")), unanswered)
            )
        found.append(response)
    return found


def story_steps(document: Document) -> List[StoryStep]:
    """Every `intent:` step of the stories and rules in a file."""
    steps: List[StoryStep] = []
    for section in ("stories", "rules"):
        for story in items(child(document.node, section)):
            for step in items(child(story, "steps")):
                intent = scalar(child(step, "intent"))
                if intent:
                    steps.append(StoryStep(intent, document.path, line_of(step)))
    return steps


def yaml_files(directory: Path) -> List[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


@dataclass
class Content:
    """Everything the checks look at, read once."""

    layout: Layout
    training: List[IntentBlock] = field(default_factory=list)
    heldout: List[IntentBlock] = field(default_factory=list)
    responses: List[Response] = field(default_factory=list)
    story_steps: List[StoryStep] = field(default_factory=list)
    syntax: List[Problem] = field(default_factory=list)
    format: List[Problem] = field(default_factory=list)

    @property
    def training_examples(self) -> List[Example]:
        return [example for block in self.training for example in block.examples]

    @property
    def heldout_examples(self) -> List[Example]:
        return [example for block in self.heldout for example in block.examples]

    def faq_topics(self) -> Dict[str, int]:
        """Each FAQ topic in the training data or the answers -> 0 (insertion-ordered set)."""
        topics: Dict[str, int] = {}
        for block in self.training:
            if block.intent.startswith(FAQ_PREFIX):
                topics.setdefault(block.intent[len(FAQ_PREFIX) :], 0)
        for response in self.responses:
            if response.name.startswith("utter_" + FAQ_PREFIX):
                topics.setdefault(response.name[len("utter_" + FAQ_PREFIX) :], 0)
        return topics


def read_content(layout: Layout) -> Content:
    """Parse every YAML file a trainer may touch; a file that does not parse is a syntax problem."""
    content = Content(layout)
    paths = [*yaml_files(layout.data), layout.domain]
    paths += [*yaml_files(layout.heldout), *yaml_files(layout.test_stories)]
    for path in paths:
        if not path.is_file():
            continue
        try:
            document = load(path, layout)
        except ContentError as error:
            content.syntax.append(error.problem)
            continue
        if _is_under(path, layout.nlu) or _is_under(path, layout.heldout):
            blocks, problems = intent_blocks(document, layout)
            (content.heldout if _is_under(path, layout.heldout) else content.training).extend(
                blocks
            )
            content.format.extend(problems)
        elif path == layout.domain or _is_under(path, layout.responses):
            content.responses.extend(responses(document, layout))
        elif _is_under(path, layout.test_stories):
            content.story_steps.extend(story_steps(document))
    return content


def _is_under(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True
