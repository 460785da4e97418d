"""`make audit`'s gate (scripts/audit.py) around a stand-in for pip-audit, since the real
vulnerability databases may not be reachable from where the tests run."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from scripts.audit import IgnoreFileError, main, read_ignore_file

# Writes the JSON report pip-audit would: the canary's advisory when the database "answers",
# every package skipped as "not found" when it does not (what a mirror without per-release
# JSON gives).
STAND_IN = """\
import json, os, sys
args = sys.argv[1:]
requirements = open(args[args.index("-r") + 1]).read()
output = args[args.index("--output") + 1]
names = [line.split("==")[0] for line in requirements.splitlines() if "==" in line]
if os.environ["FAKE_DATABASE"] == "unreachable":
    report = {"dependencies": [{"name": n, "skip_reason": "Dependency not found on PyPI"}
                               for n in names]}
elif "requests==2.31.0" in requirements:
    report = {"dependencies": [{"name": "requests", "version": "2.31.0", "vulns": [
        {"id": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"], "fix_versions": ["2.32.0"]}
    ]}]}
else:
    report = {"dependencies": json.loads(os.environ["FAKE_FINDINGS"])}
json.dump(report, open(output, "w"))
"""


@pytest.fixture
def pip_audit(tmp_path: Path) -> str:
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\n{STAND_IN}", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def dependency(name: str, version: str, *vulns: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": name, "version": version, "vulns": list(vulns)}


def run(
    tmp_path: Path,
    pip_audit: str,
    monkeypatch: pytest.MonkeyPatch,
    findings: List[Dict[str, Any]],
    ignore: str,
    database: str = "answers",
) -> int:
    monkeypatch.setenv("FAKE_DATABASE", database)
    monkeypatch.setenv("FAKE_FINDINGS", json.dumps(findings))
    requirements = write(tmp_path / "requirements.txt", "sanic==21.12.2\naiohttp==3.9.5\n")
    ignore_file = write(tmp_path / "ignore.txt", ignore)
    return main(
        [
            "--pip-audit",
            pip_audit,
            "--requirements",
            str(requirements),
            "--ignore-file",
            str(ignore_file),
        ]
    )


SMUGGLING = {
    "id": "GHSA-8495-4g3g-x7pr",
    "aliases": ["CVE-2024-52304"],
    "fix_versions": ["3.10.11"],
}


def test_an_unreviewed_finding_fails_and_is_named(
    tmp_path: Path,
    pip_audit: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    findings = [dependency("aiohttp", "3.9.5", SMUGGLING), dependency("sanic", "21.12.2")]
    assert run(tmp_path, pip_audit, monkeypatch, findings, ignore="") == 1
    out = capsys.readouterr().out
    assert "NOT accepted (1)" in out
    assert "aiohttp 3.9.5  GHSA-8495-4g3g-x7pr (CVE-2024-52304)  fixed in: 3.10.11" in out


def test_a_finding_reviewed_in_the_ignore_file_under_its_alias_passes(
    tmp_path: Path,
    pip_audit: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    findings = [dependency("aiohttp", "3.9.5", SMUGGLING)]
    ignore = (
        "# reviewed\n"
        "CVE-2024-52304 | aiohttp | Rasa 3.6 pins aiohttp<3.10 | client only, no aiohttp server\n"
        "CVE-2099-0001 | sanic | gone | gone\n"
    )
    assert run(tmp_path, pip_audit, monkeypatch, findings, ignore) == 0
    out = capsys.readouterr().out
    assert "Accepted in ignore.txt (1)" in out
    assert "CVE-2099-0001 (sanic) is in the ignore file but matches nothing" in out


def test_an_unreachable_database_fails_loudly_instead_of_reporting_nothing_found(
    tmp_path: Path,
    pip_audit: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AUDIT_OFFLINE_OK", raising=False)
    assert run(tmp_path, pip_audit, monkeypatch, [], ignore="", database="unreachable") == 1
    assert "NO dependency was audited" in capsys.readouterr().err


def test_an_unreachable_database_passes_only_when_that_is_acknowledged(
    tmp_path: Path,
    pip_audit: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AUDIT_OFFLINE_OK", "1")
    assert run(tmp_path, pip_audit, monkeypatch, [], ignore="", database="unreachable") == 0
    assert "WARNING" in capsys.readouterr().err


def test_the_projects_ignore_file_is_well_formed(tmp_path: Path) -> None:
    entries = read_ignore_file(
        Path(__file__).resolve().parents[2] / "security" / "pip-audit-ignore.txt"
    )
    assert entries, "the reviewed findings are listed"
    with pytest.raises(IgnoreFileError, match=r"ignore\.txt:2"):
        read_ignore_file(write(tmp_path / "ignore.txt", "# ok\nCVE-1 | pkg | reason only\n"))
