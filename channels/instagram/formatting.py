"""Rasa responses shaped to Instagram's limits, as Send API ``message`` objects.

Instagram refuses a text over 1,000 bytes of UTF-8 (bytes, not characters, so emoji and
non-Latin scripts count several times), so long texts are split where a reader would
pause: between lines first, then between sentences, then between words. Quick replies
are at most 13, with titles of at most 20 characters (longer ones are cut by Instagram
mid-word, so they are shortened here with an ellipsis instead).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, Iterable, List, Tuple

logger = logging.getLogger(__name__)

MAX_TEXT_BYTES = 1000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
MAX_PAYLOAD_CHARS = 1000

_LINES = re.compile(r"(\s*\n\s*)")
_SENTENCES = re.compile(r"(?<=[.!?…:;])(\s+)")
_WORDS = re.compile(r"(\s+)")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> List[str]:
    """``text`` as parts of at most ``limit`` UTF-8 bytes, cut at the gentlest boundary."""
    text = text.strip()
    if not text:
        return []
    if utf8_len(text) <= limit:
        return [text]
    parts: List[str] = []
    current = ""
    for separator, unit in _units(text, limit):
        candidate = f"{current}{separator}{unit}" if current else unit
        if utf8_len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.strip())
        current = unit
    if current.strip():
        parts.append(current.strip())
    return parts


def _units(text: str, limit: int) -> Iterable[Tuple[str, str]]:
    """(separator before it, piece) pairs, each piece at most ``limit`` bytes."""
    for line_sep, line in _split_keeping(_LINES, text):
        if utf8_len(line) <= limit:
            yield _line_break(line_sep), line
            continue
        first = True
        for sentence_sep, sentence in _split_keeping(_SENTENCES, line):
            separator = _line_break(line_sep) if first else sentence_sep
            first = False
            if utf8_len(sentence) <= limit:
                yield separator, sentence
                continue
            first_word = True
            for word_sep, word in _split_keeping(_WORDS, sentence):
                piece_sep = separator if first_word else word_sep
                first_word = False
                for piece in _cut_bytes(word, limit):
                    yield piece_sep, piece
                    piece_sep = ""  # pieces of one word join without a space


def _split_keeping(pattern: re.Pattern, text: str) -> List[Tuple[str, str]]:
    """Pieces of ``text`` with the separator that preceded each ('' for the first)."""
    tokens = pattern.split(text)
    pairs = [("", tokens[0])]
    pairs.extend((tokens[i], tokens[i + 1]) for i in range(1, len(tokens) - 1, 2))
    return [(sep, piece) for sep, piece in pairs if piece]


def _line_break(separator: str) -> str:
    if not separator:
        return ""
    return "\n\n" if separator.count("\n") > 1 else "\n"


def _cut_bytes(word: str, limit: int) -> List[str]:
    """A word longer than ``limit`` bytes, cut between characters (never inside one)."""
    pieces: List[str] = []
    current = ""
    for char in word:
        if utf8_len(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces


def shorten(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def quick_replies(buttons: Iterable[Any]) -> Tuple[List[Dict[str, str]], List[str]]:
    """Rasa buttons as Instagram quick replies, and any link buttons as text lines.

    A quick reply's payload comes back as the message text, so "faq/<topic>" and
    "/intent" payloads reach Rasa exactly as the buttons meant them.
    """
    replies: List[Dict[str, str]] = []
    links: List[str] = []
    for button in buttons or []:
        if not isinstance(button, dict):
            continue
        title = str(button.get("title") or "").strip()
        payload = button.get("payload")
        url = button.get("url")
        if not title:
            continue
        if (payload is None or str(payload).strip() == "") and url:
            links.append(f"{title}: {url}")
            continue
        payload_text = str(payload).strip() if payload not in (None, "") else title
        replies.append(
            {
                "content_type": "text",
                "title": shorten(title),
                "payload": payload_text[:MAX_PAYLOAD_CHARS],
            }
        )
    if len(replies) > MAX_QUICK_REPLIES:
        logger.warning(
            "instagram.quick_replies.truncated count=%d kept=%d", len(replies), MAX_QUICK_REPLIES
        )
        replies = replies[:MAX_QUICK_REPLIES]
    return replies, links


def text_messages(text: str, replies: List[Dict[str, str]] | None = None) -> List[Dict[str, Any]]:
    """Send API message objects for a text; quick replies go on the last part."""
    messages: List[Dict[str, Any]] = [{"text": part} for part in split_text(text)]
    if replies:
        if not messages:
            # Quick replies need a non-empty text to hang on.
            messages = [{"text": "Please choose:"}]
        messages[-1]["quick_replies"] = replies
    return messages


def image_message(url: str) -> Dict[str, Any]:
    return {"attachment": {"type": "image", "payload": {"url": url}}}
