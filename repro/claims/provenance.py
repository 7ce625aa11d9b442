"""What a claims report rests on: the network, its weights, the images, and what a verdict on them says about the
paper's setting. Read from a run's ``config.json`` (TensorFlow-free), shown at the top of ``claims.md`` and
``claims.json``, in the terminal summary and on Figure 5.

:func:`provenance` gives a :class:`Provenance`; :func:`image_classes` the class of each image where the profile
has few classes with enough images each (the embedded profile's three), for the per-class verdicts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.claims.rules import MIN_IMAGES

MAX_CLASSES = 10
"""Per-class verdicts are reported when the images fall in at most this many classes (each with at least
:data:`repro.claims.rules.MIN_IMAGES` images); ImageNet's 1,000 classes of ~10 images are not."""

PAPER_SETTING = "VGG16 with ImageNet weights on ILSVRC2012 validation images"

_SCOPE = {
    "paper": "This is the paper's own setting (Section 4.1: VGG16 on ImageNet); a verdict here speaks to the "
             "paper's claims directly, within the sampling error of the images drawn.",
    "embedded": "A stand-in: a small CNN trained offline on generated scenes whose necessary and sufficient objects "
                "are known. A verdict here says whether the paper's statement holds for these methods on this "
                "model and data; it does not reproduce or refute the paper's VGG16 / ImageNet numbers. Claims the "
                "paper states about its VGG16 / ImageNet ranking are tested and flagged 'about another model'.",
    "custom": "Your model and images. A verdict here says whether the paper's statement holds for these methods "
              "on this model and data; it does not reproduce or refute the paper's VGG16 / ImageNet numbers. "
              "Claims the paper states about its VGG16 / ImageNet ranking are tested and flagged 'about another "
              "model'.",
}


@dataclass(frozen=True)
class Provenance:
    """The model and data a run's verdicts rest on."""

    profile: str
    network: str
    input_size: str
    weights: str
    weights_id: str
    images: str
    num_images: int
    classes: str
    scope: str

    def lines(self) -> list[str]:
        """The markdown bullet lines of ``claims.md``."""
        return [f"- **Network**: {self.network}, input {self.input_size}",
                f"- **Weights**: {self.weights} (weights_id `{self.weights_id}`)",
                f"- **Images**: {self.images}; {self.num_images} images; classes: {self.classes}",
                f"- **What a verdict says**: {self.scope}"]

    def short(self) -> str:
        """One line for the terminal summary and Figure 5."""
        return (f"{self.profile} profile: {self.network} ({self.input_size}, weights {self.weights_id}), "
                f"{self.num_images} images of {self.images.split(';')[0]}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def provenance(config: Mapping[str, Any], num_images: int) -> Provenance:
    """The :class:`Provenance` of a run from its ``config.json`` record (``{}``: unknown) and its image count."""
    profile = str(config.get("profile", "unknown"))
    weights_id = str(config.get("weights_id") or "unknown")
    model = str(config.get("model") or "unknown")
    if profile == "embedded" or model == "embedded":
        from repro.data.shapes import CLASS_NAMES, SIZE

        network, size = "the embedded CNN (repro/embedded/embedded_vgg.h5, a small VGG-style network)", SIZE
        weights = "trained offline by `make embedded-model`, shipped in the repository"
        images = "the embedded logic-shapes test split (repro/data/shapes.py, generated, seed " \
                 f"{config.get('seed', 0)})"
        classes = f"{len(CLASS_NAMES)} ({', '.join(CLASS_NAMES)}; image i has class i mod {len(CLASS_NAMES)})"
    elif profile == "paper":
        network, size = "VGG16 (tf.keras.applications)", 224
        weights = "ImageNet (Keras' published VGG16 weights)"
        images = f"ILSVRC2012 validation images listed in {Path(str(config.get('manifest') or 'data_manifest.csv')).name}"
        classes = "ImageNet's 1,000 classes"
    else:
        network = f"{model} ({config.get('model_id') or 'model as given'})"
        size = config.get("input_size") or "the model's own"
        weights = str(config.get("weights") or "the model file's own / the network's default")
        images = f"the folder {config.get('images')}" + (f" with labels {config.get('labels')}"
                                                         if config.get("labels") else "")
        classes = "as labelled" if config.get("labels") else "unlabelled (top-1 class explained)"
    size_text = f"{size} x {size} RGB" if isinstance(size, int) else str(size)
    scope = _SCOPE.get(profile, "Unknown profile: the report cannot say which model the verdicts rest on.")
    return Provenance(profile, network, size_text, weights, weights_id, images, num_images, classes, scope)


def image_classes(config: Mapping[str, Any], image_ids: list[str]) -> tuple[dict[str, str], str]:
    """``(image id -> class name, why not)``: the class of each image where per-class verdicts are reported, else
    ``({}, the reason)``. Known today for the embedded profile (the class is fixed by the image's index)."""
    if str(config.get("profile")) != "embedded":
        return {}, ("per-class verdicts need a profile with few classes of at least "
                    f"{MIN_IMAGES} images each; this run's classes are not recorded as such")
    from repro.data.shapes import CLASS_NAMES, ShapesSource

    index = [re.fullmatch(r"shapes-test-(\d+)", i) for i in image_ids]
    if not image_ids or not all(index):
        return {}, "the image ids are not those of the embedded test split"
    n = max(int(m.group(1)) for m in index) + 1
    source = ShapesSource(n=n, seed=int(config.get("seed", 0)), split="test")
    by_id = dict(zip(source.ids, source.labels))
    classes = {i: CLASS_NAMES[int(by_id[i])] for i in image_ids if i in by_id}
    counts = {c: sum(v == c for v in classes.values()) for c in set(classes.values())}
    if len(counts) > MAX_CLASSES or min(counts.values(), default=0) < MIN_IMAGES:
        return {}, f"classes {counts} (at most {MAX_CLASSES} classes of at least {MIN_IMAGES} images each needed)"
    return classes, ""
