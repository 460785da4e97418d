"""The classifiers answer through their compiled graph directly (rasa_server/tf_predict.py)
with exactly the predictions Rasa's own call gives: every intent and answer confidence."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

from evaluation.heldout import load_examples
from rasa_server import tf_predict

RASAS_OWN = getattr(RasaModel._rasa_predict, "__wrapped__", RasaModel._rasa_predict)


def parse_all(agent: Agent, texts: List[str]) -> List[Dict[str, Any]]:
    async def parse() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse())


def test_the_compiled_graph_gives_rasas_own_predictions(
    trained_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RasaModel, "_rasa_predict", RASAS_OWN)
    agent = Agent.load(str(trained_model))
    texts = [*[text for text, _ in load_examples()][::3], "", "👋", "x" * 2000]
    rasas = parse_all(agent, texts)

    tf_predict.install()
    tf_predict.install()  # a second call changes nothing
    ours = parse_all(agent, texts)

    assert ours == rasas
    # DIET and the ResponseSelector answered through the graph (other tests' models may live).
    models = [m for m in gc.get_objects() if isinstance(m, RasaModel)]
    assert sum(getattr(m, "_compiled_graph", None) is not None for m in models) >= 2
