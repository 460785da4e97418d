"""Content checks a trainer runs before shipping (`make check`, also part of `make test`).

Each problem is printed as `file:line: what is wrong: how to fix it`; the exit status is 1 when
there is any. `rasa data validate` runs beside these checks (see the Makefile's `check` target).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence
from urllib.parse import urlsplit

from training.content import Content, Example, Problem, read_content
from training.title_checks import check_topic_titles
from training.topics import FAQ_PREFIX, RESPONSE_PREFIX, ROOT, Layout, area_of, naming_problem

MIN_TRAINING_EXAMPLES = 15
MIN_HELDOUT_EXAMPLES = 5
MAX_ANSWER_BYTES = 1000  # Instagram's limit for one text message

LINK = re.compile(r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://|\bwww\.)\S+")
URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
TRAILING_PUNCTUATION = ".,;:!?)'\""
SLUG = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)+/?")
# The only sites an answer may link (the host or any subdomain of it): MI5 and the rest of
# gov.uk, the police, and the statutory and official bodies the facts briefs source
# (../shared/brief/facts.md, facts-public.md). Lookalikes such as mi5govuk.com never match.
OFFICIAL_SITES = (
    "gov.uk",  # mi5.gov.uk, www.gov.uk, sis.gov.uk, nationalcrimeagency.gov.uk, isc.independent...
    "police.uk",  # police forces, Report Fraud, ProtectUK
    "investigatorypowerstribunal.org.uk",
    "ipco.org.uk",
    "gchq-careers.co.uk",
    "joiningthepolice.co.uk",
    "recruitmentservices.applicationtrack.com",  # the agencies' recruitment portal
)


def _topic_line(content: Content, topic: str) -> tuple[str, int]:
    """Where to point at a topic: its first examples block, else its answer."""
    layout = content.layout
    for block in content.training:
        if block.intent == FAQ_PREFIX + topic:
            return layout.relative(block.path), block.line
    for response in content.responses:
        if response.name == RESPONSE_PREFIX + topic:
            return layout.relative(response.path), response.line
    return layout.relative(layout.nlu), 1


def check_topic_names(content: Content) -> List[Problem]:
    problems = []
    for topic in content.faq_topics():
        why = naming_problem(topic)
        if why:
            path, line = _topic_line(content, topic)
            problems.append(Problem(path, line, f"faq/{why}", "rename the topic everywhere"))
    return problems


def check_topic_examples(content: Content) -> List[Problem]:
    counts = Counter(example.intent for example in content.training_examples)
    problems = []
    for topic in content.faq_topics():
        count = counts[FAQ_PREFIX + topic]
        if count < MIN_TRAINING_EXAMPLES:
            path, line = _topic_line(content, topic)
            problems.append(
                Problem(
                    path,
                    line,
                    f"faq/{topic} has {count} training examples, fewer than "
                    f"{MIN_TRAINING_EXAMPLES}",
                    f"add {MIN_TRAINING_EXAMPLES - count} more, varied as applicants write "
                    '(make label TEXT="..." TOPIC=' + topic + ")",
                )
            )
    return problems


def check_topic_answers(content: Content) -> List[Problem]:
    answers = {response.name: response for response in content.responses}
    problems = []
    for topic in content.faq_topics():
        response = answers.get(RESPONSE_PREFIX + topic)
        if response is None:
            path, line = _topic_line(content, topic)
            where = content.layout.relative(content.layout.responses_file(_area(topic)))
            problems.append(
                Problem(
                    path,
                    line,
                    f"faq/{topic} has no answer",
                    f"write {RESPONSE_PREFIX}{topic} in {where}",
                )
            )
        elif response.unanswered or not any(v.text for v in response.variants):
            problems.append(
                Problem(
                    content.layout.relative(response.path),
                    response.line,
                    f"faq/{topic} is unanswered (its answer is still the stub)",
                    "write the answer in `text` (plain English, at most "
                    f"{MAX_ANSWER_BYTES} bytes, a link to the official page) and delete the "
                    "`metadata: unanswered: true` lines",
                )
            )
    return problems


def check_topic_stories(content: Content) -> List[Problem]:
    tested = {step.intent for step in content.story_steps}
    problems = []
    for topic in content.faq_topics():
        if FAQ_PREFIX + topic not in tested:
            path, line = _topic_line(content, topic)
            stories = content.layout.relative(content.layout.faq_test_stories)
            problems.append(
                Problem(
                    path,
                    line,
                    f"faq/{topic} has no test story",
                    f"add a story with `- intent: faq/{topic}` then `- action: utter_faq` to "
                    f"{stories}",
                )
            )
    return problems + _not_topics(content, content.story_steps, "the test story asks")


def check_topic_heldout(content: Content) -> List[Problem]:
    counts = Counter(example.intent for example in content.heldout_examples)
    problems = []
    for topic in content.faq_topics():
        count = counts[FAQ_PREFIX + topic]
        if count < MIN_HELDOUT_EXAMPLES:
            path, line = _topic_line(content, topic)
            heldout = content.layout.relative(content.layout.heldout_file(_area(topic)))
            problems.append(
                Problem(
                    path,
                    line,
                    f"faq/{topic} has {count} held-out examples, fewer than {MIN_HELDOUT_EXAMPLES}",
                    f"add {MIN_HELDOUT_EXAMPLES - count} new questions under faq/{topic} in "
                    f"{heldout} (never copies of training examples)",
                )
            )
    return problems + _not_topics(content, content.heldout, "held-out examples for")


def _not_topics(content: Content, named: Sequence[Any], where: str) -> List[Problem]:
    """A problem for each item (a story step, a held-out block) naming an FAQ topic that
    does not exist; `where` begins the message."""
    topics = content.faq_topics()
    return [
        Problem(
            content.layout.relative(item.path),
            item.line,
            f"{where} {item.intent}, which is not a topic",
            "correct the topic name or add the topic",
        )
        for item in named
        if item.intent.startswith(FAQ_PREFIX) and item.intent[len(FAQ_PREFIX) :] not in topics
    ]


def _area(topic: str) -> str:
    return "about" if naming_problem(topic) else area_of(topic)


def _where(content: Content, example: Example) -> str:
    return f"{content.layout.relative(example.path)}:{example.line}"


def check_duplicates(content: Content) -> List[Problem]:
    """No example under two intents, the same text counted after `normalise`."""
    first: Dict[str, Example] = {}
    reported: Dict[str, set] = defaultdict(set)
    problems = []
    for example in content.training_examples:
        key = example.key
        seen = first.setdefault(key, example)
        if seen.intent != example.intent and example.intent not in reported[key]:
            reported[key].add(example.intent)
            problems.append(
                Problem(
                    content.layout.relative(example.path),
                    example.line,
                    f"{example.text!r} is under {example.intent} and also under {seen.intent} "
                    f"({_where(content, seen)})",
                    "keep it under the one intent it means and delete the other",
                )
            )
    return problems


def check_heldout_leaks(content: Content) -> List[Problem]:
    """Held-out examples measure questions never trained on: none may be in the training data."""
    heldout = {example.key: example for example in content.heldout_examples}
    problems = []
    for example in content.training_examples:
        leaked = heldout.get(example.key)
        if leaked is not None:
            problems.append(
                Problem(
                    content.layout.relative(example.path),
                    example.line,
                    f"{example.text!r} is a held-out example ({_where(content, leaked)}, "
                    f"{leaked.intent})",
                    "delete it from the training data or write a different question",
                )
            )
    return problems


def check_answer_size(content: Content) -> List[Problem]:
    problems = []
    for response in content.responses:
        for variant in response.variants:
            size = len((variant.text or "").encode("utf-8"))
            if size > MAX_ANSWER_BYTES:
                problems.append(
                    Problem(
                        content.layout.relative(variant.path),
                        variant.line,
                        f"{response.name} is {size} bytes of UTF-8, more than Instagram's "
                        f"{MAX_ANSWER_BYTES}",
                        f"cut {size - MAX_ANSWER_BYTES} bytes, or move a detail into a quick "
                        "reply topic",
                    )
                )
    return problems


def link_problem(link: str) -> str | None:
    """Why a link in an answer would not work, or None. No network: only its form."""
    if not link.lower().startswith("https://"):
        if link.lower().startswith("www."):
            return f"the link {link!r} has no https://"
        return f"the link {link!r} is not https"
    bad = URL_CHARS.sub("", link)
    if bad:
        return f"the link {link!r} contains {bad[0]!r}, which is not allowed in a URL"
    if re.search(r"%(?![0-9A-Fa-f]{2})", link):
        return f"the link {link!r} has a '%' that is not followed by two hex digits"
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError as error:
        return f"the link {link!r} does not parse ({error})"
    host = parts.hostname or ""
    labels = host.split(".")
    if len(labels) < 2 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        return f"the link {link!r} has no valid host name"
    if port is not None and port != 443:
        return f"the link {link!r} names port {port}"
    return None


def check_links(content: Content) -> List[Problem]:
    problems = []
    for response in content.responses:
        for variant in response.variants:
            text = variant.text or ""
            for match in LINK.finditer(text):
                link = match.group(0).rstrip(TRAILING_PUNCTUATION)
                why = link_problem(link)
                after = text[match.end() :]
                if why is None and link.endswith(("/", "-")) and after.startswith(" "):
                    following = after.split(None, 1)[0] if after.strip() else ""
                    if SLUG.fullmatch(following.rstrip(TRAILING_PUNCTUATION)):
                        why = f"the link {link!r} seems to go on after a space ({following!r})"
                if why:
                    problems.append(
                        Problem(
                            content.layout.relative(variant.path),
                            variant.line,
                            f"{response.name}: {why}",
                            "write the full https:// address in one piece, without spaces",
                        )
                    )
    return problems


def is_official(link: str) -> bool:
    """Whether a well-formed https link is on one of OFFICIAL_SITES."""
    host = (urlsplit(link).hostname or "").lower().rstrip(".")
    return any(host == site or host.endswith("." + site) for site in OFFICIAL_SITES)


def check_official_sites(content: Content) -> List[Problem]:
    """Answers link official pages only (a well-formed link elsewhere is still refused)."""
    problems = []
    for response in content.responses:
        for variant in response.variants:
            for match in LINK.finditer(variant.text or ""):
                link = match.group(0).rstrip(TRAILING_PUNCTUATION)
                if link_problem(link) is None and not is_official(link):
                    problems.append(
                        Problem(
                            content.layout.relative(variant.path),
                            variant.line,
                            f"{response.name}: {link!r} is not an official site",
                            "link the official page (mi5.gov.uk, gov.uk, police.uk or a "
                            "statutory body in OFFICIAL_SITES, training/checks.py)",
                        )
                    )
    return problems


def check_entity_patterns(content: Content) -> List[Problem]:
    """Every line of the spaCy entity ruler's patterns file is a pattern spaCy accepts."""
    layout = content.layout
    path = layout.entity_patterns
    if not path.is_file():
        return []
    where = layout.relative(path)
    fix_shape = (
        'write it as {"label": "job_family", "pattern": [{"LOWER": "tech"}], "id": "technology"} '
        "(pattern: a phrase or a list of token patterns)"
    )
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            what = f"not valid JSON: {error.msg} (column {error.colno})"
            problems.append(Problem(where, number, what, "one JSON object per line"))
            continue
        if not isinstance(entry, dict):
            problems.append(Problem(where, number, "not a JSON object", fix_shape))
            continue
        shape = _pattern_problem(entry)
        if shape:
            problems.append(Problem(where, number, shape, fix_shape))
    return problems


