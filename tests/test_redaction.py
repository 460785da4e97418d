"""Personal data is replaced by placeholders before trainers see applicants' messages.

Runs on the project's spaCy pipeline (var/spacy/en_careers, built by `make spacy`), the one the
NLU uses, so it tests the tokenisation the assistant really has.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts.stack import ROOT, quiet_env
from training.redaction import (
    CARD,
    EMAIL,
    NI_NUMBER,
    PHONE,
    PLACEHOLDERS,
    POSTCODE,
    URL,
    kinds,
    redact,
)

CASES = {
    EMAIL: [
        "jane.doe@example.com",
        "JOHN_SMITH+mi5@mail.example.co.uk",
        "a.b-c@sub.domain.org",
    ],
    PHONE: [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "(020) 7946-0958",
        "0161 496 0000",
        "01632 960001",
        "0044 20 7946 0958",
        "0800 123 4567",
    ],
    NI_NUMBER: [
        "AB123456C",
        "AB 12 34 56 C",
        "JG 103759 A",
        "ce 12 34 56 d",
        "tn123456a".replace("tn", "tm"),
    ],
    POSTCODE: [
        "SW1A 1AA",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "EC1A1BB",
        "W1A 0AX",
        "sw1a 1aa",
        "gir 0aa",
    ],
    CARD: [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",
        "3782 822463 10005",
        "6011000990139424",
    ],
    URL: [
        "instagram.com/jane_doe",
        "https://www.instagram.com/jane.doe/",
        "https://www.linkedin.com/in/jane-doe-123/",
        "linkedin.com/in/janedoe",
        "https://www.facebook.com/jane.doe.5?ref=bookmarks",
        "tiktok.com/@jane_doe",
        "http://example.com/cv/jane-doe.pdf",
        "www.github.com/janedoe",
    ],
}
CASE_LIST = [(placeholder, value) for placeholder, values in CASES.items() for value in values]


@pytest.mark.parametrize("placeholder,value", CASE_LIST)
def test_each_kind_is_replaced_in_a_sentence(placeholder: str, value: str):
    text = f"Hi, it's Jane, you can reach me on {value} if that helps."
    redacted = redact(text)
    assert redacted == f"Hi, it's Jane, you can reach me on {placeholder} if that helps.", kinds(
        text
    )


@pytest.mark.parametrize("placeholder,value", CASE_LIST)
def test_each_kind_is_replaced_at_the_edges_of_a_message(placeholder: str, value: str):
    assert redact(value) == placeholder
    assert redact(f"{value}.") == f"{placeholder}."


def test_several_kinds_in_one_message_keep_the_words_between():
    text = (
        "I'm at 10 Downing St, SW1A 2AA, phone 07700 900123 or email jane@example.com, NI "
        "AB123456C, paid with 4111 1111 1111 1111, see linkedin.com/in/jane"
    )
    assert redact(text) == (
        "I'm at 10 Downing St, [POSTCODE], phone [PHONE] or email [EMAIL], NI [NI_NUMBER], "
        "paid with [CARD], see [URL]"
    )


NOT_PERSONAL = [
    "I have 2 years experience in IT",
    "Is the salary £35,000 or £40,000 a year?",
    "I was born in 1995 and graduated in 2017",
    "Can I apply at 17?",
    "How long does vetting take, 6 months?",
    "I want to be an intelligence officer",
    "Do you work with GCHQ and MI6?",
    "Is MI5 hiring for IT, cyber or data roles?",
    "I'm 5 ft 10 and was in the army for 12 years",
    "Shifts 9 to 5, 24/7 operations, 2023-2024 intake",
    "Is it 37 hours a week? I start at 3pm on the 2nd",
    "call 999 in an emergency, or 101, or 111",
    "Where can I read more? https://www.mi5.gov.uk/careers",
    "The form is on www.gov.uk/apply-for-security-clearance",
    "https://www.mi5.gov.uk/careers/working-at-mi5/vetting",
    "Is example.com a real site?",
    "My reference is 1234 5678",
    "this card number 4111 1111 1111 1112 fails its check digit",
    "and 12345 678901 is not a UK number",
    "A-level grades A*AB, level 3, band B2 and SEO grade",
    "Do you accept a BSc, an MSc or a PhD?",
    "I'm a UK citizen, dual national with the USA",
    "Can I mention it to my mum? Thanks :)",
    "",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_ordinary_words_numbers_and_job_titles_are_kept(text: str):
    assert redact(text) == text, kinds(text)


def test_redacting_twice_changes_nothing_more():
    text = "jane@example.com 07700 900123 AB123456C SW1A 1AA 4111111111111111 instagram.com/jane"
    once = redact(text)
    assert once == " ".join(PLACEHOLDERS)
    assert redact(once) == once


def test_spacy_is_loaded_on_first_use_not_at_import():
    probe = "import sys, training.redaction as r; print('spacy' in sys.modules, r._redactors == {})"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_a_missing_pipeline_says_how_to_build_it(tmp_path):
    from training.redaction import redactor

    with pytest.raises(FileNotFoundError, match="make spacy"):
        redactor(tmp_path / "no_pipeline")


@pytest.mark.parametrize("unit", ["1 ", "a ", "AB 12 ", "+44 "])
def test_long_runs_of_short_tokens_are_handled(unit: str):
    # Runs are searched in windows of a few tokens, so a 10,000-character message of short
    # tokens takes about as long as any other; a run-length pattern would take minutes.
    text = (unit * (10_000 // len(unit))).strip()
    assert redact(text) == text
