"""Test stories (tests/stories/) run through the trained dialogue policies by `rasa test core`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.stack import BIN, ROOT, quiet_env


def test_every_test_story_is_followed(trained_model: Path, tmp_path: Path):
    run = subprocess.run(
        [
            str(BIN / "rasa"), "test", "core",
            "--stories", str(ROOT / "tests" / "stories"),
            "--model", str(trained_model),
            "--out", str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT, env=quiet_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0, details
