"""Every setting the action server reads, in one place, from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    qa_events_file: Path
    timezone: str = "Europe/London"
    careers_url: str = "https://www.mi5.gov.uk/careers"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            qa_events_file=Path(
                os.environ.get("QA_EVENTS_FILE", PROJECT_ROOT / "data" / "qa_events.yml")
            ),
        )
