"""Every patch of a private Rasa or TensorFlow API refuses to install on versions it was not
checked against (rasa_server/versions.py), and leaves Rasa untouched when it refuses.

`test_every_module_that_patches_rasa_calls_the_guard` fails if a patch's guard is removed;
the per-patch tests fail if a guard no longer stops its patch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
from rasa.core import agent as rasa_agent
from rasa.core.actions import action as rasa_actions
from rasa.core.actions import forms as rasa_forms
from rasa.core.nlg import interpolator
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import Event
from rasa.utils.tensorflow.models import RasaModel

from rasa_server import versions
from rasa_server.__main__ import PATCHES, SPEED_ONLY, install_patches
from rasa_server.action_calls import BoundedRemoteAction
from rasa_server.ops import OpsInput
from rasa_server.tracker_store import ErasingSQLTrackerStore
from rasa_server.versions import PINNED, UnsupportedVersion, require

PACKAGE = Path(__file__).resolve().parents[2] / "rasa_server"
# What each patch changes in Rasa, read before and after a refused install.
TARGETS: Dict[str, Callable[[], Any]] = {
    "action_calls": lambda: (rasa_actions.RemoteAction, rasa_forms.RemoteAction),
    "validator_cache": lambda: BoundedRemoteAction.cached_validator,
    "tracker_store_errors": lambda: rasa_agent.FailSafeTrackerStore,
    "paused_safety": lambda: MessageProcessor._run_prediction_loop,
    "event_types": lambda: Event.__dict__["resolve_by_type"],
    "response_payloads": lambda: interpolator.interpolate_text,
    "tf_predict": lambda: RasaModel._rasa_predict,
}
# Source text that means a module reaches into a private Rasa or TensorFlow API.
PRIVATE_USE = re.compile(
    r"wrap_once\(|rasa_(actions|forms|agent)\.\w+ = |_call_flat|def _additional_events|"
    r"\._tracker_store\b|def _validate_action_result|\._run_action\("
)


def pretend(monkeypatch: pytest.MonkeyPatch, **found: str) -> None:
    """Make the guard see these versions (package=version) and the pinned ones otherwise."""
    monkeypatch.setattr(versions, "installed", lambda package: found.get(package, PINNED[package]))


def test_the_pinned_versions_are_the_installed_ones() -> None:
    for package, version in PINNED.items():
        assert versions.installed(package) == version, package
    require("any patch", "rasa", "tensorflow")  # passes


def test_every_patch_has_its_target_listed_here() -> None:
    assert set(TARGETS) == set(PATCHES)
    assert set(SPEED_ONLY) <= set(PATCHES)


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_on_another_rasa_each_patch_refuses_and_changes_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = TARGETS[name]()
    pretend(monkeypatch, rasa="3.6.22")
    with pytest.raises(UnsupportedVersion) as refused:
        PATCHES[name]()
    assert TARGETS[name]() == before
    message = str(refused.value)
    assert "rasa 3.6.22 (checked with 3.6.21)" in message
    assert "docs/upgrading.md" in message and name in message


def test_the_graph_call_also_refuses_another_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    before = RasaModel._rasa_predict
    pretend(monkeypatch, tensorflow="2.13.0")
    with pytest.raises(UnsupportedVersion, match=r"tensorflow 2\.13\.0"):
        PATCHES["tf_predict"]()
    assert RasaModel._rasa_predict is before


def test_the_server_refuses_to_start_on_another_rasa(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, rasa="3.7.0")
    with pytest.raises(UnsupportedVersion):
        install_patches()


def test_the_tracker_store_and_the_ops_channel_refuse_another_rasa(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pretend(monkeypatch, rasa="3.7.0")
    with pytest.raises(UnsupportedVersion, match="_additional_events"):
        ErasingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "t.db"))
    with pytest.raises(UnsupportedVersion, match="_tracker_store"):
        OpsInput.from_credentials(None)


def test_only_speed_only_patches_can_be_left_out() -> None:
    with pytest.raises(ValueError, match="paused_safety"):
        install_patches(without=["paused_safety"])


def test_every_module_that_patches_rasa_calls_the_guard() -> None:
    """Removing a `require(...)` from a module that reaches into Rasa's internals fails here."""
    patching = {
        path.name: path.read_text(encoding="utf-8")
        for path in PACKAGE.glob("*.py")
        if path.name != "wrapping.py" and PRIVATE_USE.search(path.read_text(encoding="utf-8"))
    }
    assert {"action_calls.py", "tf_predict.py", "tracker_store.py", "ops.py"} <= set(patching)
    unguarded = [name for name, text in patching.items() if "require(" not in text]
    assert unguarded == []
    # Each guard call sits in the function that patches, not merely in the file.
    for name, text in patching.items():
        assert text.count("require(") >= len(re.findall(r"^def install", text, re.M)), name
