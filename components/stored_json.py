"""One JSON file per trained component, kept in Rasa's model storage.

Our small components learn a little from the training data (patterns, topics, a
vocabulary) and keep it as one JSON document beside the rest of the model.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


def write_json(model_storage: ModelStorage, resource: Resource, name: str, data: Any) -> Resource:
    """Save `data` as the component's file `name`; returns the resource, as `train` must."""
    with model_storage.write_to(resource) as directory:
        (directory / name).write_text(json.dumps(data), encoding="utf-8")
    return resource


def read_json(model_storage: ModelStorage, resource: Resource, name: str) -> Any:
    """The component's file `name`, as saved by `write_json`."""
    with model_storage.read_from(resource) as directory:
        return json.loads((directory / name).read_text(encoding="utf-8"))
