"""The kind markers are read from what a test uses (tests/support/kinds.py): a test that starts
one of the project's processes, even through a helper or a fixture, is never filed as unit."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Sequence

import pytest

from scripts.stack import BIN, Stack
from tests.support.kinds import PRODUCTION_TESTS, kind_of, mark, runs_a_program_of_ours


def item(
    function: Callable[..., Any],
    fixtures: Dict[str, Callable[..., Any]] | None = None,
    path: Path = Path(__file__),
    written: Sequence[str] = (),
) -> Any:
    """What kinds.py reads from a collected pytest item, without collecting one."""
    fixtures = fixtures or {}
    added: List[str] = []
    return SimpleNamespace(
        nodeid=f"{path.name}::{function.__name__}",
        fspath=path,
        obj=function,
        fixturenames=list(fixtures),
        _fixtureinfo=SimpleNamespace(
            name2fixturedefs={name: [SimpleNamespace(func=func)] for name, func in fixtures.items()}
        ),
        iter_markers=lambda: [getattr(pytest.mark, name).mark for name in written],
        add_marker=lambda marker: added.append(marker.name),
        added=added,
    )


def servers_for_a_test(directory: Path) -> Stack:
    """A helper as the test modules write them (never called here)."""
    return Stack(rasa_port=0, action_port=0, token="", endpoints=directory, model=directory)


def nothing() -> None:
    pass


def test_in_process_code_is_unit():
    def test_sums():
        assert sum([1, 2]) == 3

    assert kind_of(item(test_sums, {"tmp_path": nothing})) == "unit"


def test_a_helper_or_fixture_that_starts_servers_makes_it_e2e():
    """(This test is e2e itself, without starting anything: it names such a helper.)"""

    def test_through_a_helper(tmp_path: Path):
        servers_for_a_test(tmp_path)

    def servers_fixture():
        yield servers_for_a_test(Path("."))

    def test_through_a_fixture(servers: Stack):
        assert servers

    assert kind_of(item(test_through_a_helper)) == "e2e"
    assert kind_of(item(test_through_a_fixture, {"servers": servers_fixture})) == "e2e"


def test_the_model_the_browser_and_the_production_folder_each_give_their_kind():
    assert kind_of(item(nothing, {"trained_model": nothing})) == "e2e"
    assert kind_of(item(nothing, {"browser": nothing, "stack": nothing})) == "browser"
    assert kind_of(item(nothing, path=PRODUCTION_TESTS / "test_x.py")) == "production"


def test_each_test_gets_one_kind_and_a_written_one_may_raise_it_but_not_lower_it():
    plain = item(nothing)
    mark(plain)
    assert plain.added == ["unit"]
    raised = item(nothing, written=["e2e"])
    mark(raised)
    assert raised.added == []  # its own marker stands
    with pytest.raises(pytest.UsageError, match="marked unit, but what it uses makes it e2e"):
        mark(item(nothing, {"trained_model": nothing}, written=["unit"]))
    with pytest.raises(pytest.UsageError, match="give one kind"):
        mark(item(nothing, written=["unit", "e2e"]))


@pytest.mark.parametrize(
    "command, ours",
    [
        ([sys.executable, "-m", "desk", "serve", "--port", "5006"], True),
        ([sys.executable, "-m", "training.label", "a question"], True),
        (f"{sys.executable} -c pass", True),
        ([BIN / "rasa", "test", "core"], True),
        (["redis-server", "--port", "6390"], True),
        (["/sbin/ldconfig", "-p"], False),  # what a library runs to find a shared object
        ([], False),
    ],
)
def test_the_programs_a_unit_test_may_not_start(command: Any, ours: bool):
    assert runs_a_program_of_ours(command) is ours
