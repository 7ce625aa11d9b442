"""Gradient methods of Appendix II: Saliency (grad x input), Integrated Gradients and SmoothGrad (x input).

With ``f`` the pre-softmax logit of the target class, ``x`` the model-space input and ``b`` the black baseline
(``model.baseline``, *not* zero for VGG16):

* Saliency:              ``SM(x) = df/dx(x) * r``
* Integrated Gradients:  ``IG(x) = (x - b) * sum_k w_k df/dx(b + a_k (x - b))``, ``steps`` points ``a_k`` of a
  quadrature ``rule`` on ``[0, 1]`` (:func:`path_alphas`; default midpoint, ``a_k = (k + 1/2) / steps``,
  ``w_k = 1 / steps``). Completeness: ``sum IG(x) = f(x) - f(b) + e`` with ``|e| <= TV(g) / steps`` for the
  midpoint and right rules, where ``g(a) = d f(b + a (x - b)) / da`` and ``TV`` its total variation (for a ReLU
  network ``g`` is piecewise constant, so ``e`` is O(1/steps); for smooth ``g`` the midpoint error is
  O(1/steps**2), exact when ``g`` is affine).
* SmoothGrad:            ``SG(x) = r * (1/n) sum_j df/dx(x + eps_j)``, ``eps_j ~ N(0, sigma^2 I)``,
  ``sigma = noise * (max(x) - min(x))`` over all pixels and channels of that image in model space, ``n =
  samples``; the noise of image ``i`` is drawn from ``tf.random.stateless_normal`` seeded by
  :func:`repro.attributions._common.image_seed` ``(x_i, seed)``.

``r`` is the "input" of "grad x input", the setting ``input_reference`` (the reading of the same name in
:mod:`repro.readings`): ``"input"`` (default) ``r = x``, the model-space input, what "grad x input" says;
``"input_minus_baseline"`` ``r = x - b``, the factor IG and DeepLIFT carry, under which Proposition 8 (SM = SG =
IG on a linear model) holds with VGG16's nonzero black image (:func:`repro.attributions._common.input_factor`;
``docs/methods.md`` quotes both sides). Either way ``r`` multiplies the gradient already computed: no extra pass.

IG and SmoothGrad share one compiled function per model and batch size (:func:`gradient_sum_function`, kept by
:func:`repro.attributions._common.cached_function`): for one image it sums weighted gradients over the points
``start + a_k (x - start) + sigma * eps_k`` in inner batches of ``batch_size`` points, inside a single
``tf.function`` with a fixed input signature (one trace per model, no retracing).

Reference: Simonyan et al. 2014 (saliency); Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks"
(IG); Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise" (noise level sigma / (x_max - x_min)).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import (INPUT_REFERENCES, BatchedMethod, cached_function, check_choice,
                                        check_positive_int, image_seed, input_factor, select_logits)
from repro.batching import batch_slices

RULES: tuple[str, ...] = ("midpoint", "right", "trapezoid")
"""Quadrature rules for the IG path integral (see :func:`path_alphas`)."""


def path_alphas(steps: int, rule: str = "midpoint") -> tuple[np.ndarray, np.ndarray]:
    """Points and weights of a ``steps``-point quadrature of ``int_0^1 g(a) da``.

    * ``"midpoint"``: ``a_k = (k + 1/2) / m``, ``w_k = 1/m``, ``k = 0..m-1``. Exact for affine ``g``.
    * ``"right"``: ``a_k = k / m``, ``w_k = 1/m``, ``k = 1..m`` (the Riemann sum of Sundararajan et al., eq. 3).
    * ``"trapezoid"``: ``a_k = k / (m-1)``, ``k = 0..m-1``, ``w = 1/(m-1)`` with half weight at both ends
      (needs ``m >= 2``). Exact for affine ``g``.

    Args:
        steps: number of points ``m`` (gradient evaluations).
        rule: one of :data:`RULES`.
    Returns:
        ``(alphas, weights)``, each ``(m,)`` float32; the weights sum to 1.
    """
    m = check_positive_int("steps", steps)
    if rule == "midpoint":
        alphas = (np.arange(m) + 0.5) / m
        weights = np.full(m, 1.0 / m)
    elif rule == "right":
        alphas = np.arange(1, m + 1) / m
        weights = np.full(m, 1.0 / m)
    elif rule == "trapezoid":
        if m < 2:
            raise ValueError(f"the trapezoid rule needs steps >= 2, got {m}")
        alphas = np.arange(m) / (m - 1)
        weights = np.full(m, 1.0 / (m - 1))
        weights[[0, -1]] /= 2
    else:
        raise ValueError(f"unknown integration rule {rule!r}; choose one of {RULES}")
    return alphas.astype(np.float32), weights.astype(np.float32)


def gradient_function(logits_model):
    """A compiled ``(x (N,H,W,C), targets (N,)) -> d logit[target] / dx (N,H,W,C)`` for one Keras model."""
    import tensorflow as tf

    shape = tuple(logits_model.input_shape[1:])

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None,), tf.int32)])
    def gradients(x, targets):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            score = select_logits(logits_model(x, training=False), targets)
        return tape.gradient(score, x)

    return gradients


def gradient_sum_function(logits_model, batch_size: int):
    """A compiled weighted sum of gradients of the target logit over points around one image.

    The returned function takes ``x`` ``(H, W, C)``, ``start`` ``(H, W, C)``, ``target`` (scalar int32),
    ``alphas`` and ``weights`` ``(K,)``, ``sigma`` (scalar) and ``seed`` ``(2,)`` int64, and returns
    ``sum_k weights[k] * df/dx(start + alphas[k] (x - start) + sigma * eps_k)`` ``(H, W, C)``, with
    ``eps = tf.random.stateless_normal((K, H, W, C), seed)`` drawn once for all ``K`` points (so the noise does
    not depend on ``batch_size``). Points go through the model ``batch_size`` at a time in a ``tf.range`` loop.
    """
    import tensorflow as tf

    shape = tuple(logits_model.input_shape[1:])
    image = tf.TensorSpec(shape, tf.float32)
    vector = tf.TensorSpec((None,), tf.float32)
    inner = int(batch_size)

    @tf.function(input_signature=[image, image, tf.TensorSpec((), tf.int32), vector, vector,
                                  tf.TensorSpec((), tf.float32), tf.TensorSpec((2,), tf.int64)])
    def gradient_sum(x, start, target, alphas, weights, sigma, seed):
        k = tf.shape(alphas)[0]
        noise = sigma * tf.random.stateless_normal(tf.concat([[k], tf.shape(x)], 0), seed=seed)
        direction = x - start
        total = tf.zeros_like(x)
        for i in tf.range(0, k, inner):
            a = alphas[i:i + inner]
            points = start[None] + a[:, None, None, None] * direction[None] + noise[i:i + inner]
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(points)
                logits = logits_model(points, training=False)
                score = tf.reduce_sum(logits[:, target])
            grads = tape.gradient(score, points)
            total += tf.tensordot(weights[i:i + inner], grads, axes=1)
        return total

    return gradient_sum


class _GradientMethod(BatchedMethod):
    """Fetches the compiled functions of a model with :func:`cached_function` (shared by all instances)."""

    def _gradients(self, model):
        return cached_function(model, "gradients", lambda: gradient_function(model.logits_model))

    def _gradient_sum(self, model):
        return cached_function(model, ("gradient_sum", self.batch_size),
                               lambda: gradient_sum_function(model.logits_model, self.batch_size))


class Saliency(_GradientMethod):
    """Saliency Map as the paper uses it: gradient of the target logit times the input.

    Args:
        batch_size: images per gradient call.
        input_reference: the "input" of "grad x input", one of :data:`~repro.attributions._common.INPUT_REFERENCES`:
            ``"input"`` (the model-space ``x``) or ``"input_minus_baseline"`` (``x - model.baseline``).
    Reference: Appendix II, "we use grad x input to represent the Saliency Map, instead of the vanilla gradient".
    """

    name: ClassVar[str] = "saliency"

    def __init__(self, batch_size: int = 16, *, input_reference: str = "input"):
        self.input_reference = check_choice("input_reference", input_reference, INPUT_REFERENCES)
        super().__init__(batch_size)

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W, C)`` float32 maps ``df/dx * x`` (or ``df/dx * (x - b)``)."""
        grad = self._gradients(model)
        r = input_factor(model, x, self.input_reference)
        out = np.empty_like(x)
        for s in batch_slices(len(x), self.batch_size):
            out[s] = grad(x[s], targets[s].astype(np.int32)).numpy() * r[s]
        return out


