"""Small Keras classifiers built in the tests of your-own-model support (seeded, well under a second each).

Layers are named explicitly: iNNvestigate names layers it creates itself with Keras's default names (``add_1``, ...)
in its worker process, so a model whose own layers carry default names can clash with them (a real limitation, found
by the support probe, but not what these tests are about).
"""

from __future__ import annotations

import numpy as np

from repro.models import ImageModel, unit_preprocess


def _layers(seed: int):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    return tf, tf.keras.layers


def _randomise_batchnorm(model, seed: int) -> None:
    """Give every BatchNormalization layer non-trivial statistics (the defaults make it the identity)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 1.5, var.shape)])


def residual_bn(size: int = 16, classes: int = 4, seed: int = 0):
    """Functional: conv-BN-ReLU stem, a residual block (conv-BN-ReLU branch + Add), ReLU, global average pooling,
    Dense softmax. Grad-CAM's layer: ``block_out``."""
    tf, L = _layers(seed)
    inp = L.Input((size, size, 3), name="image")
    x = L.Conv2D(8, 3, padding="same", name="stem_conv")(inp)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("relu", name="stem_relu")(x)
    y = L.Conv2D(8, 3, padding="same", name="branch_conv")(x)
    y = L.BatchNormalization(name="branch_bn")(y)
    y = L.Activation("relu", name="branch_relu")(y)
    x = L.Add(name="residual_add")([x, y])
    x = L.Activation("relu", name="block_out")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(classes, activation="softmax", name="predictions")(x)
    model = tf.keras.Model(inp, out, name="residual_bn")
    _randomise_batchnorm(model, seed)
    return model


def sequential_softmax(size: int = 16, classes: int = 4, seed: int = 0):
    """Sequential chain ending in ``Dense(activation="softmax")``. Grad-CAM's layer: ``conv2`` (before ``pool2``)."""
    tf, L = _layers(seed)
    return tf.keras.Sequential([
        L.InputLayer(input_shape=(size, size, 3), name="image"),
        L.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(2, name="pool1"),
        L.Conv2D(8, 3, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool2"),
        L.Flatten(name="flatten"),
        L.Dense(16, activation="relu", name="fc1"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name="sequential_softmax")


def _head(tf, L, inp, x, classes: int, name: str, softmax: str = "dense"):
    x = L.Flatten(name="flatten")(x)
    if softmax == "dense":
        out = L.Dense(classes, activation="softmax", name="predictions")(x)
    elif softmax == "layer":
        out = L.Softmax(name="softmax")(L.Dense(classes, name="logits")(x))
    elif softmax == "activation":
        out = L.Activation("softmax", name="softmax")(L.Dense(classes, name="logits")(x))
    elif softmax == "function":
        out = tf.nn.softmax(L.Dense(classes, name="logits")(x))
    else:  # "linear", "sigmoid": no identifiable logit
        out = L.Dense(classes, activation=softmax, name="predictions")(x)
    return tf.keras.Model(inp, out, name=name)


def conv_net(kind: str = "plain", softmax: str = "dense", size: int = 16, classes: int = 4, seed: int = 0):
    """One conv block of ``kind`` then Flatten and a softmax head (``softmax``: ``dense``, ``layer``,
    ``activation``, ``function``, or ``linear`` / ``sigmoid`` for a model without a logit).

    Kinds: ``plain`` (Conv2D relu), ``relu6`` (Conv2D + ReLU(6), MobileNetV2's), ``depthwise`` (Conv2D relu +
    DepthwiseConv2D relu), ``swish`` (Conv2D swish, EfficientNet's), ``zeropad`` (ZeroPadding2D before the first
    Conv2D, ResNet50's stem), ``relu_layer`` (Conv2D + a Keras ReLU layer), ``concat`` (two branches
    concatenated, InceptionV3 / DenseNet style), ``avgpool`` (Conv2D relu + AveragePooling2D).
    """
    tf, L = _layers(seed)
    inp = L.Input((size, size, 3), name="image")
    if kind == "plain":
        x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    elif kind == "relu6":
        x = L.ReLU(6.0, name="conv_relu6")(L.Conv2D(8, 3, padding="same", name="conv")(inp))
    elif kind == "depthwise":
        x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu", name="depthwise")(x)
    elif kind == "swish":
        x = L.Conv2D(8, 3, padding="same", activation="swish", name="conv")(inp)
    elif kind == "zeropad":
        x = L.Conv2D(8, 3, activation="relu", name="conv")(L.ZeroPadding2D(1, name="pad")(inp))
    elif kind == "relu_layer":
        x = L.ReLU(name="conv_relu")(L.Conv2D(8, 3, padding="same", name="conv")(inp))
    elif kind == "concat":
        a = L.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inp)
        b = L.Conv2D(4, 1, padding="same", activation="relu", name="conv_b")(inp)
        x = L.Concatenate(name="concat")([a, b])
    elif kind == "avgpool":
        x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
        x = L.AveragePooling2D(2, name="avgpool")(x)
    else:
        raise ValueError(kind)
    return _head(tf, L, inp, x, classes, f"{kind}_{softmax}", softmax)


def wrap(keras_model, name: str | None = None) -> ImageModel:
    """An ImageModel with unit preprocessing and the automatically found Grad-CAM layer."""
    from repro.attributions.gradcam import find_gradcam_layer

    classes = int(keras_model.output_shape[-1])
    return ImageModel(name or keras_model.name, keras_model, unit_preprocess, [f"class_{i}" for i in range(classes)],
                      find_gradcam_layer(keras_model, strict=False) or "")