def _pattern_problem(entry: dict) -> str | None:
    label, pattern = entry.get("label"), entry.get("pattern")
    if not isinstance(label, str) or not label.strip():
        return "the pattern has no label"
    if "id" in entry and not isinstance(entry["id"], str):
        return "the id is not a string"
    unknown = sorted(set(entry) - {"label", "pattern", "id"})
    if unknown:
        return f"unknown key {unknown[0]!r}"
    if isinstance(pattern, str):
        return None if pattern.strip() else "the phrase pattern is empty"
    if not isinstance(pattern, list) or not pattern:
        return "the pattern is neither a phrase nor a list of token patterns"
    from spacy.schemas import validate_token_pattern  # spaCy's own rules for token patterns

    errors = validate_token_pattern(pattern)
    return f"spaCy rejects the token pattern: {'; '.join(errors)}" if errors else None


CHECKS: List[Callable[[Content], List[Problem]]] = [
    check_topic_names,
    check_topic_examples,
    check_topic_answers,
    check_topic_stories,
    check_topic_heldout,
    check_duplicates,
    check_heldout_leaks,
    check_answer_size,
    check_links,
    check_topic_titles,
    check_official_sites,
]


def run_checks(root: Path = ROOT) -> List[Problem]:
    """All problems in the project at `root`. Unparsable YAML stops the content checks."""
    content = read_content(Layout(Path(root)))
    problems = content.syntax + check_entity_patterns(content)
    if content.syntax:
        return problems
    problems += content.format
    for check in CHECKS:
        problems += check(content)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.checks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: here)")
    args = parser.parse_args(argv)
    problems = run_checks(args.root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("Content checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
