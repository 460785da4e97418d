"""The one guard every patch of a private Rasa or TensorFlow API goes through.

Our patches (listed in docs/upgrading.md) replace or call methods and module names that
Rasa and TensorFlow do not promise to keep. They were measured and tested against exactly
the versions below; on any other version a patch could silently stop working (a rebound
name no longer looked up) or break in the middle of a conversation. So each patch calls
`require()` before it touches anything, and the Rasa server refuses to start, naming the
patch, the version found and what to read, instead of running with a patch nobody checked.
"""

from __future__ import annotations

from importlib import metadata
from typing import Dict

PINNED = {"rasa": "3.6.21", "tensorflow": "2.12.0"}
UPGRADE_GUIDE = "docs/upgrading.md"


class UnsupportedVersion(SystemExit):
    """An installed package is not the version a patch was checked against.

    A SystemExit, so `python -m rasa_server` stops with this message and no traceback."""


def installed(package: str) -> str:
    """The installed version of `package` (read from its metadata: imports nothing)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def require(patch: str, *packages: str) -> None:
    """Refuse to install `patch` unless every one of `packages` is at its pinned version.

    `packages` defaults to Rasa; a patch that calls into TensorFlow names both."""
    wrong: Dict[str, str] = {}
    for package in packages or ("rasa",):
        found = installed(package)
        if found != PINNED[package]:
            wrong[package] = found
    if wrong:
        found_text = ", ".join(
            f"{name} {version} (checked with {PINNED[name]})" for name, version in wrong.items()
        )
        raise UnsupportedVersion(
            f"rasa_server refuses to start: the patch {patch!r} replaces a private API and "
            f"was checked only against the pinned versions; found {found_text}. "
            f"Follow {UPGRADE_GUIDE} for this patch, then update rasa_server/versions.py."
        )
