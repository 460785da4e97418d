"""Remove personal data from applicants' messages before a trainer sees or exports them.

Applicants paste e-mail addresses, phone numbers, National Insurance numbers, postcodes, card
numbers and links to their profiles into a chat. The training inbox shows messages to people who
do not need any of that, and labelled messages end up in the training data in git, so the data
is replaced by placeholders such as [EMAIL] first.

The text is split by the project's own spaCy pipeline (var/spacy/en_careers, the one the NLU
uses), so what is redacted lines up with the tokens the assistant was trained on. spaCy splits a
phone number written with spaces into several tokens ("020", "7946", "0958"), so the `Matcher`
finds runs of number-like tokens and each run is then searched for the longest stretches that
form a valid number (a run can hold a phone number and "2" of "2 years"); a number is only
redacted when its digits make a UK phone number, a Luhn-valid card number, and so on, which is
what keeps "2 years", "1995" and "£35,000" as they are.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Sequence, Tuple
from urllib.parse import urlsplit

if TYPE_CHECKING:  # spaCy is imported when the first message is redacted, not at import time.
    from spacy.language import Language
    from spacy.tokens import Span

ROOT = Path(__file__).resolve().parent.parent
SPACY_MODEL = ROOT / "var" / "spacy" / "en_careers"

EMAIL, PHONE, NI_NUMBER, POSTCODE, CARD, URL = (
    "[EMAIL]",
    "[PHONE]",
    "[NI_NUMBER]",
    "[POSTCODE]",
    "[CARD]",
    "[URL]",
)
PLACEHOLDERS = (EMAIL, PHONE, NI_NUMBER, POSTCODE, CARD, URL)

# Official sites keep their links: they are what the assistant itself sends.
OFFICIAL_DOMAINS = ("gov.uk",)

# A token that can be part of a phone or card number: digits, "+44", "(0)20", "-", "(", ")".
NUMBER_PART = r"^[\d()+\-]+$"
# A token that can be part of a National Insurance number: "AB", "12", "123456", "C", "AB123456C".
NI_PART = r"^[A-Za-z]{0,2}\d{0,6}[A-Za-z]?\.?$"
NI_NUMBER_RE = re.compile(
    # HMRC's rules: the first letter is not D, F, I, Q, U or V; the second not D, F, I, O, Q, U
    # or V; BG, GB, KN, NK, NT, TN and ZZ are never issued; the suffix is A to D.
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]",
    re.IGNORECASE,
)
# The Royal Mail's postcode formats (outward code, then inward code: a digit and two letters).
OUTWARD = (
    r"(?:[A-PR-UWYZ]\d{1,2}|[A-PR-UWYZ][A-HK-Y]\d{1,2}|[A-PR-UWYZ]\d[A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y]\d[ABEHMNPRV-Y]|GIR)"
)
INWARD = r"\d[ABD-HJLNP-UW-Z]{2}"
OUTWARD_RE = rf"(?i)^{OUTWARD}$"
INWARD_RE = rf"(?i)^{INWARD}$"
POSTCODE_RE = rf"(?i)^{OUTWARD}{INWARD}$"
# "3pm" and "2nd" look like inward codes; written in lowercase they are a time or an ordinal.
NOT_INWARD = re.compile(r"\d(?:am|pm|st|nd|rd|th)")
# A web address with a path, e.g. tiktok.com/@someone, which spaCy's LIKE_URL misses.
URL_WITH_PATH = r"(?i)^(?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/\S*$"

MIN_CARD_DIGITS, MAX_CARD_DIGITS = 13, 19
TRAILING = ".,;:!?"


@dataclass(frozen=True)
class Found:
    """One piece of personal data: characters [start, end) of the text, and its placeholder."""

    start: int
    end: int
    placeholder: str


class Redactor:
    """Finds personal data with a spaCy `Matcher` on the project's pipeline's tokens."""

    def __init__(self, nlp: Language) -> None:
        from spacy.matcher import Matcher

        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab)
        self.matcher.add("EMAIL", [[{"LIKE_EMAIL": True}]])
        self.matcher.add(
            "URL", [[{"LIKE_URL": True}], [{"TEXT": {"REGEX": URL_WITH_PATH}}]], greedy="LONGEST"
        )
        self.matcher.add(
            "POSTCODE",
            [
                [{"TEXT": {"REGEX": OUTWARD_RE}}, {"TEXT": {"REGEX": INWARD_RE}}],
                [{"TEXT": {"REGEX": POSTCODE_RE}}],
            ],
        )
        # Tokens that can be part of a phone, card or NI number. The runs they form are put
        # together below, not with "OP": "+", whose matches grow with the square of a run's
        # length ("1 1 1 ..." in a 10,000-character message).
        self.matcher.add("NUMBER_PART", [[{"TEXT": {"REGEX": NUMBER_PART}}]])
        self.matcher.add("NI_PART", [[{"TEXT": {"REGEX": NI_PART}}]])
        self._checks: Dict[str, Callable[[Span], List[Found]]] = {
            "EMAIL": lambda span: [_found(span, EMAIL)],
            "URL": self._url,
            "POSTCODE": self._postcode,
        }
        # Card and phone numbers in runs of number-like tokens, and NI numbers in runs of
        # short tokens: the longest valid stretch first, of at most this many tokens.
        self._runs: Dict[str, Tuple[Callable[[str, int, int], Found | None], int]] = {
            "NUMBER_PART": (_number, 12),
            "NI_PART": (_ni_number, 5),
        }

    def find(self, text: str) -> List[Found]:
        """Every piece of personal data in `text`, in order, none overlapping."""
        doc = self.nlp.make_doc(text)
        found: List[Found] = []
        parts: Dict[str, List[int]] = {"NUMBER_PART": [], "NI_PART": []}
        for match_id, start, end in self.matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            if label in parts:
                parts[label].append(start)
            else:
                found.extend(self._checks[label](doc[start:end]))
        for label, starts in parts.items():
            found_in, max_tokens = self._runs[label]
            for first, last in _runs(starts):
                run = doc[first : last + 1]
                found.extend(_longest_valid(run, found_in, text, max_tokens))
        return _without_overlaps(found)

    def redact(self, text: str) -> str:
        pieces = []
        position = 0
        for item in self.find(text):
            pieces.append(text[position : item.start])
            pieces.append(item.placeholder)
            position = item.end
        pieces.append(text[position:])
        return "".join(pieces)

    # What each match is

    def _url(self, span: Span) -> List[Found]:
        # A sentence's full stop stays with the sentence: "see linkedin.com/in/jane/." ends "."
        address = span.text.rstrip(TRAILING)
        if not _personal_url(address):
            return []
        return [Found(span.start_char, span.start_char + len(address), URL)]

    def _postcode(self, span: Span) -> List[Found]:
        if len(span) == 2 and NOT_INWARD.fullmatch(span[1].text):
            return []
        return [_found(span, POSTCODE)]


def _runs(positions: List[int]) -> Iterator[Tuple[int, int]]:
    """(first, last) of each run of consecutive token positions."""
    ordered = sorted(set(positions))
    start = 0
    for n in range(1, len(ordered) + 1):
        if n == len(ordered) or ordered[n] != ordered[n - 1] + 1:
            yield ordered[start], ordered[n - 1]
            start = n


def _found(span: Span, placeholder: str) -> Found:
    return Found(span.start_char, span.end_char, placeholder)


def _longest_valid(
    run: Span, found_in: Callable[[str, int, int], Found | None], text: str, max_tokens: int
) -> List[Found]:
    """Left to right, the longest stretch of tokens from each token that `found_in` accepts
    (given the stretch's text and its start and end in the message `text`)."""
    starts = [token.idx for token in run]
    ends = [token.idx + len(token) for token in run]
    found = []
    start = 0
    while start < len(run):
        for end in range(min(len(run), start + max_tokens), start, -1):
            first, last = starts[start], ends[end - 1]
            item = found_in(text[first:last], first, last)
            if item:
                found.append(item)
                start = end
                break
        else:
            start += 1
    return found


def _number(text: str, start: int, end: int) -> Found | None:
    kind = _number_kind(text)
    return Found(start, end, kind) if kind else None


def _ni_number(text: str, start: int, end: int) -> Found | None:
    # spaCy keeps a full stop on a final letter ("C."): it is not part of the number.
    full_stop = text.endswith(".")
    letters = "".join((text[:-1] if full_stop else text).split())
    if not NI_NUMBER_RE.fullmatch(letters):
        return None
    return Found(start, end - full_stop, NI_NUMBER)


def _number_kind(text: str) -> str | None:
    # A stretch starts and ends with a digit (or "+44", "(0"), never with a lone "-" or ")".
    if not (text[0].isdigit() or text[0] in "+(") or not text[-1].isdigit():
        return None
    digits = re.sub(r"\D", "", text)
    if MIN_CARD_DIGITS <= len(digits) <= MAX_CARD_DIGITS and "+" not in text and _luhn(digits):
        return CARD
    return PHONE if _uk_phone(text, digits) else None


def _uk_phone(text: str, digits: str) -> bool:
    """+44 7700 900123, +44 (0)20 7946 0958, 0044..., 07700 900123, (020) 7946-0958, 0161..."""
    compact = re.sub(r"[\s\-]", "", text)
    if compact.startswith(("+44", "(+44", "0044")):
        national = digits[4:] if digits.startswith("0044") else digits[2:]
        if "(0)" in compact and national.startswith("0"):
            national = national[1:]
        return 9 <= len(national) <= 10 and national[0] in "1235789"
    if compact.startswith(("0", "(0")):
        return 10 <= len(digits) <= 11 and digits[1] in "1235789"
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0 and set(digits) != {"0"}


def _personal_url(text: str) -> bool:
    """A link with a path (a profile, a post, a document), except the official sites'."""
    address = text if re.match(r"(?i)^[a-z][a-z0-9+.-]*://", text) else f"http://{text}"
    try:
        parts = urlsplit(address)
    except ValueError:
        return True  # unreadable: safer gone
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or "." not in host:
        return False
    if any(host == domain or host.endswith("." + domain) for domain in OFFICIAL_DOMAINS):
        return False
    return bool(parts.path.strip("/") or parts.query or parts.fragment)


def _without_overlaps(found: Sequence[Found]) -> List[Found]:
    """Where two findings overlap, the one that starts first (then the longer) wins."""
    kept: List[Found] = []
    for item in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return kept


_lock = threading.Lock()
_redactors: Dict[Path, Redactor] = {}


def redactor(model: Path = SPACY_MODEL) -> Redactor:
    """The redactor on the project's spaCy pipeline, loaded on first use and then shared."""
    with _lock:
        if model not in _redactors:
            if not (model / "meta.json").exists():
                raise FileNotFoundError(
                    f"{model} is missing: build the project's spaCy pipeline with `make spacy`"
                )
            import spacy

            _redactors[model] = Redactor(spacy.load(model))
        return _redactors[model]


def redact(text: str) -> str:
    """`text` with e-mail addresses, phone numbers, NI numbers, postcodes, card numbers and
    personal links replaced by [EMAIL], [PHONE], [NI_NUMBER], [POSTCODE], [CARD] and [URL]."""
    if not text:
        return text
    return redactor().redact(text)


def kinds(text: str) -> List[Tuple[str, str]]:
    """What would be redacted, as (placeholder, original text) pairs (for tests and debugging)."""
    return [(item.placeholder, text[item.start : item.end]) for item in redactor().find(text)]
