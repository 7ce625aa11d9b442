"""The Guided Backpropagation snippet of the paper's Appendix II, run as the TF1 graph code it was written for.

The paper registers a ReLU gradient and lets TensorFlow use it in place of the ReLU's own::

    @ops.RegisterGradient("GuidedBackProp")
    def _GuidedBackProp(op, grad):
        dtype = op.inputs[0].dtype
        return grad * tf.cast(grad > 0., dtype) * \\
               tf.cast(op.inputs[0] > 0., dtype)

:func:`guided_backprop_tf1` registers exactly that function (verbatim below), rebuilds a Keras model inside
``graph.gradient_override_map({"Relu": "GuidedBackProp"})`` in TF1 graph mode, and evaluates
``tf.compat.v1.gradients`` of the target logit with respect to the input in a session. Graph mode is switched on
for the whole process, so call it from a fresh process: the command line below, or a ``subprocess`` as the tests
(``tests/attributions/test_guided_backprop.py``) do. The package's own form (``repro/attributions/guided.py``: the same
rule, inside a ``tf.function``) is tested against this script.

Usage::

    python appendix_code/guided_backprop.py IN.npz OUT.npy

``IN.npz`` holds ``model_json`` (the Keras JSON of a model whose output is the pre-softmax logits),
``weight_0 .. weight_{K-1}`` (its ``get_weights()`` in order), ``x`` ``(N, H, W, C)`` float32 and ``targets``
``(N,)``; ``OUT.npy`` receives the guided gradients ``(N, H, W, C)`` float32. :func:`write_inputs` writes
``IN.npz`` from a live Keras model.

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Appendix II.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def write_inputs(path: str | Path, logits_model, x: np.ndarray, targets: np.ndarray) -> None:
    """Save a Keras logits model (architecture + weights), inputs and targets for :func:`main`."""
    weights = {f"weight_{i}": w for i, w in enumerate(logits_model.get_weights())}
    np.savez(path, model_json=np.array(logits_model.to_json()), x=np.asarray(x, np.float32),
             targets=np.asarray(targets, np.int64), **weights)


def guided_backprop_tf1(model_json: str, weights: list[np.ndarray], x: np.ndarray,
                        targets: np.ndarray) -> np.ndarray:
    """Guided gradients of ``logit[target]`` w.r.t. the input, computed with the paper's snippet in TF1 mode.

    Args:
        model_json: Keras JSON of a model ending in pre-softmax logits ``(N, classes)``.
        weights: its weights, in ``get_weights()`` order.
        x: ``(N, H, W, C)`` model-space inputs.
        targets: ``(N,)`` class indices.
    Returns:
        ``(N, H, W, C)`` float32 guided gradients.
    Note:
        Disables eager execution for the rest of the process.
    """
    import tensorflow as tf
    from tensorflow.python.framework import ops

    tf.compat.v1.disable_eager_execution()

    # --- Appendix II, verbatim ---
    @ops.RegisterGradient("GuidedBackProp")
    def _GuidedBackProp(op, grad):
        dtype = op.inputs[0].dtype
        return grad * tf.cast(grad > 0.,
                              dtype) * \
            tf.cast(op.inputs[0] > 0.,
                    dtype)
    # --- end of the snippet ---

    graph = tf.compat.v1.get_default_graph()
    with graph.gradient_override_map({"Relu": "GuidedBackProp"}):
        model = tf.keras.models.model_from_json(model_json)
        targets_ph = tf.compat.v1.placeholder(tf.int32, shape=(None,))
        logits = model.output
        score = tf.gather(logits, targets_ph, axis=1, batch_dims=1)
    guided = tf.compat.v1.gradients(score, model.input)[0]
    session = tf.compat.v1.keras.backend.get_session()
    model.set_weights(weights)
    out = session.run(guided, feed_dict={model.input: np.asarray(x, np.float32),
                                         targets_ph: np.asarray(targets, np.int32)})
    return np.asarray(out, np.float32)


def main(argv: list[str] | None = None) -> int:
    """``guided_backprop.py IN.npz OUT.npy``: read the model and inputs, write the guided gradients."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.split("Usage::")[1].split("``IN.npz``")[0].strip(), file=sys.stderr)
        return 2
    with np.load(args[0]) as data:
        n = sum(1 for k in data.files if k.startswith("weight_"))
        weights = [data[f"weight_{i}"] for i in range(n)]
        out = guided_backprop_tf1(str(data["model_json"]), weights, data["x"], data["targets"])
    np.save(args[1], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
