"""Writes the Keras 3 test assets of tests/models/test_keras3_file.py. Run in a throwaway environment with real
Keras 3 (never the project's .venv, which pins Keras 2.14):

    python3.11 -m venv /tmp/k3env
    /tmp/k3env/bin/pip install keras==3.15.1 "jax[cpu]" scipy
    KERAS_BACKEND=jax /tmp/k3env/bin/python write_keras3_assets.py

It writes ``tiny_keras3.keras`` (Conv2D, BatchNormalization, MaxPooling2D, Activation, Flatten, Dropout, Dense with
a softmax: the standard layers the loader rebuilds), ``tiny_keras3_predictions.npz`` (4 inputs and the predictions
Keras 3 gave for them) and ``lambda_keras3.keras`` (a Lambda layer whose function would create the file named in
MARKER if it were ever run: the loader must refuse it without running it).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402

MARKER = "KERAS3_LAMBDA_WAS_RUN"

keras.utils.set_random_seed(0)
inp = keras.Input((16, 16, 3), name="input")
x = L.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
x = L.BatchNormalization(name="bn1")(x)
x = L.MaxPooling2D(2, name="pool1")(x)
x = L.Conv2D(6, 3, padding="valid", name="conv2")(x)
x = L.Activation("relu", name="relu2")(x)
x = L.Flatten(name="flatten")(x)
x = L.Dropout(0.1, name="drop")(x)
x = L.Dense(8, activation="relu", name="fc1")(x)
out = L.Dense(3, activation="softmax", name="predictions")(x)
model = keras.Model(inp, out, name="tiny_k3")
rng = np.random.default_rng(0)
bn = model.get_layer("bn1")  # non-trivial statistics, so that a wrong BatchNormalization mapping shows
bn.set_weights([w + rng.normal(0, 0.1, size=w.shape).astype("float32") if i < 2
                else np.abs(w + rng.normal(0, 0.1, size=w.shape)).astype("float32")
                for i, w in enumerate(bn.get_weights())])
model.save("tiny_keras3.keras")
inputs = rng.uniform(0, 1, size=(4, 16, 16, 3)).astype("float32")
np.savez("tiny_keras3_predictions.npz", inputs=inputs, predictions=np.asarray(model.predict(inputs, verbose=0)),
         keras_version=keras.__version__)


def touch_marker(t):
    import pathlib

    pathlib.Path(MARKER).touch()
    return t


inp = keras.Input((8, 8, 3), name="input")
x = L.Lambda(touch_marker, name="touch")(inp)
x = L.Flatten(name="flatten")(x)
out = L.Dense(2, activation="softmax", name="predictions")(x)
keras.Model(inp, out, name="lambda_k3").save("lambda_keras3.keras")
if os.path.exists(MARKER):
    os.remove(MARKER)  # building the model ran it once here, in Keras 3; the file must not reappear at load
