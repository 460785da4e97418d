"""Tracebacks without applicant data, for every process's standard-library logging.

An exception's message can quote what it was given (SQLAlchemy's the statement's parameters,
a JSON error the body), and a traceback's frames can be rendered with their local variables.
Above DEBUG a log record's traceback is written as its frames (file, line, function) and the
exception's type only. No third-party imports: the action server and the desk use it too
(rasa_server/log_redaction.py adds the same for Rasa's structlog records).
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType
from typing import Any, List, Tuple, Type

REDACTED = "[redacted]"
ExcInfo = Tuple[Type[BaseException], BaseException, TracebackType | None]


def _chain(error: BaseException | None) -> List[BaseException]:
    """The exception and those it was raised from or while handling, outermost last."""
    chain: List[BaseException] = []
    while error is not None and all(error is not seen for seen in chain):
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain[::-1]


def traceback_without_data(exc_info: ExcInfo) -> str:
    """A traceback's frames and exception types, without messages or local variables."""
    parts = []
    for error in _chain(exc_info[1]):
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        parts.append(
            f"Traceback (most recent call last):\n{frames}{type(error).__name__}: {REDACTED}"
        )
    return "\n\nThen:\n".join(parts)


def install_traceback_redaction() -> None:
    """Every standard-library log record above DEBUG that carries an exception gets its
    traceback as traceback_without_data (formatters print `exc_text` when it is set), whatever
    logger or handler writes it. Safe to call more than once; call it early in each process."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "careers_private", False):
        return

    def private_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None and record.levelno > logging.DEBUG:
            record.exc_text = traceback_without_data(exc_info)
        return record

    private_record.careers_private = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(private_record)
