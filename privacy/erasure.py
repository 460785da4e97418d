"""The erasure marker shared by the action server (which sets it) and the tracker store.

An erasure is one slot event, set by the action that erased the applicant's desk records.
The tracker store (rasa_server/tracker_store.py) deletes the whole conversation instead of
saving a turn that carries it, so the marker itself is never stored.
"""

from __future__ import annotations

from typing import Any, Iterable

ERASED_SLOT = "data_erased"


def asks_for_erasure(events: Iterable[Any]) -> bool:
    """True if any of the events (Rasa `Event` objects) is the erasure marker."""
    return any(
        getattr(event, "key", None) == ERASED_SLOT and bool(getattr(event, "value", None))
        for event in events
        if getattr(event, "type_name", None) == "slot"
    )
