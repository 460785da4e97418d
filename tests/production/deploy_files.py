"""Reading deploy/: the Dockerfiles, the rendered Kubernetes manifests, and what the code needs.

Docker images cannot be built here (no registry for the base images) and there is no cluster,
so tests/production/test_deploy_files.py checks, offline, that the files agree with each other
and with the code: the helpers it needs are here.
"""

from __future__ import annotations

import ast
import functools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Set

from packaging.markers import default_environment
from packaging.requirements import Requirement
from ruamel.yaml import YAML

from scripts.stack import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# Image name in the manifests -> the Dockerfile that builds it.
IMAGES = {
    "careers-rasa": DEPLOY / "rasa" / "Dockerfile",
    "careers-actions": DEPLOY / "actions" / "Dockerfile",
    "careers-desk": DEPLOY / "desk" / "Dockerfile",
}
# What each official base image already has installed: a distribution and its dependencies.
BASE_DISTRIBUTIONS = {"rasa/rasa": "rasa", "rasa/rasa-sdk": "rasa-sdk", "python": None}
PROJECT_PACKAGES = {
    path.name
    for path in ROOT.iterdir()
    if path.is_dir() and (path / "__init__.py").exists() and path.name != "tests"
}


@dataclass
class Dockerfile:
    path: Path
    base: str = ""
    copies: List[str] = field(default_factory=list)  # sources, relative to the repository
    entrypoint: List[str] = field(default_factory=list)
    cmd: List[str] = field(default_factory=list)
    runs: List[str] = field(default_factory=list)

    @property
    def requirements(self) -> Path:
        return self.path.parent / "requirements.txt"

    @property
    def base_image(self) -> str:
        return self.base.split(":")[0]

    @property
    def base_tag(self) -> str:
        return self.base.split(":")[1] if ":" in self.base else ""

    def copied_packages(self) -> Set[str]:
        return {source.strip("/").split("/")[0] for source in self.copies} & PROJECT_PACKAGES


def read_dockerfile(path: Path) -> Dockerfile:
    """The instructions the checks need; continuation lines joined, comments dropped."""
    import json

    parsed = Dockerfile(path)
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        instruction, _, rest = logical.partition(" ")
        logical = ""
        instruction = instruction.upper()
        if instruction == "FROM":
            parsed.base = rest.split()[0]
        elif instruction == "COPY":
            words = [w for w in rest.split() if not w.startswith("--")]
            if not any(w.startswith("--from") for w in rest.split()):
                parsed.copies.extend(words[:-1])
        elif instruction == "ENTRYPOINT":
            parsed.entrypoint = json.loads(rest)
        elif instruction == "CMD":
            parsed.cmd = json.loads(rest)
        elif instruction == "RUN":
            parsed.runs.append(rest)
    return parsed


# --- Kubernetes ---------------------------------------------------------------------------


def kustomize(directory: Path) -> List[Dict[str, Any]]:
    """`kubectl kustomize`: the manifests exactly as `kubectl apply -k` would send them."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError("kubectl")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    if rendered.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{rendered.stderr}")
    return [doc for doc in YAML(typ="safe").load_all(rendered.stdout) if doc]


def pod_specs(objects: List[Dict[str, Any]]) -> Iterator[tuple[Dict[str, Any], Dict[str, Any]]]:
    """(object, pod spec) for every Deployment and CronJob."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def image_name(image: str) -> str:
    return image.rsplit("/", 1)[-1].split(":")[0]


def env_names(container: Dict[str, Any], objects: List[Dict[str, Any]]) -> Set[str]:
    """Every variable a container gets: its env entries and its ConfigMaps' keys."""
    names = {entry["name"] for entry in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        for obj in objects:
            if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == ref:
                names |= set(obj.get("data", {}))
    return names


def secret_refs(container: Dict[str, Any]) -> Set[tuple[str, str]]:
    refs = set()
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs.add((ref["name"], ref["key"]))
    return refs


# --- what the code reads and imports --------------------------------------------------------

# In a file that reads the environment, a string literal that looks like a variable name
# (settings modules pass names to helpers that read and check them).
ENV_NAME = re.compile(r"""["']([A-Z][A-Z0-9]*_[A-Z0-9_]+)["']""")
YAML_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]+)\}")
# Variables Rasa itself reads (rasa/core/constants.py, rasa/core/lock_store.py).
RASA_VARIABLES = {"SQL_POOL_SIZE", "SQL_MAX_OVERFLOW", "TICKET_LOCK_LIFETIME", "POSTGRESQL_SCHEMA"}


def variables_read(packages: Iterable[str]) -> Set[str]:
    names: Set[str] = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "environ" in text or "getenv" in text:
                names |= set(ENV_NAME.findall(text))
    return names


def yaml_variables(path: Path) -> Set[str]:
    """The ${VAR}s a YAML file uses (comments left out)."""
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return set(YAML_VAR.findall("\n".join(line.split("#")[0] for line in lines)))


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imports_of(path: Path) -> Set[str]:
    """Modules a file imports, anywhere in it (imports inside functions count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def reachable_modules(entries: Iterable[str]) -> tuple[Set[str], Set[str]]:
    """(project modules, third-party top-level names) reachable from the entry modules."""
    seen: Set[str] = set()
    third_party: Set[str] = set()
    pending = list(entries)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        top = module.split(".")[0]
        if top not in PROJECT_PACKAGES:
            if top and top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
            continue
        path = module_file(module)
        if path is None:
            continue  # `from package import name` where name is not a module
        seen.add(module)
        parts = module.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent __init__s
        pending += sorted(imports_of(path))
    return seen, third_party


def package_modules(package: str) -> List[str]:
    return [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / package).rglob("*.py")
        if "testing" not in path.relative_to(ROOT).parts
    ]


def distribution_closure(names: Iterable[str]) -> Set[str]:
    """Distributions installed by installing these (extras off), from this venv's metadata."""
    environment = {**default_environment(), "extra": ""}
    seen: Set[str] = set()
    pending = [normalise(name) for name in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(normalise(requirement.name))
    return seen


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> List[str]:
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.append(Requirement(line).name)
    return names


def distributions_of(top_level: str) -> Set[str]:
    return _top_levels().get(top_level, set())


@functools.lru_cache(maxsize=1)
def _top_levels() -> Dict[str, Set[str]]:
    """Import name -> distributions, from each distribution's file list (some wheels, Rasa's
    among them, have no top_level.txt, which importlib's packages_distributions relies on)."""
    found: Dict[str, Set[str]] = {}
    for distribution in metadata.distributions():
        name = normalise(distribution.metadata["Name"])
        for file in distribution.files or []:
            parts = file.parts
            if parts and not parts[0].endswith((".dist-info", ".data", "..")):
                top = parts[0].removesuffix(".py")
                if top.isidentifier():
                    found.setdefault(top, set()).add(name)
    return found
