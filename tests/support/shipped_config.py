"""A pipeline step's settings as config.yml ships them, over the component's defaults, so
component tests run with what the assistant runs with."""

from __future__ import annotations

from typing import Any, Dict, Type

import yaml
from rasa.engine.graph import GraphComponent

from scripts.stack import ROOT


def shipped_config(component: Type[GraphComponent]) -> Dict[str, Any]:
    name = f"{component.__module__}.{component.__name__}"
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [step] = [step for step in pipeline if step["name"] == name]
    return {**component.get_default_config(), **step}
