"""Plain text from the HTML that feeds put in titles and descriptions.

Nothing from a feed is sent to applicants as markup: Instagram shows it literally and the web
chat must never render it. Comments, scripts and styles go with their content, other tags go
(block tags leave a line break), entities are decoded, and anything still shaped like a tag
afterwards (text that was entity-escaped markup, "&lt;b&gt;") goes too.

Regular expressions rather than html.parser: a feed of 10,000 postings must be read within the
fetch timeout, and html.parser is several times slower. The text is only read, never rendered,
so a tag the expressions mis-read costs at worst a stray word, never markup in a message.
"""

from __future__ import annotations

import html
import re

BLOCK_TAGS = (
    "address|article|aside|blockquote|br|dd|div|dl|dt|footer|h[1-6]|header|hr|li|main|nav|ol|p|"
    "pre|section|table|td|th|tr|ul"
)
COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
HIDDEN = re.compile(
    r"<(script|style|template|noscript|head|title)\b[^>]*>.*?(?:</\1\s*>|$)",
    re.DOTALL | re.IGNORECASE,
)
BLOCK = re.compile(rf"</?(?:{BLOCK_TAGS})\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
TAG = re.compile(r"</?[A-Za-z!?](?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
LEFTOVER_TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,500}>")
TAG_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


def html_to_text(markup: str) -> str:
    """Paragraphs separated by one newline, words by one space."""
    if "<" in markup:
        markup = COMMENT.sub(" ", markup)
        markup = HIDDEN.sub(" ", markup)
        markup = BLOCK.sub("\n", markup)
        markup = TAG.sub("", markup)
    if "&" in markup:
        markup = html.unescape(markup)
    return tidy(markup)


def tidy(text: str) -> str:
    if "<" in text:
        text = TAG_OPENER.sub("", LEFTOVER_TAG.sub(" ", text))
    text = CONTROL.sub("", text.replace("\r\n", "\n"))
    lines = (SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(text: str) -> str:
    return " ".join(html_to_text(text).split())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + "…"


def first_sentence(text: str, limit: int) -> str:
    paragraph = text.split("\n", 1)[0].strip()
    match = re.match(r"(.+?[.!?])(\s|$)", paragraph)
    sentence = match.group(1) if match else paragraph
    return shorten(sentence, limit)
