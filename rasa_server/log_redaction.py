"""Keep applicants' text out of every process's logs at INFO and above.

Rasa 3.6 logs through structlog and passes message text as keyword fields (`text`,
`user_message`, `parse_data_text`, ...); most of those calls are at DEBUG, but some are not:
the REST channel logs the text of a message it failed to answer at ERROR. Rasa's own
anonymizer only works with Rasa Pro's anonymization pipeline, so this adds a structlog
processor that replaces those fields with "[redacted]" unless the log line is at DEBUG
(where a developer asked for everything: never run production at DEBUG).

Exceptions carry text too. Rasa renders an exception logged through structlog with every
frame's local variables (structlog's `dict_tracebacks`, or rich's traceback in a terminal),
so the REST channel's failure record held `"locals": {"text": ...}` beside its redacted
`text` field; and an exception's message can quote what it was given (SQLAlchemy's the
statement's parameters, a JSON error the body). So every traceback, in structlog's records
and in the standard library's (`install_traceback_redaction`, in every process), is written
as its frames (file, line, function) and the exception's type only, above DEBUG; locals never.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Callable, List, MutableMapping, TextIO

from privacy.tracebacks import (
    REDACTED,
    ExcInfo,
    install_traceback_redaction,
    traceback_without_data,
)

# Rasa's own list (rasa.utils.log_utils._anonymizer) of fields that can carry what a user wrote.
TEXT_FIELDS = frozenset(
    {
        "text", "response_text", "user_text", "slot_values", "parse_data_text",
        "parse_data_entities", "prediction_events", "tracker_latest_message",
        "prefilled_slots", "message", "response", "slot_candidates", "rasa_event",
        "rasa_events", "tracker_states", "current_states", "old_states", "successes",
        "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
        "json_message",
    }
)  # fmt: skip
KEPT_LEVELS = frozenset({"debug", "notset"})


def redact_text_fields(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: blank the fields that can hold message text, except at DEBUG."""
    if method_name not in KEPT_LEVELS:
        for key in TEXT_FIELDS.intersection(event_dict):
            event_dict[key] = REDACTED
    return event_dict


def _structlog_exception(method_name: str, exc_info: ExcInfo) -> List[dict]:
    """structlog's exception dicts without locals, and without messages above DEBUG."""
    from structlog.tracebacks import ExceptionDictTransformer

    stacks = ExceptionDictTransformer(show_locals=False)(exc_info)
    if method_name not in KEPT_LEVELS:
        for stack in stacks:
            stack["exc_value"] = REDACTED
            stack.pop("syntax_error", None)
    return stacks


def tracebacks_without_data(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor in place of `dict_tracebacks`: the same JSON exception record,
    without local variables or (above DEBUG) the exception's message."""
    exc_info = _exc_info(event_dict.pop("exc_info", None))
    if exc_info is not None:
        event_dict["exception"] = _structlog_exception(method_name, exc_info)
    return event_dict


def _exc_info(value: Any) -> ExcInfo | None:
    """What `exc_info=` says, as structlog reads it: an exception, a tuple, or True."""
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple):
        return value if value[1] is not None else None
    if value:
        current = sys.exc_info()
        return current if current[1] is not None else None
    return None


def _console_exception(stream: TextIO, exc_info: ExcInfo) -> None:
    """For structlog's console renderer (a terminal): no rich traceback with locals."""
    stream.write("\n" + traceback_without_data(exc_info))


def _private_renderers(processors: List[Callable[..., Any]]) -> None:
    """Swap Rasa's exception renderers for ones that write no locals or messages."""
    import structlog

    for index, processor in enumerate(processors):
        if processor is structlog.processors.dict_tracebacks:
            processors[index] = tracebacks_without_data
        elif isinstance(processor, structlog.dev.ConsoleRenderer) and not getattr(
            processor, "careers_private", False
        ):
            renderer = type(processor)(exception_formatter=_console_exception)
            renderer.careers_private = True  # type: ignore[attr-defined]
            processors[index] = renderer


def redact_rasa_logs() -> None:
    """Put redact_text_fields first in structlog's processors and take the data out of its
    tracebacks; safe to call more than once.

    The processor list is changed in place: Rasa configures structlog to cache each logger
    on first use, and cached loggers keep the list object they were created with.
    """
    import structlog

    install_traceback_redaction()
    processors = structlog.get_config()["processors"]
    if not isinstance(processors, list):
        processors = list(processors)
        structlog.configure(processors=processors)
    _private_renderers(processors)
    if redact_text_fields in processors:
        return
    processors.insert(0, redact_text_fields)
    logging.getLogger(__name__).debug("structlog text fields are redacted above DEBUG")
