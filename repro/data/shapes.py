"""The embedded logic-shapes data set: 64x64 RGB scenes whose class is a logical rule over which objects appear.

Four objects, each a distinct shape *and* colour, are drawn on a textured, low-saturation background:

* ``A``: a red square;  ``B``: a blue disc;  ``C``: a green upward triangle;  ``D``: a yellow plus-shaped cross.

The class of a scene is a rule over the set ``S`` of objects it contains (Section 3.2 of the paper):

* ``A_and_B`` (0):  ``A in S and B in S`` (and neither ``C`` nor ``D``): each of A, B is *necessary*, neither is
  *sufficient*;
* ``C_or_D`` (1):   ``C in S or D in S`` (A and B never both): each of C, D is *sufficient*, neither *necessary*;
* ``neither`` (2):  any other set. The generator draws ``{}``, ``{A}`` and ``{B}`` here, so that A alone and
  B alone are seen *without* the A_and_B label and the conjunction must really be learned.

``C_or_D`` scenes hold ``{C}``, ``{D}`` or ``{C, D}``, sometimes with one of ``A`` or ``B`` as a distractor, so that
neither A nor B alone predicts a class. A scene with both A and B and also C or D would satisfy both rules; it is
never generated (:func:`label_of` refuses it).

Everything is deterministic: image ``i`` of split ``s`` under seed ``seed`` is drawn from its own
``numpy.random.Generator`` seeded with ``(seed, split code, i)``, so any image can be produced alone, in any order,
on any machine (no download). Objects never overlap (their bounding boxes are at least :data:`GAP` pixels apart),
and every image comes with one boolean mask per object it contains.

Background textures (seeded colours, each a grey level plus a tint of at most :data:`MAX_TINT` per channel):
smooth value noise blending two colours, stripes of two colours at a random angle, or a flat colour (any
brightness, including black, so that the black baseline of the criteria is not foreign to the model). Mild
Gaussian pixel noise covers the background only; objects are flat colours with a per-object colour jitter.

:class:`ShapesSource` exposes a split through the :class:`repro.data.ImageSource` listing, exactly like the
ImageNet source, plus :meth:`ShapesSource.masks` for the sanity suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

SIZE = 64
"""Height and width of every image (pixels)."""

CLASS_NAMES: tuple[str, ...] = ("A_and_B", "C_or_D", "neither")
OBJECTS: tuple[str, ...] = ("A", "B", "C", "D")
SPLITS: dict[str, int] = {"train": 0, "val": 1, "test": 2}

OBJECT_SIZE_RANGE = (11, 15)
"""Side of an object's bounding box, inclusive range (pixels)."""
GAP = 2
"""Minimum number of background pixels between the bounding boxes of two objects."""
MAX_TINT = 25.0
"""Largest per-channel deviation of a background colour from its grey level (keeps backgrounds unsaturated)."""
BACKGROUND_NOISE_STD = 4.0
"""Standard deviation of the Gaussian pixel noise added to the background (raw [0, 255] units)."""

OBJECT_COLOURS: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "A": ((200, 255), (0, 50), (0, 50)),       # red
    "B": ((0, 50), (40, 100), (200, 255)),      # blue
    "C": ((0, 50), (170, 230), (0, 50)),        # green
    "D": ((220, 255), (200, 245), (0, 40)),     # yellow
}
"""Per-channel inclusive RGB ranges from which each object's flat colour is drawn."""

# Object sets per class and their probabilities (see the module docstring).
_SCENES: dict[int, tuple[tuple[tuple[str, ...], ...], tuple[float, ...]]] = {
    0: ((("A", "B"),), (1.0,)),
    1: ((("C",), ("D",), ("C", "D"), ("C", "A"), ("C", "B"), ("D", "A"), ("D", "B")),
        (0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1)),
    2: (((), ("A",), ("B",)), (0.2, 0.4, 0.4)),
}


def label_of(objects: Sequence[str]) -> int:
    """The class index of a scene from the set of objects it contains (the logical rules of the data set).

    Args:
        objects: names among ``"A", "B", "C", "D"``, in any order.
    Returns:
        0 (``A_and_B``) if A and B are present, 1 (``C_or_D``) if C or D is present, else 2 (``neither``).
    Raises:
        ValueError: for an unknown name, or for a set satisfying both rules (A, B and C or D), which the data set
            never contains.
    """
    s = set(objects)
    unknown = s - set(OBJECTS)
    if unknown:
        raise ValueError(f"unknown object(s) {sorted(unknown)}; objects are {OBJECTS}")
    conj = {"A", "B"} <= s
    disj = bool(s & {"C", "D"})
    if conj and disj:
        raise ValueError(f"objects {sorted(s)} satisfy both A_and_B and C_or_D; such scenes are not generated")
    return 0 if conj else 1 if disj else 2


