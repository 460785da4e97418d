"""`make check`: every topic has a quick reply title (data/topic_titles.yml) that fits.

Topics are offered under these titles, e.g. when the assistant asks "Did you mean…?"
(actions/did_you_mean.py); a topic without one could never be offered, and Instagram cuts a
title longer than 20 characters. Titles may name FAQ topics not in the data yet (a topic on its
way); a title for another intent must name an intent of the domain.
"""

from __future__ import annotations

from typing import List, Set

from actions.topic_titles import FAQ_PREFIX, MAX_TITLE_CHARS
from training.content import (
    Content,
    ContentError,
    Problem,
    child,
    entries,
    items,
    key_of,
    line_of,
    load,
    scalar,
)

TITLES_FILE = "topic_titles.yml"


def check_topic_titles(content: Content) -> List[Problem]:
    layout = content.layout
    path = layout.data / TITLES_FILE
    where = layout.relative(path)
    if not path.is_file():
        return [Problem(where, 1, "the topic titles file is missing", _add("faq/<topic>"))]
    try:
        document = load(path, layout)
    except ContentError as error:  # read_content reports it already; nothing more to check
        return [error.problem]
    titles, titles_key = child(document.node, "titles"), key_of(document.node, "titles")
    problems: List[Problem] = []
    named = set()
    intents = _domain_intents(content)
    for key, value in entries(titles):
        name, title = str(key.value), (scalar(value) or "").strip()
        named.add(name)
        if not title or len(title) > MAX_TITLE_CHARS:
            what = f"the title of {name} is {len(title)} characters long"
            fix = f"write a plain title of 1 to {MAX_TITLE_CHARS} characters, e.g. Age limits"
            problems.append(Problem(where, line_of(value), what, fix))
        if not name.startswith(FAQ_PREFIX) and name not in intents:
            what = f"{name} has a title but is not an intent of the domain"
            problems.append(Problem(where, line_of(key), what, "correct the name or delete it"))
    line = line_of(titles_key) if titles_key is not None else 1
    for topic in content.faq_topics():
        if FAQ_PREFIX + topic not in named:
            what = f"faq/{topic} has no quick reply title"
            problems.append(Problem(where, line, what, _add(FAQ_PREFIX + topic)))
    return problems


def _add(name: str) -> str:
    return f"add `{name}: <title of at most {MAX_TITLE_CHARS} characters>` under `titles:`"


def _domain_intents(content: Content) -> Set[str]:
    """The intents listed in domain.yml (a name, or a name with its settings)."""
    try:
        document = load(content.layout.domain, content.layout)
    except (ContentError, OSError):
        return set()
    names = set()
    for item in items(child(document.node, "intents")):
        name = scalar(item)
        if name is None and entries(item):
            name = str(entries(item)[0][0].value)
        if name:
            names.add(name)
    return names
