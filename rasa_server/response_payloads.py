"""Intent payloads in answers go out as written, never read as slot templates.

Once any slot has a value, Rasa fills `{slot}` placeholders in a response's text and in its
buttons (rasa/core/nlg/interpolator.py). A button that runs an intent with entities carries
JSON, `/search_vacancies{"job_family":"technology"}`, whose braces Rasa takes for a
placeholder: it finds no slot named `"job_family":"technology"`, sends the payload unchanged,
and logs an ERROR with a traceback whose locals hold every slot's value (what the applicant
told us: a place, a job). A payload starting with "/" is a command for Rasa's regex
handler, never a template, so `install()` (called by `python -m rasa_server`) leaves it alone.
tests/production/test_response_payloads.py shows Rasa's own interpolator logging the error.
`interpolate_text` is private to Rasa's NLG, so `install()` refuses any Rasa but the pinned
one (rasa_server/versions.py).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict

from rasa_server.versions import require
from rasa_server.wrapping import wrap_once

Interpolate = Callable[[str, Dict[str, Any]], str]


def leaving_intent_payloads(interpolate_text: Interpolate) -> Interpolate:
    @functools.wraps(interpolate_text)
    def _interpolate_text(response: str, values: Dict[str, Any]) -> str:
        if response.lstrip().startswith("/"):
            return response
        return interpolate_text(response, values)

    return _interpolate_text


def install() -> None:
    """Wrap Rasa's response interpolator (once; safe to call again)."""
    require("response_payloads: interpolator.interpolate_text wrapped")
    from rasa.core.nlg import interpolator

    wrap_once(interpolator, "interpolate_text", leaving_intent_payloads)
