"""``repro attribute``: attribution maps for images you bring, cached so a second run recomputes nothing.

Images come as a ``.npy`` of raw RGB ``(N, H, W, 3)`` in ``[0, 255]`` at the model's input size, or as a folder of
``.jpg`` / ``.png`` files read as ``repro reproduce --profile custom`` reads one (centre square, resized to the
model's input; :func:`repro.data.folder.read_image_folder`); targets as an optional ``.npy`` of ``N`` integer
class indices (checked by :func:`repro.commands.read_images` / :func:`~repro.commands.load_targets`, as in ``repro
evaluate``). The output ``.npz`` holds one ``(N, H, W[, C])`` array per method, unnormalised, in the images' order
(a folder's: by file name), ready for ``repro evaluate``. Each map is cached under ``--cache`` (default
:data:`DEFAULT_CACHE`, relative to the current directory; ``--no-cache``: none) keyed by model, weights, method,
the method's full parameters, the target and the image's content hash (:mod:`repro.cache`).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from repro.attributions import METHODS
from repro.commands import (add_model_and_image_arguments, add_progress_argument, load_targets, nonneg_int,
                            open_model_from_args, read_images)

if TYPE_CHECKING:
    from repro.attributions.base import AttributionMethod
    from repro.cache import MapCache
    from repro.models import ImageModel

DEFAULT_CACHE = Path("results") / "map_cache"
"""Where maps are cached by default: ``./results/map_cache``, relative to the current directory."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_and_image_arguments(p)
    p.add_argument("--gradcam-layer", default=None,
                   help="Grad-CAM's layer (default: the model's; for other models the last 4-D feature map before "
                        "global pooling / flatten)")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=None,
                   help="methods to compute (default: every method that runs on the model; the others are named "
                        "with the reason)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of SmoothGrad noise and Random maps")
    p.add_argument("--out", type=Path, required=True, help="output .npz, one array per method")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache", type=Path, default=DEFAULT_CACHE, metavar="DIR",
                       help=f"map cache directory (default ./{DEFAULT_CACHE.as_posix()}, under the current directory)")
    cache.add_argument("--no-cache", dest="cache", action="store_const", const=None, default=argparse.SUPPRESS,
                       help="compute every map, read and write no cache")
    add_progress_argument(p)


def image_ids(raw: np.ndarray) -> list[str]:
    """Content hashes identifying each image in the cache."""
    return [hashlib.sha1(np.ascontiguousarray(im, np.float32).tobytes()).hexdigest()[:16] for im in raw]


def make_method(name: str, seed: int) -> "AttributionMethod":
    """Method ``name`` with its defaults, seeded with ``seed`` if it takes a seed (SmoothGrad, Random)."""
    from repro.attributions import get_method, method_class

    takes_seed = "seed" in inspect.signature(method_class(name)).parameters
    return get_method(name, **({"seed": seed} if takes_seed else {}))


def attribute_images(model: "ImageModel", raw: np.ndarray, targets: np.ndarray | None, methods: Sequence[str],
                     seed: int, cache: "MapCache | None", weights_id: str, progress: bool = True
                     ) -> dict[str, np.ndarray]:
    """Maps of every method for raw images; cached per image (``cache=None``: computed, nothing read or stored).
    Returns ``{method: (N, H, W[, C])}``.

    ``raw`` ``(N, *model.input_shape)`` float and ``targets`` ``(N,)`` int64 (or ``None``:
    :func:`repro.models.top1_targets`) are assumed checked (:func:`repro.commands.read_images`,
    :func:`repro.commands.load_targets`); ``weights_id`` (:func:`repro.models.weights.weights_id`: a weights file by
    its content) is part of every map's cache key, so retrained weights never get the old maps. ``progress``: a
    bar over the methods.
    """
    from tqdm.auto import tqdm

    from repro.models import top1_targets

    x = model.preprocess(raw)
    targets = top1_targets(model, x) if targets is None else np.asarray(targets, np.int64)
    ids = image_ids(raw)
    out = {}
    for name in tqdm(methods, desc="methods", unit="method", disable=not progress):
        method = make_method(name, seed)
        try:
            if cache is None:
                out[name] = np.asarray(method(model, x, targets), dtype=np.float32)
            else:
                keys = cache.keys(model.name, weights_id, method, ids, targets)
                out[name] = cache.get_or_compute(keys, lambda todo: method(model, x[todo], targets[todo]))
        finally:
            getattr(method, "close", lambda: None)()
    return out


def run(args: argparse.Namespace) -> int:
    import sys

    from repro.attributions.graph_worker import close_workers
    from repro.attributions.support import resolve_methods
    from repro.cache import MapCache
    from repro.io import atomic_write_npz
    from repro.models.weights import weights_id

    model = open_model_from_args(args)
    _, raw = read_images(args.images, model.input_shape, progress=args.progress)
    targets = None if args.targets is None else load_targets(args.targets, len(raw), model.num_classes)
    try:
        methods, skipped = resolve_methods(model, args.methods, make_method=lambda name: make_method(name, args.seed))
        for name, reason in skipped.items():
            print(f"[repro] skipped {name}: {reason}", file=sys.stderr)
        maps = attribute_images(model, raw, targets, methods, args.seed,
                                None if args.cache is None else MapCache(args.cache),
                                weights_id(args.model, args.weights), progress=args.progress)
    finally:
        close_workers()  # graph workers started by the support probes
    atomic_write_npz(args.out, maps)
    print(f"[repro] wrote {', '.join(maps)} maps of {len(raw)} image(s) to {args.out}")
    return 0
