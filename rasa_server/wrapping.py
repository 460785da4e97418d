"""Wrapping one of Rasa's functions in place, once, however often `install()` runs."""

from __future__ import annotations

from typing import Any, Callable


def wrap_once(owner: Any, name: str, wrap: Callable[[Any], Any], *, static: bool = False) -> None:
    """Replace ``owner.name`` with ``wrap(owner.name)`` unless it is wrapped already.

    A wrapper made with `functools.wraps` carries ``__wrapped__``, which is how a second
    call (a test, or a second server in the same process) sees the first.
    """
    current = getattr(owner, name)
    if getattr(current, "__wrapped__", None) is not None:
        return
    wrapped = wrap(current)
    setattr(owner, name, staticmethod(wrapped) if static else wrapped)
