"""An event's class found by its type name without walking Rasa's class tree every time.

Rasa rebuilds the conversation from its stored events for every message, and
`Event.resolve_by_type` lists every subclass of `Event` again for each event it rebuilds.
In a conversation of a few hundred events that walk took a fifth of the Rasa server's time
under the benchmark's REST load (py-spy). The answer only changes when a new subclass is
imported, so a class is remembered by its type name once found; a name not seen yet (an event class
imported later) is looked up the slow way, and Rasa's own method still decides what an
unknown name gives. `install()` is called by `python -m rasa_server`.

Measured A/B (BENCHMARKS.md, issue 16): when every turn rebuilds the conversation from
storage, as on a replica whose neighbour took the previous turn, +7.8% throughput and 5.3%
less CPU per message; with the conversation kept in memory (rasa_server/tracker_cache.py)
nothing measurable. A private API (`Event.resolve_by_type`), guarded by
rasa_server/versions.py; docs/upgrading.md says what to check.
"""

from __future__ import annotations

from typing import Callable, Dict, Type

from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from rasa_server.versions import require
from rasa_server.wrapping import wrap_once

_FOUND: Dict[str, Type[Event]] = {}
Resolve = Callable[..., Type[Event] | None]


def _first_subclass_named(type_name: str) -> Type[Event] | None:
    # Rasa's order: the first subclass with the name wins.
    return next((cls for cls in all_subclasses(Event) if cls.type_name == type_name), None)


def remembering(resolve_by_type: Resolve) -> Resolve:
    """Rasa's `resolve_by_type`, answering from memory for names it has resolved before."""

    def _resolve_by_type(type_name: str, default: Type[Event] | None = None) -> Type[Event] | None:
        found = _FOUND.get(type_name)
        if found is None:
            found = _first_subclass_named(type_name)
            if found is None:
                return resolve_by_type(type_name, default)
            _FOUND[type_name] = found
        return found

    _resolve_by_type.__wrapped__ = resolve_by_type  # type: ignore[attr-defined]
    return _resolve_by_type


def install() -> None:
    """Replace `Event.resolve_by_type` (once; safe to call again)."""
    require("event_types: Event.resolve_by_type wrapped")
    wrap_once(Event, "resolve_by_type", remembering, static=True)