class IntegratedGradients(_GradientMethod):
    """Integrated Gradients from the black baseline along the straight path.

    Args:
        steps: gradient evaluations on the path (Appendix II: 50).
        rule: quadrature rule, one of :data:`RULES` (see :func:`path_alphas`).
        batch_size: path points per forward/backward pass.
    Reference: Appendix II, "We use the black image as the baseline for all images and we use the 50 samples on
        the linear path from the baseline to the input"; Sundararajan et al. 2017.
    """

    name: ClassVar[str] = "integrated_gradients"

    def __init__(self, steps: int = 50, rule: str = "midpoint", batch_size: int = 10):
        self.steps = check_positive_int("steps", steps)
        path_alphas(self.steps, rule)  # validates the rule and steps together
        self.rule = rule
        super().__init__(batch_size)

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W, C)`` float32 maps whose sums approximate ``f(x) - f(baseline)``."""
        fn = self._gradient_sum(model)
        alphas, weights = path_alphas(self.steps, self.rule)
        baseline = np.asarray(model.baseline, np.float32)
        no_seed = np.zeros(2, np.int64)
        out = np.empty_like(x)
        for i in range(len(x)):
            avg = fn(x[i], baseline, np.int32(targets[i]), alphas, weights, np.float32(0.0), no_seed).numpy()
            out[i] = (x[i] - baseline) * avg
        return out


class SmoothGrad(_GradientMethod):
    """SmoothGrad times input: the mean gradient over Gaussian-noised copies of ``x``, times ``x``.

    Args:
        samples: noisy copies per image (Appendix II: 50).
        noise: noise level ``sigma / (max(x) - min(x))`` per image, in model space (Appendix II: 20%).
        seed: seed of the noise; image ``i`` uses :func:`~repro.attributions._common.image_seed` ``(x_i, seed)``.
        batch_size: noisy copies per forward/backward pass.
        input_reference: the "input" the mean gradient is multiplied by, as :class:`Saliency`'s: the clean
            model-space ``x`` (``"input"``) or ``x - model.baseline`` (``"input_minus_baseline"``).
    Reference: Appendix II, "we use smooth_grad x input ... We pick a noise level of 20% ... We randomly sample
        50 points from the Gaussian distribution"; Smilkov et al. 2017, Section 3 (noise level).
    """

    name: ClassVar[str] = "smoothgrad"

    def __init__(self, samples: int = 50, noise: float = 0.2, seed: int = 0, batch_size: int = 10, *,
                 input_reference: str = "input"):
        self.samples = check_positive_int("samples", samples)
        if not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        self.noise = float(noise)
        self.seed = int(seed)
        self.input_reference = check_choice("input_reference", input_reference, INPUT_REFERENCES)
        super().__init__(batch_size)

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W, C)`` float32 maps ``x * mean_j df/dx(x + eps_j)`` (or ``x - b``)."""
        fn = self._gradient_sum(model)
        r = input_factor(model, x, self.input_reference)
        alphas = np.ones(self.samples, np.float32)  # points = start + 1 * (x - start) + noise = x + noise
        weights = np.full(self.samples, 1.0 / self.samples, np.float32)
        out = np.empty_like(x)
        for i in range(len(x)):
            sigma = np.float32(self.noise * (float(x[i].max()) - float(x[i].min())))
            avg = fn(x[i], x[i], np.int32(targets[i]), alphas, weights, sigma, image_seed(x[i], self.seed))
            out[i] = avg.numpy() * r[i]
        return out