@dataclass(frozen=True)
class PlacedObject:
    """One drawn object: its name, bounding box (top, left, side in pixels) and flat RGB colour."""

    name: str
    top: int
    left: int
    side: int
    colour: tuple[float, float, float]

    def mask(self) -> np.ndarray:
        """``(SIZE, SIZE)`` bool: the pixels this object covers."""
        return object_mask(self.name, self.top, self.left, self.side)


@dataclass(frozen=True)
class ShapesSample:
    """One generated image with its ground truth.

    Attributes:
        image: ``(SIZE, SIZE, 3)`` float32 raw RGB in ``[0, 255]``.
        label: class index into :data:`CLASS_NAMES`.
        objects: the placed objects, in drawing order.
        masks: object name -> ``(SIZE, SIZE)`` bool mask, one entry per placed object.
    """

    image: np.ndarray
    label: int
    objects: tuple[PlacedObject, ...]
    masks: dict[str, np.ndarray]


def object_mask(name: str, top: int, left: int, side: int) -> np.ndarray:
    """Rasterise object ``name`` in the box ``[top, top + side) x [left, left + side)``.

    Pixel ``(r, c)`` belongs to the shape when its centre ``(r + 0.5, c + 0.5)`` lies inside it:
    A fills the box; B is the inscribed disc; C the triangle with apex at the top middle and base on the bottom
    edge; D a plus sign with arms of width ``max(3, round(side / 3))`` through the centre.

    Returns:
        ``(SIZE, SIZE)`` bool.
    """
    if name not in OBJECTS:
        raise ValueError(f"unknown object {name!r}; objects are {OBJECTS}")
    if side < 3 or top < 0 or left < 0 or top + side > SIZE or left + side > SIZE:
        raise ValueError(f"box top={top}, left={left}, side={side} does not fit in a {SIZE}x{SIZE} image")
    u = (np.arange(side) + 0.5) / side  # relative coordinates in (0, 1) of pixel centres
    yy, xx = np.meshgrid(u, u, indexing="ij")
    if name == "A":
        local = np.ones((side, side), bool)
    elif name == "B":
        local = (yy - 0.5) ** 2 + (xx - 0.5) ** 2 <= 0.25
    elif name == "C":
        local = np.abs(xx - 0.5) <= 0.5 * yy
    else:
        half = max(3, round(side / 3)) / side / 2
        local = (np.abs(xx - 0.5) <= half) | (np.abs(yy - 0.5) <= half)
    out = np.zeros((SIZE, SIZE), bool)
    out[top:top + side, left:left + side] = local
    return out


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {tuple(SPLITS)}")
    if index < 0 or seed < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.default_rng([int(seed), SPLITS[split], int(index)])


def _background_colour(rng: np.random.Generator, lo: float = 20.0, hi: float = 235.0) -> np.ndarray:
    grey = rng.uniform(lo, hi)
    return np.clip(grey + rng.uniform(-MAX_TINT, MAX_TINT, size=3), 0.0, 255.0)


def _smooth_noise(rng: np.random.Generator) -> np.ndarray:
    """``(SIZE, SIZE)`` values in [0, 1]: a random coarse grid, bilinearly upsampled."""
    from scipy.ndimage import zoom

    cells = int(rng.integers(3, 7))
    coarse = rng.uniform(0.0, 1.0, size=(cells, cells))
    return np.clip(zoom(coarse, SIZE / cells, order=1, mode="nearest")[:SIZE, :SIZE], 0.0, 1.0)


def draw_background(rng: np.random.Generator) -> np.ndarray:
    """A textured background ``(SIZE, SIZE, 3)`` float32 in [0, 255] (kinds listed in the module docstring)."""
    kind = rng.choice(3, p=[0.45, 0.4, 0.15])
    if kind == 2:  # flat colour, anywhere from black to light grey
        bg = np.broadcast_to(_background_colour(rng, 0.0, 235.0), (SIZE, SIZE, 3)).copy()
    else:
        c1, c2 = _background_colour(rng), _background_colour(rng)
        if kind == 0:
            t = _smooth_noise(rng)
        else:
            angle = rng.uniform(0, np.pi)
            period = rng.uniform(6.0, 16.0)
            rr, cc = np.mgrid[0:SIZE, 0:SIZE]
            phase = (rr * np.sin(angle) + cc * np.cos(angle)) / period + rng.uniform()
            t = (np.floor(phase * 2) % 2).astype(np.float64)
        bg = c1 * (1 - t[..., None]) + c2 * t[..., None]
    bg = bg + rng.normal(0.0, BACKGROUND_NOISE_STD, size=bg.shape)
    return np.clip(bg, 0.0, 255.0).astype(np.float32)


