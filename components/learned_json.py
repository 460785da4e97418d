"""A small trainable component whose whole learned state is one JSON document.

Our own components (safety phrases, quick-reply topics, known words) each learn a little
from the training data and keep it beside the rest of the model. This base holds Rasa's
create/load/persist boilerplate, so each component says only what it learns (`train`,
ending in `self.keep(learned)`) and how it uses it (`use`, called with the learned state
after training, after loading, and with None when nothing was trained).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, Type, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

C = TypeVar("C", bound="LearnedJsonComponent")


class LearnedJsonComponent(GraphComponent):
    # The JSON file in the component's model storage.
    FILE: ClassVar[str]

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        learned: Any = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.use(learned)

    def use(self, learned: Any) -> None:
        """Take up the learned state (None: untrained)."""
        raise NotImplementedError

    def keep(self, learned: Any) -> Resource:
        """Save and use the learned state; `train` returns this."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_text(json.dumps(learned), encoding="utf-8")
        self.use(learned)
        return self._resource

    @classmethod
    def create(
        cls: Type[C],
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls: Type[C],
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> C:
        with model_storage.read_from(resource) as directory:
            learned = json.loads((directory / cls.FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, learned)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
