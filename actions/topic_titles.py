"""The short titles topics are offered under as quick replies, from data/topic_titles.yml.

One file for every place a topic is shown as a button (the "Did you mean…?" question first),
so a topic reads the same everywhere; `make check` requires one for every FAQ topic.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from actions.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

TOPIC_TITLES_FILE = PROJECT_ROOT / "data" / "topic_titles.yml"
# Instagram shows at most 20 characters of a quick reply's title.
MAX_TITLE_CHARS = 20
FAQ_PREFIX = "faq/"


def load_topic_titles(path: Path = TOPIC_TITLES_FILE) -> Dict[str, str]:
    """Topic (``faq/process_vetting``) or intent (``search_vacancies``) -> its title.

    A title that is missing, empty or too long is left out, so no button is ever cut short;
    an unreadable file gives no titles, and the assistant asks the applicant to rephrase.
    """
    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError):
        logger.exception("%s: cannot read the topic titles", path)
        return {}
    titles = document.get("titles") if isinstance(document, dict) else None
    return {
        str(name): str(title).strip()
        for name, title in (titles if isinstance(titles, dict) else {}).items()
        if title is not None and 0 < len(str(title).strip()) <= MAX_TITLE_CHARS
    }


def payload_of(name: str) -> str:
    """A quick reply's payload: FAQ topics by name (components/faq_quick_reply.py), other
    intents as Rasa's ``/intent``."""
    return name if name.startswith(FAQ_PREFIX) else f"/{name}"
