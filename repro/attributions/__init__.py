"""The eight attribution methods of the paper behind one interface (:mod:`repro.attributions.base`).

:data:`METHODS` is the single registry: the CLI's choices, the pipeline's method list and the shared test all
read it; display names and the Random baseline live in :mod:`repro.vocabulary`. Implementations are imported
lazily so that importing this package loads no TensorFlow graph code.

====================  ==========================================================  ==============================
name                  Appendix II configuration                                   implementation
====================  ==========================================================  ==============================
saliency              grad x input                                                gradients.py (tf.GradientTape)
integrated_gradients  black baseline, 50 points on the straight path              gradients.py
smoothgrad            smooth_grad x input, sigma = 20% of input range, 50 samples  gradients.py
deeplift              RevealCancel, black baseline (kundajelab deeplift 0.6.13)   graph_worker.py (TF1 process)
lrp                   LRP-alpha2-beta1 with Montavon et al.'s tricks (iNNvestigate) graph_worker.py (TF1 process)
guided_backprop       the paper's ReLU gradient override                          guided.py
gradcam               last conv layer, tf-keras-vis, upsampled                    gradcam.py
random                seeded random scores                                         random.py
====================  ==========================================================  ==============================
"""

from __future__ import annotations

from repro.attributions.base import AttributionMethod
from repro.registry import resolve

METHODS: dict[str, str] = {
    "saliency": "repro.attributions.gradients:Saliency",
    "integrated_gradients": "repro.attributions.gradients:IntegratedGradients",
    "smoothgrad": "repro.attributions.gradients:SmoothGrad",
    "deeplift": "repro.attributions.graph_worker:DeepLift",
    "lrp": "repro.attributions.graph_worker:LRP",
    "guided_backprop": "repro.attributions.guided:GuidedBackprop",
    "gradcam": "repro.attributions.gradcam:GradCAM",
    "random": "repro.attributions.random:RandomAttribution",
}
"""Registry name -> ``module:Class``. Order is the paper's order of presentation (Figure 2/5)."""


def method_class(name: str) -> type[AttributionMethod]:
    """The class registered under ``name``; an unknown name lists the valid ones."""
    return resolve(METHODS, name, "attribution method")


def get_method(name: str, **params) -> AttributionMethod:
    """Instantiate method ``name`` with its Appendix II defaults, overridden by ``params``."""
    return method_class(name)(**params)
