"""DIET and the ResponseSelector answer through their compiled graph without TensorFlow's
per-call argument handling.

Rasa compiles each classifier's prediction step once, as a `tf.function` with a fixed input
signature (`RasaModel._rasa_predict`). Every call then goes through TensorFlow's generic
argument handling: the two dozen arrays of one message are matched against the signature,
one by one, to find the compiled graph again. For our linear classifiers that handling cost
more than the graph itself: about a sixth of parsing a message, and a tenth of the Rasa
server's time under load (py-spy). `install()` (called by `python -m rasa_server`) keeps
the compiled graph and feeds it the arrays as tensors of the signature's types, which is
what that handling ends with. The graph, and so every prediction, is the same; tests
compare the two on the held-out questions.

Measured A/B (BENCHMARKS.md, issue 16): +13% throughput under the 20-applicant REST load
(+10 to +55% in three runs on a busy machine), 7% less CPU per message. It calls
TensorFlow's private `ConcreteFunction._call_flat` and Rasa's private `_rasa_predict`, so it
refuses any Rasa or TensorFlow but the pinned ones (rasa_server/versions.py).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Tuple

import numpy as np

from rasa_server.versions import require
from rasa_server.wrapping import wrap_once

Predict = Callable[[Any, Tuple[np.ndarray, ...]], Dict[str, Any]]


def through_the_compiled_graph(rasa_predict: Predict) -> Predict:
    import tensorflow as tf
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import tf_utils

    @functools.wraps(rasa_predict)
    def _rasa_predict(model: Any, batch_in: Tuple[np.ndarray, ...]) -> Dict[str, Any]:
        compiled = model._tf_predict_step
        if compiled is None or model._run_eagerly:
            return rasa_predict(model, batch_in)  # the first call compiles the graph
        found = getattr(model, "_compiled_graph", None)
        if found is None:
            graph = compiled.get_concrete_function()
            (signature,), _ = graph.structured_input_signature
            found = model._compiled_graph = graph, signature
        graph, specs = found
        if len(specs) != len(batch_in) or not all(
            spec.shape.is_compatible_with(array.shape)
            for spec, array in zip(specs, batch_in, strict=True)
        ):
            return rasa_predict(model, batch_in)  # TensorFlow says what does not fit
        tensors = [
            tf.convert_to_tensor(array, dtype=spec.dtype)
            for spec, array in zip(specs, batch_in, strict=True)
        ]
        outputs = tf_utils.sync_to_numpy_or_python_type(
            graph._call_flat(tensors, graph.captured_inputs)
        )
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = model._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    return _rasa_predict


def install() -> None:
    """Wrap Rasa's `RasaModel._rasa_predict` (once; safe to call again)."""
    require(
        "tf_predict: RasaModel._rasa_predict wrapped, ConcreteFunction._call_flat called",
        "rasa",
        "tensorflow",
    )
    from rasa.utils.tensorflow.models import RasaModel

    wrap_once(RasaModel, "_rasa_predict", through_the_compiled_graph)