def _place(rng: np.random.Generator, names: Sequence[str]) -> tuple[PlacedObject, ...]:
    """Random non-overlapping boxes (rejection sampling; boxes at least GAP pixels apart)."""
    for _attempt in range(1000):
        boxes: list[tuple[int, int, int]] = []
        for _ in names:
            side = int(rng.integers(OBJECT_SIZE_RANGE[0], OBJECT_SIZE_RANGE[1] + 1))
            top = int(rng.integers(0, SIZE - side + 1))
            left = int(rng.integers(0, SIZE - side + 1))
            boxes.append((top, left, side))
        if all(_apart(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            break
    else:  # pragma: no cover - four 15-pixel boxes always fit in 64x64 long before 1000 tries
        raise RuntimeError("could not place objects without overlap")
    out = []
    for name, (top, left, side) in zip(names, boxes):
        colour = tuple(float(rng.integers(lo, hi + 1)) for lo, hi in OBJECT_COLOURS[name])
        out.append(PlacedObject(name, top, left, side, colour))
    return tuple(out)


def _apart(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    (t1, l1, s1), (t2, l2, s2) = a, b
    return t1 + s1 + GAP <= t2 or t2 + s2 + GAP <= t1 or l1 + s1 + GAP <= l2 or l2 + s2 + GAP <= l1


def scene_label(index: int) -> int:
    """The class of image ``index`` in every split: ``index % 3``, so any prefix of n images is balanced to
    within one image per class."""
    return int(index) % len(CLASS_NAMES)


def generate(seed: int, split: str, index: int, with_objects: bool = True) -> ShapesSample:
    """Generate image ``index`` of ``split`` under ``seed`` (see the module docstring).

    Args:
        seed: data seed (>= 0).
        split: ``"train"``, ``"val"`` or ``"test"``; splits are independent streams.
        index: image index (>= 0).
        with_objects: ``False`` returns the same scene's background alone (same objects and masks listed), for
            tests that compare object pixels with the background underneath.
    Returns:
        a :class:`ShapesSample`.
    """
    rng = _rng(seed, split, index)
    label = scene_label(index)
    sets, probs = _SCENES[label]
    names = sets[int(rng.choice(len(sets), p=probs))]
    names = tuple(rng.permutation(np.array(names, dtype=object))) if names else ()
    objects = _place(rng, names)
    image = draw_background(rng)
    masks: dict[str, np.ndarray] = {}
    for obj in objects:
        m = obj.mask()
        masks[obj.name] = m
        if with_objects:
            image[m] = np.asarray(obj.colour, np.float32)
    if label_of([o.name for o in objects]) != label:  # pragma: no cover - guards the scene tables above
        raise RuntimeError(f"scene {names} does not satisfy the rule of class {CLASS_NAMES[label]}")
    return ShapesSample(image, label, objects, masks)


def generate_arrays(seed: int, split: str, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, SIZE, SIZE, 3)`` float32 raw RGB and labels ``(n,)`` int64 for ``indices``."""
    samples = [generate(seed, split, int(i)) for i in indices]
    if not samples:
        return np.zeros((0, SIZE, SIZE, 3), np.float32), np.zeros((0,), np.int64)
    return np.stack([s.image for s in samples]), np.array([s.label for s in samples], np.int64)


class ShapesSource:
    """The first ``n`` images of a split, through the :class:`repro.data.ImageSource` listing.

    Args:
        n: number of images (>= 1).
        seed: data seed.
        split: ``"train"``, ``"val"`` or ``"test"`` (the study uses ``"test"``, which training never sees).

    Attributes:
        name: ``"shapes-<split>-seed<seed>"`` (the seed is part of the name so caches never mix seeds).
        ids: ``"shapes-<split>-00000"``, ... in index order.
        labels: ``(n,)`` int64 class indices into :data:`CLASS_NAMES`.
    """

    class_names: tuple[str, ...] = CLASS_NAMES

    def __init__(self, n: int, seed: int = 0, split: str = "test") -> None:
        if int(n) < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        _rng(seed, split, 0)  # validates seed and split
        self.n, self.seed, self.split = int(n), int(seed), split
        self.name = f"shapes-{split}-seed{self.seed}"
        self.ids = [f"shapes-{split}-{i:05d}" for i in range(self.n)]
        self.labels = np.array([scene_label(i) for i in range(self.n)], np.int64)

    def __len__(self) -> int:
        return self.n

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} out of range for {self.name} with {self.n} images")
        return i

    def load(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB float32 ``(len(indices), 64, 64, 3)`` in ``[0, 255]``."""
        idx = [self._check(i) for i in indices]
        return generate_arrays(self.seed, self.split, idx)[0]

    def sample(self, i: int) -> ShapesSample:
        """The full :class:`ShapesSample` (image, label, objects, masks) of image ``i``."""
        return generate(self.seed, self.split, self._check(i))

    def masks(self, i: int) -> dict[str, np.ndarray]:
        """Object name -> ``(64, 64)`` bool mask for image ``i`` (only the objects it contains)."""
        return self.sample(i).masks
