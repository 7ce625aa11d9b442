"""``repro attribute``: attribution maps for images you bring, cached so a second run recomputes nothing.

Images come as a ``.npy`` of raw RGB ``(N, H, W, 3)`` in ``[0, 255]`` at the model's input size. The output
``.npz`` holds one ``(N, H, W[, C])`` array per method, unnormalised, ready for ``repro evaluate``. Each map is
cached under ``--cache`` keyed by model, weights, method, its parameters, the target and the image's content hash.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from repro.attributions import METHODS
from repro.errors import ReproError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=("embedded", "vgg16"), default="embedded")
    p.add_argument("--weights", default=None, help="VGG16: 'imagenet' or a local .h5; embedded: a retrained .h5")
    p.add_argument("--images", type=Path, required=True, help=".npy of raw RGB images (N, H, W, 3) in [0, 255]")
    p.add_argument("--targets", type=Path, default=None, help=".npy of N class indices (default: top-1)")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    p.add_argument("--seed", type=int, default=0, help="seed of SmoothGrad noise and Random maps")
    p.add_argument("--out", type=Path, required=True, help="output .npz, one array per method")
    p.add_argument("--cache", type=Path, default=Path("results/map_cache"), help="map cache directory")


def load_array(path: Path, what: str) -> np.ndarray:
    """``np.load`` with errors that name the file."""
    if not path.is_file():
        raise ReproError(f"{path}: {what} file not found")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ReproError(f"{path}: cannot read {what} as .npy ({exc.__class__.__name__}: {exc})") from None


def image_ids(raw: np.ndarray) -> list[str]:
    """Content hashes identifying each image in the cache."""
    return [hashlib.sha1(np.ascontiguousarray(im, np.float32).tobytes()).hexdigest()[:16] for im in raw]


def attribute_images(model, raw: np.ndarray, targets: np.ndarray | None, methods, seed: int, cache,
                     weights_id: str | None = None) -> dict:
    """Maps of every method for raw images; cached per image. Returns ``{method: (N, H, W[, C])}``."""
    from tqdm.auto import tqdm

    from repro.attributions import get_method
    from repro.errors import check_shape
    from repro.models import top1_targets

    check_shape("images", raw.shape, (None, *model.input_shape))
    if not np.isfinite(raw).all():
        raise ReproError("images contain NaN or infinite values")
    x = model.preprocess(raw)
    targets = top1_targets(model.predict(x)) if targets is None else np.asarray(targets, np.int64)
    check_shape("targets", targets.shape, (len(raw),))
    ids = image_ids(raw)
    out = {}
    for name in tqdm(methods, desc="methods", unit="method"):
        params = {"seed": seed} if name in ("smoothgrad", "random") else {}
        keys = [cache.key(model.name, weights_id, name, {**params, "target": int(t), "image": i})
                for i, t in zip(ids, targets)]
        todo = [j for j, k in enumerate(keys) if not cache.has(k)]
        if todo:
            method = get_method(name, **params)
            try:
                fresh = method(model, x[todo], targets[todo])
            finally:
                getattr(method, "close", lambda: None)()
            for j, m in zip(todo, fresh):
                cache.put(keys[j], m)
        out[name] = np.stack([cache.get(k) for k in keys])
    return out


def run(args: argparse.Namespace) -> int:
    from repro.models import load_model
    from repro.store import MapCache, atomic_write_npz

    raw = load_array(args.images, "images").astype(np.float32)
    targets = None if args.targets is None else load_array(args.targets, "targets")
    model = load_model(args.model, args.weights)
    maps = attribute_images(model, raw, targets, args.methods, args.seed, MapCache(args.cache),
                            args.weights)
    atomic_write_npz(args.out, maps)
    print(f"[repro] wrote {', '.join(maps)} maps of {len(raw)} image(s) to {args.out}")
    return 0
