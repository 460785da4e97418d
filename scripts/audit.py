"""`make audit`: pip-audit of requirements.txt, with reviewed exceptions, and never falsely green.

pip-audit asks a vulnerability database about every pinned package (PyPI's JSON API, else
OSV). Where PyPI's per-release JSON is not served (a mirror) pip-audit reports every package
as "not found", skips it and says "No known vulnerabilities found" with exit 0. So a canary
comes first: a release with a published advisory (requests 2.31.0, CVE-2024-35195) must be
reported, or the database is treated as unreachable, and the audit fails saying so, unless
AUDIT_OFFLINE_OK=1 (then it passes with a warning that nothing was audited). The real audit
runs with --strict, so a skipped package also fails it.

Findings listed in security/pip-audit-ignore.txt (ID or alias, package, reason, mitigation;
reviewed by a person) are reported but do not fail; any other finding does. Ignore entries
that no longer match anything are reported, to be removed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Set

from scripts.stack import ROOT

SERVICES = ("pypi", "osv")
CANARY = "requests==2.31.0\n"
CANARY_ID = "CVE-2024-35195"
OFFLINE_VARIABLE = "AUDIT_OFFLINE_OK"


class IgnoreFileError(ValueError):
    """The ignore file has a line without all four fields."""


@dataclass(frozen=True)
class Ignored:
    vuln_id: str
    package: str
    reason: str
    mitigation: str


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vuln_id: str
    aliases: Sequence[str]
    fix_versions: Sequence[str]

    @property
    def names(self) -> Set[str]:
        return {self.vuln_id, *self.aliases}


def read_ignore_file(path: Path) -> List[Ignored]:
    """`ID | package | reason | mitigation` a line; `#` comments and blank lines skipped."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [field.strip() for field in text.split("|")]
        if len(fields) != 4 or not all(fields):
            raise IgnoreFileError(
                f"{path}:{number}: expected 'ID | package | reason | mitigation', got {text!r}"
            )
        entries.append(Ignored(*fields))
    return entries


def run_pip_audit(
    pip_audit: str, requirements: Path, service: str, strict: bool
) -> Dict[str, Any] | None:
    """pip-audit's JSON report, or None when it could not ask the database at all."""
    with tempfile.TemporaryDirectory(prefix="careers-audit-") as tmp:
        report = Path(tmp) / "report.json"
        command = [
            pip_audit, "-r", str(requirements), "--no-deps", "--disable-pip",
            "--vulnerability-service", service, "--progress-spinner", "off",
            "--timeout", "20", "--format", "json", "--output", str(report),
            *(["--strict"] if strict else []),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if not report.exists() or not report.read_text(encoding="utf-8").strip():
            if strict:
                sys.stderr.write(result.stderr)
            return None
        data: Dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return data


def findings(report: Dict[str, Any]) -> List[Finding]:
    return [
        Finding(
            dependency["name"],
            dependency.get("version", "?"),
            vuln["id"],
            vuln.get("aliases") or [],
            vuln.get("fix_versions") or [],
        )
        for dependency in report.get("dependencies", [])
        for vuln in dependency.get("vulns") or []
    ]


def working_service(pip_audit: str) -> str | None:
    """The first database that reports the canary's known advisory."""
    with tempfile.TemporaryDirectory(prefix="careers-audit-canary-") as tmp:
        canary = Path(tmp) / "canary.txt"
        canary.write_text(CANARY, encoding="utf-8")
        for service in SERVICES:
            report = run_pip_audit(pip_audit, canary, service, strict=False)
            if report and any(CANARY_ID in f.names for f in findings(report)):
                return service
    return None


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pip-audit", default=str(ROOT / "var" / "audit-venv" / "bin" / "pip-audit")
    )
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument(
        "--ignore-file", type=Path, default=ROOT / "security" / "pip-audit-ignore.txt"
    )
    args = parser.parse_args(argv)
    try:
        ignored = read_ignore_file(args.ignore_file)
    except IgnoreFileError as error:
        print(f"audit: {error}", file=sys.stderr)
        return 2

    service = working_service(args.pip_audit)
    if service is None:
        offline_ok = os.environ.get(OFFLINE_VARIABLE) == "1"
        print(
            ("WARNING" if offline_ok else "ERROR")
            + ": pip-audit cannot reach a vulnerability database from this machine (PyPI's "
            "per-release JSON API did not report a known advisory and OSV did not answer), "
            "so NO dependency was audited.\n"
            + (
                f"{OFFLINE_VARIABLE}=1 is set: carrying on without the audit. Run `make audit` "
                "where pypi.org or api.osv.dev can be reached."
                if offline_ok
                else f"Run `make audit` where pypi.org or api.osv.dev can be reached, or set "
                f"{OFFLINE_VARIABLE}=1 to carry on knowingly without it."
            ),
            file=sys.stderr,
        )
        return 0 if offline_ok else 1

    report = run_pip_audit(args.pip_audit, args.requirements, service, strict=True)
    if report is None:
        print("ERROR: pip-audit failed before reporting (see above).", file=sys.stderr)
        return 1
    found = findings(report)
    by_name = {entry.vuln_id: entry for entry in ignored}
    accepted = [f for f in found if f.names & by_name.keys()]
    open_findings = [f for f in found if not f.names & by_name.keys()]
    matched = {name for f in accepted for name in f.names}
    stale = [entry for entry in ignored if entry.vuln_id not in matched]

    audited = len(report.get("dependencies", []))
    print(f"pip-audit ({service}): {audited} pinned packages, {len(found)} known vulnerabilities.")
    if accepted:
        print(f"Accepted in {args.ignore_file.name} ({len(accepted)}):")
        for f in accepted:
            print(f"  {f.package} {f.version}  {f.vuln_id}")
    for entry in stale:
        print(
            f"Note: {entry.vuln_id} ({entry.package}) is in the ignore file but matches nothing: "
            "remove it."
        )
    if open_findings:
        print(
            f"NOT accepted ({len(open_findings)}): upgrade, or review and add to the ignore file:"
        )
        for f in open_findings:
            fixes = ", ".join(f.fix_versions) or "no fix released"
            aliases = f" ({', '.join(f.aliases)})" if f.aliases else ""
            print(f"  {f.package} {f.version}  {f.vuln_id}{aliases}  fixed in: {fixes}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
