"""Imports between the project's top-level folders sit at module level, where a reader (and a
cycle check) sees them: an import inside a function that reaches into another folder hides a
dependency, and usually an import cycle that the function was written to dodge. And the
folders depend on each other in one direction only: no two folders import each other, even
through a third."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

from scripts.stack import ROOT

NOT_CODE = {".venv", "var", "models", "results", "reports", "node_modules"}
# tests/ may import anything where it likes (a test can time or isolate an import on purpose).
NOT_CHECKED = {"tests"}


def project_folders(root: Path = ROOT) -> Set[str]:
    """The top-level folders that hold Python code: the names an import can reach into."""
    return {
        folder.name
        for folder in root.iterdir()
        if folder.is_dir()
        and not folder.name.startswith(".")
        and folder.name not in NOT_CODE
        and any(folder.rglob("*.py"))
    }


def function_level_imports(tree: ast.AST) -> Iterator[Tuple[int, str]]:
    """(line, module) of every absolute import inside a function or method, at any depth."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                for alias in inner.names:
                    yield inner.lineno, alias.name
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                yield inner.lineno, inner.module


def crossings(root: Path = ROOT) -> Dict[Tuple[str, int, str], str]:
    """(file, line, module) -> the folder imported, for each function-level import that
    reaches from one top-level folder into another."""
    folders = project_folders(root)
    found: Dict[Tuple[str, int, str], str] = {}
    for folder in sorted(folders - NOT_CHECKED):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            # A function nested in a function is walked twice: the dict keeps one of each.
            for line, module in function_level_imports(tree):
                target = module.split(".")[0]
                if target in folders and target != folder:
                    found[(relative, line, module)] = target
    return found


def test_no_function_level_import_crosses_top_level_folders() -> None:
    hidden: List[str] = [
        f"{file}:{line}: `import {module}` inside a function: move it to the top of the module "
        f"(if that makes a cycle, move the code to the folder it belongs to)"
        for (file, line, module), target in sorted(crossings().items())
    ]
    assert not hidden, "\n".join(hidden)


def test_the_check_sees_a_hidden_import(tmp_path: Path) -> None:
    """The walk finds imports in methods, nested functions and lambdas, and only across folders."""
    for folder in ("desk", "training"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "desk" / "pages.py").write_text(
        "import json\n"
        "from training import grouping\n"
        "class Pages:\n"
        "    def show(self):\n"
        "        def inner():\n"
        "            from training.inbox import collect\n"
        "        import desk.storage\n"
        "        import sqlalchemy\n",
        encoding="utf-8",
    )
    assert crossings(tmp_path) == {("desk/pages.py", 6, "training.inbox"): "training"}


def folder_imports(root: Path = ROOT) -> Dict[str, Set[str]]:
    """Top-level folder -> the other top-level folders its modules import (at any level)."""
    folders = project_folders(root)
    graph: Dict[str, Set[str]] = {folder: set() for folder in folders - NOT_CHECKED}
    for folder in graph:
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                graph[folder] |= {m.split(".")[0] for m in modules} & folders - {folder}
    return graph


def folder_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle among the folders, or [] when they can be ordered."""
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def test_no_two_top_level_folders_import_each_other() -> None:
    cycle = folder_cycle(folder_imports())
    assert not cycle, (
        "these folders import each other in a circle: " + " -> ".join(cycle) + ". Move the "
        "code that one needs of the other to the folder that owns it (or to contracts/)."
    )


def test_the_folder_check_finds_a_circle_through_a_third_folder(tmp_path: Path) -> None:
    for folder, imports in (("desk", "training"), ("training", "privacy"), ("privacy", "desk")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text(f"import {imports}.x\n", encoding="utf-8")
    assert set(folder_cycle(folder_imports(tmp_path))) == {"desk", "training", "privacy"}
    (tmp_path / "privacy" / "__init__.py").write_text("import json\n", encoding="utf-8")
    assert folder_cycle(folder_imports(tmp_path)) == []
