"""Each test's kind (the pytest markers unit, e2e, browser, production), read from what it uses.

Nobody writes the kind by hand, so a test cannot be filed as a unit test by mistake:
- production: under tests/production/ (needs the shared PostgreSQL and Redis);
- browser: uses the `browser` fixture (Debian's Chromium);
- e2e: needs the trained model, or it (or a fixture it uses, or a project function either calls
  by name) runs processes of the project's own: a service through `Stack` and its wrappers,
  or a command line through `subprocess`;
- unit: everything else: in-process code, with thread-based stand-ins at most.

An explicit marker may only raise a test's kind (for a test that starts a process some other
way), never lower it. While a unit test or its fixtures run, starting one of the project's
programs fails the test with the reason, so a way of starting one that this module does not
know of is caught, not silently run in `make test-fast`.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import CodeType
from typing import Any, Callable, Iterator, List, Set

import pytest

# Cheapest first: the order in which an explicit marker may raise a test's kind.
KINDS = ("unit", "e2e", "browser", "production")
PROJECT = Path(__file__).resolve().parents[2]
VENV = (PROJECT / ".venv").resolve()
PRODUCTION_TESTS = PROJECT / "tests" / "production"
BROWSER_FIXTURES = frozenset({"browser"})
MODEL_FIXTURES = frozenset({"trained_model"})
# Names whose use starts a process: scripts/stack.py's `Stack`, the tests' wrappers of it that
# pick a stack at run time, and `subprocess` itself.
PROCESS_STARTERS = frozenset({"Stack", "running_servers", "subprocess"})
# Programs a unit test must not start, besides this interpreter: Rasa's command line and the
# services the e2e and browser tests run.
OTHER_PROGRAMS = frozenset({"rasa", "redis-server", "postgres", "chromedriver", "chromium"})


def names_used(code: CodeType) -> Set[str]:
    """The global and attribute names a function's code (and code nested in it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= names_used(constant)
    return names


def starts_processes(function: Callable[..., Any], seen: Set[CodeType]) -> bool:
    """Whether a function refers to a process starter, itself or through the project's own
    functions it calls by name (a test module's helper that wraps `Stack`, for example)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None or code in seen or not _in_project(code):
        return False
    seen.add(code)
    names = names_used(code)
    if names & PROCESS_STARTERS:
        return True
    scope = getattr(inspect.unwrap(function), "__globals__", {})
    helpers = [scope.get(name) for name in names]
    return any(inspect.isfunction(helper) and starts_processes(helper, seen) for helper in helpers)


def _in_project(code: CodeType) -> bool:
    path = Path(code.co_filename).resolve()
    return PROJECT in path.parents and VENV not in path.parents


def functions_of(item: pytest.Item) -> Iterator[Callable[..., Any]]:
    """The test function and every fixture function it uses, directly or through others."""
    if callable(getattr(item, "obj", None)):
        yield item.obj  # type: ignore[attr-defined]
    info = getattr(item, "_fixtureinfo", None)
    for definitions in info.name2fixturedefs.values() if info else ():
        for definition in definitions:
            yield definition.func


def kind_of(item: pytest.Item) -> str:
    """The kind this test's own use of fixtures and process starters says it is."""
    if PRODUCTION_TESTS in Path(str(item.fspath)).resolve().parents:
        return "production"
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & BROWSER_FIXTURES:
        return "browser"
    if fixtures & MODEL_FIXTURES:
        return "e2e"
    seen: Set[CodeType] = set()
    if any(starts_processes(function, seen) for function in functions_of(item)):
        return "e2e"
    return "unit"


def mark(item: pytest.Item) -> None:
    """Give the test exactly one kind marker; refuse a hand-written one that lowers its kind."""
    found = kind_of(item)
    written = sorted({marker.name for marker in item.iter_markers() if marker.name in KINDS})
    if len(written) > 1:
        raise pytest.UsageError(f"{item.nodeid}: marked {' and '.join(written)}; give one kind")
    if written and KINDS.index(written[0]) < KINDS.index(found):
        raise pytest.UsageError(
            f"{item.nodeid}: marked {written[0]}, but what it uses makes it {found} "
            "(tests/support/kinds.py)"
        )
    if not written:
        item.add_marker(getattr(pytest.mark, found))


def runs_a_program_of_ours(args: Any) -> bool:
    """Whether a command line runs this interpreter (so the project's code), Rasa, a server, a
    database or a browser; not, say, `ldconfig` run by a library looking for a shared object."""
    argv: List[str] = shlex.split(args) if isinstance(args, str) else [os.fspath(a) for a in args]
    if not argv:
        return False
    program = os.path.realpath(argv[0]) if os.sep in argv[0] else argv[0]
    return program == os.path.realpath(sys.executable) or Path(program).name in OTHER_PROGRAMS


@contextlib.contextmanager
def in_process_only(item: pytest.Item) -> Iterator[None]:
    """While a unit test (or its fixtures) runs, starting one of the project's programs fails it."""
    if item.get_closest_marker("unit") is None:
        yield
        return
    real_init = subprocess.Popen.__init__

    def refusing_init(self: subprocess.Popen, args: Any, *more: Any, **options: Any) -> None:
        if runs_a_program_of_ours(args):
            pytest.fail(
                f"{item.nodeid} is marked unit but runs {args!r} in a process of its own: run it "
                "through `subprocess` or a fixture that uses `Stack` (so tests/support/kinds.py "
                "sees it), or mark the test e2e"
            )
        real_init(self, args, *more, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", refusing_init)
        yield
