"""Graph components in tests as Rasa runs them: created, trained, persisted and loaded
again; with config.yml's settings when a test wants what the assistant ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Type, TypeVar, cast

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.training_data import TrainingData

from scripts.stack import ROOT

CONTEXT = ExecutionContext(graph_schema=None, model_id="test")
Component = TypeVar("Component", bound=GraphComponent)


def shipped_config(component: Type[GraphComponent]) -> Dict[str, Any]:
    """A pipeline step's settings as config.yml ships them, over the component's defaults."""
    name = f"{component.__module__}.{component.__name__}"
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    [step] = [step for step in pipeline if step["name"] == name]
    return {**component.get_default_config(), **step}


def train_and_load(
    component: Type[Component],
    config: Dict[str, Any],
    directory: Path,
    training_data: TrainingData,
) -> Component:
    """The component trained on this data and loaded from its storage in `directory`."""
    storage, resource = LocalModelStorage(directory), Resource(component.__name__)
    created: Any = component.create(config, storage, resource, CONTEXT)
    created.train(training_data)
    return cast(Component, component.load(config, storage, resource, CONTEXT))
