"""The action server reaches the desk only through the desk's HTTP API: no module under
actions/ may import the desk's code (its records module included) or the local-run scripts
(the action server's image copies none of them)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

from scripts.stack import ROOT

FORBIDDEN = ("desk", "scripts")


def imported_modules(path: Path) -> Iterator[Tuple[int, str]]:
    """Every module a file imports, at any depth (inside functions too), with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from desk import applicant_records`
                yield node.lineno, f"{node.module}.{alias.name}"


def forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)


def violations(package: Path) -> List[str]:
    return sorted(
        {
            f"{path.relative_to(package.parent)}:{line} imports {module}"
            for path in package.rglob("*.py")
            for line, module in imported_modules(path)
            if forbidden(module)
        }
    )


def test_no_action_module_imports_the_desk_its_records_or_the_scripts():
    assert violations(ROOT / "actions") == []


def test_the_check_finds_such_an_import_at_any_depth(tmp_path: Path):
    sample = tmp_path / "actions"
    sample.mkdir()
    (sample / "leaky.py").write_text(
        "from desk import applicant_records\n"
        "def f():\n    import desk.storage\n    from scripts.stack import ROOT\n",
        encoding="utf-8",
    )
    (sample / "fine.py").write_text("from privacy.erasure import ERASED_SLOT\n", encoding="utf-8")
    found = violations(sample)
    assert {entry.split(" imports ")[0] for entry in found} == {
        "actions/leaky.py:1",
        "actions/leaky.py:3",
        "actions/leaky.py:4",
    }
    assert "actions/leaky.py:1 imports desk.applicant_records" in found
