"""Keep applicants' text out of the Rasa server's own logs at INFO and above.

Rasa 3.6 logs through structlog and passes message text as keyword fields (`text`,
`user_message`, `parse_data_text`, ...); most of those calls are at DEBUG, but some are not:
the REST channel logs the text of a message it failed to answer at ERROR. Rasa's own
anonymizer only works with Rasa Pro's anonymization pipeline, so this adds a structlog
processor that replaces those fields with "[redacted]" unless the log line is at DEBUG
(where a developer asked for everything: never run production at DEBUG).
"""

from __future__ import annotations

import logging
from typing import Any, MutableMapping

REDACTED = "[redacted]"
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


def redact_rasa_logs() -> None:
    """Put redact_text_fields first in structlog's processors; safe to call more than once.

    The processor list is changed in place: Rasa configures structlog to cache each logger
    on first use, and cached loggers keep the list object they were created with.
    """
    import structlog

    processors = structlog.get_config()["processors"]
    if redact_text_fields in processors:
        return
    if isinstance(processors, list):
        processors.insert(0, redact_text_fields)
    else:
        structlog.configure(processors=[redact_text_fields, *processors])
    logging.getLogger(__name__).debug("structlog text fields are redacted above DEBUG")
