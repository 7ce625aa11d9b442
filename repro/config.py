"""Every setting of a study run, and the rules that keep a run directory consistent with its settings.

A :class:`StudyConfig` is recorded in ``OUT/config.json`` when a run starts; reopening the directory with settings
that would change any number is refused (:func:`check_same_settings`), while settings that only change speed or
which shard runs (:data:`NON_RESULT_FIELDS`) may differ.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.attributions import METHODS
from repro.attributions.lrp import LRP_RULES
from repro.criteria.adaptive import DEFAULT_STEPS  # the curve sampling of every profile, the CLI and the API
from repro.errors import ReproError
from repro.io import file_digest
from repro.readings import DEFAULTS, MAP_READINGS, READINGS, Reading

PROFILES: tuple[str, ...] = ("embedded", "paper", "custom")
"""``embedded``: the offline shapes model and data; ``paper``: VGG16 on ImageNet; ``custom``: your model (a name of
:data:`repro.models.MODELS` or a model file) on a folder of your images (``--model``, ``--images``)."""
EMBEDDED_DEFAULT_IMAGES = 120
QUICK: dict[str, int] = {"steps": 10, "ig_steps": 8, "sg_samples": 8}
"""The smoke-run preset (``--quick``): the one place where step counts are capped for fast runs."""
EXACT = "exact"
"""The spelling of exact mode (``steps=None``) on the command line and in :func:`make_config`."""


@dataclass(frozen=True)
class StudyConfig:
    """Every setting of a run. Fields in :data:`NON_RESULT_FIELDS` do not change any number."""

    profile: str = "embedded"
    model: str = "embedded"
    weights: str | None = None
    preprocess: str | None = None
    """``--preprocess`` (:data:`repro.models.PREPROCESS_MODES`); ``None``: the model's own."""
    input_size: int | None = None
    """``--input-size``; ``None``: the model's own."""
    gradcam_layer: str | None = None
    """Grad-CAM's layer; a custom run records the one it uses (found automatically unless given)."""
    model_id: str | None = None
    """A custom run's resolved model (:attr:`repro.models.ImageModel.name`: network or file digest, preprocessing,
    size), so a changed model file is a changed setting."""
    images: str | None = None
    """Custom profile: the folder of images."""
    labels: str | None = None
    """Custom profile: the labels CSV (``file,label``), if any."""
    imagenet_dir: str | None = None
    manifest: str | None = None
    num_images: int | None = None
    methods: tuple[str, ...] = tuple(METHODS)
    steps: int | str | None = DEFAULT_STEPS
    """Curve sampling (:func:`sampling`): ``K``, ``None`` (exact; ``"exact"`` is read as ``None``) or
    ``"adaptive"``."""
    tol: float | None = None
    """``steps="adaptive"`` only: the relative error each criterion's estimate may keep; stored explicitly
    (:data:`repro.criteria.adaptive.DEFAULT_TOL` when not given) so ``config.json`` says the number. A result
    setting: a resume or merge with another ``tol`` is refused. ``None`` for the other modes, which the settings
    digest leaves out, so a run without it keeps the digest it had before the field existed."""
    score: str = DEFAULTS["score"]
    s_ord: str = DEFAULTS["s_ord"]
    input_reference: str = DEFAULTS["input_reference"]
    guided_backprop: str = DEFAULTS["guided_backprop"]
    lrp_rule: str = DEFAULTS["lrp_rule"]
    target: str = DEFAULTS["target"]
    perturbation_baseline: str = DEFAULTS["perturbation_baseline"]
    """What a removed pixel is set to in the criteria (:func:`repro.stages.perturbation_baseline`); maps and
    IG/DeepLIFT's own reference inputs do not depend on it."""
    tp_claims: str = DEFAULTS["tp_claims"]
    relative_claims: str = DEFAULTS["relative_claims"]
    readings: tuple[str, ...] = ()
    """Map readings (:data:`repro.readings.MAP_READINGS`) whose other values are computed beside the run's own."""
    seed: int = 0
    ig_steps: int = 50
    sg_samples: int = 50
    sg_noise: float = 0.2
    chunk_size: int = 16
    batch_size: int = 64
    num_examples: int = 4
    shard: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        steps, tol = sampling(self.steps, self.tol)  # however the config is made (make_config, a record, replace)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "tol", tol)

    def needs_labels(self) -> bool:
        """Whether the run explains ground-truth labels (``target=label``: its own reading or one it computes)."""
        return self.target == "label" or "target" in self.readings

    def reading(self) -> Reading:
        """The run's own reading (its default view of the results)."""
        return Reading(**{name: getattr(self, name) for name in READINGS})

    def method_overrides(self, name: str, reading: Reading | None = None) -> dict:
        """Constructor arguments of method ``name`` under this config, or under ``reading`` (default: the run's
        own); its other settings keep the method's defaults (the map cache keys on the instance's full
        ``params()``, never on these overrides alone)."""
        r = reading or self.reading()
        return {
            "saliency": {"input_reference": r.input_reference},
            "integrated_gradients": {"steps": self.ig_steps},
            "smoothgrad": {"samples": self.sg_samples, "noise": self.sg_noise, "seed": self.seed,
                           "input_reference": r.input_reference},
            "guided_backprop": {"variant": r.guided_backprop, "input_reference": r.input_reference},
            "lrp": dict(LRP_RULES[r.lrp_rule]),
            "random": {"seed": self.seed},
        }.get(name, {})

    def map_jobs(self) -> list[tuple[str, str, Reading]]:
        """Every map set a chunk computes, in row order: ``(reading tag, method, reading)``; the run's own first
        (tag ``""``), then for each of :attr:`readings` each other value, for the methods it affects."""
        own = self.reading()
        jobs = [("", m, own) for m in self.methods]
        for name in self.readings:
            for value in READINGS[name]:
                if value != getattr(own, name):
                    affected = MAP_READINGS[name] or self.methods
                    jobs += [(f"{name}={value}", m, own.changed(**{name: value}))
                             for m in self.methods if m in affected]
        return jobs

    def row_keys(self) -> list[tuple[str, str, str]]:
        """Every image's rows as ``(method, reading tag, score)``, in row order: per map job, both class scores
        (read from the same forwards)."""
        return [(method, tag, score) for tag, method, _ in self.map_jobs() for score in READINGS["score"]]


NON_RESULT_FIELDS: tuple[str, ...] = ("imagenet_dir", "shard")
"""Settings that never change a number: a run may be resumed or merged with different values. ``batch_size`` is
not one of them: the model's float32 outputs can differ in the last bits between batch sizes (measured: 434
cells of one chunk differ between 64 and 1), so a resume or merge must use the same one."""


def sampling(steps: int | str | None, tol: float | str | None) -> tuple[int | str | None, float | None]:
    """The curve sampling in force: ``(steps, tol)`` with ``"exact"`` read as ``None`` and ``tol`` as a float,
    :data:`repro.criteria.adaptive.DEFAULT_TOL` for ``"adaptive"`` without one, ``None`` for the other modes.

    Raises:
        ReproError: (one line) ``steps`` is not a positive integer, ``None``, ``"exact"`` or ``"adaptive"``; ``tol``
            is not a positive number; or a ``tol`` is given with another mode than ``"adaptive"``
            (:func:`repro.criteria.adaptive.check_sampling`).
    """
    from repro.criteria.adaptive import check_sampling

    steps = None if steps == EXACT else steps
    try:
        tol = check_sampling(steps, tol)
    except ValueError as exc:
        raise ReproError(f"--steps/--tol: {exc}") from None
    return steps, tol


def make_config(profile: str = "embedded", quick: bool = False, **overrides: Any) -> StudyConfig:
    """A :class:`StudyConfig` for ``profile`` with ``overrides`` applied (``None`` values are ignored)."""
    if profile not in PROFILES:
        raise ReproError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    base: dict[str, Any] = {"profile": profile, "model": "embedded" if profile == "embedded" else "vgg16"}
    if profile == "custom":
        if not overrides.get("model"):
            raise ReproError("the custom profile needs --model NAME_OR_FILE (a keras.applications name such as "
                             "resnet50, or a .keras / .h5 model file)")
        if not overrides.get("images"):
            raise ReproError("the custom profile needs --images DIR (a folder of .jpg / .png images, optionally with "
                             "a labels CSV)")
        overrides = {**overrides, "model": str(overrides["model"]), "images": str(overrides["images"])}
        if overrides.get("labels") is not None:
            overrides["labels"] = str(overrides["labels"])
    else:
        given = [k for k in ("images", "labels", "preprocess", "input_size", "gradcam_layer", "model_id")
                 if overrides.get(k) is not None]
        if given:
            raise ReproError(f"{', '.join('--' + k.replace('_', '-') for k in given)}: for the custom profile "
                             f"(--profile custom --model ... --images DIR), not the {profile} profile")
    if overrides.get("preprocess") is not None:
        from repro.models.preprocessing import PREPROCESS_MODES

        if overrides["preprocess"] not in PREPROCESS_MODES:
            raise ReproError(f"unknown --preprocess {overrides['preprocess']!r}; choose from: "
                             f"{', '.join(PREPROCESS_MODES)}")
    if overrides.get("input_size") is not None and int(overrides["input_size"]) < 1:
        raise ReproError(f"--input-size must be >= 1, got {overrides['input_size']}")
    if profile == "paper":
        from repro.data.imagenet import REPO_MANIFEST

        base.update(weights="imagenet", manifest=str(REPO_MANIFEST))
    if quick:
        if overrides.get("tol") is not None and overrides.get("steps") is None:
            raise ReproError(f"--steps/--tol: tol {overrides['tol']} needs --steps adaptive (--quick samples a fixed "
                             f"grid of {QUICK['steps']} steps)")
        base.update(QUICK)
    base.update({k: v for k, v in overrides.items() if v is not None})
    base.setdefault("readings", tuple(MAP_READINGS) if profile == "embedded" else ())
    base["readings"] = tuple(base["readings"])
    unknown = [r for r in base["readings"] if r not in MAP_READINGS]
    if unknown:
        raise ReproError(f"unknown map reading(s) {unknown}; choose from: {', '.join(MAP_READINGS)}")
    for name in READINGS:
        if name in base and base[name] not in READINGS[name]:
            raise ReproError(f"unknown {name} {base[name]!r}; choose from: {', '.join(READINGS[name])}")
    unknown = [m for m in base.get("methods", ()) if m not in METHODS]
    if unknown:
        raise ReproError(f"unknown method(s) {unknown}; choose from: {', '.join(METHODS)}")
    if "methods" in base:
        base["methods"] = tuple(base["methods"])
    i, n = base.get("shard", (0, 1))
    if not 0 <= i < n:
        raise ReproError(f"shard index must satisfy 0 <= i < N (i counts from 0), got {i}/{n}")
    return StudyConfig(**base)


SLURM_SHARD_VARIABLES: tuple[str, ...] = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT")
"""The environment variables a SLURM array job's shard is read from (:func:`parse_shard`)."""


def _shard_range(n: int) -> str:
    """The valid 0-based shards of ``n``, e.g. ``"0/4 ... 3/4"``."""
    return f"0/{n}" if n == 1 else f"0/{n} ... {n - 1}/{n}"


def check_shard(i: int, n: int, given: str) -> tuple[int, int]:
    """``(i, n)`` when ``0 <= i < n``; else :class:`ReproError` (one line) starting with ``given`` (how the user
    wrote it), saying that ``i`` counts from 0 and, for ``i == n`` (1-based numbering), which shard to write."""
    if n < 1:
        raise ReproError(f"{given}: N must be at least 1 (shard i of N, 0 <= i < N)")
    if not 0 <= i < n:
        fix = f"; for 1-based numbering (1/{n} ... {n}/{n}) write i - 1, here {i - 1}/{n}" if i == n else ""
        raise ReproError(f"{given}: i counts from 0 ({_shard_range(n)}){fix}")
    return i, n


def parse_shard(text: str | None, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """The shard ``(i, N)`` a run computes, ``0 <= i < N`` (shard ``i`` runs every ``N``-th chunk from chunk ``i``).

    ``i`` counts from 0: ``"i/N"`` -> ``(i, N)`` (``0/4 ... 3/4``). Without text, a SLURM array job's
    ``SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN`` of ``SLURM_ARRAY_TASK_COUNT`` (so ``--array=1-4`` and
    ``--array=0-3`` both give ``0/4 ... 3/4``; a missing MIN reads as 0, a missing COUNT as 1); else ``(0, 1)``.

    Raises:
        ReproError: (one line) text that is not ``i/N`` or a shard out of range (naming the convention and, for
            ``i == N``, the 0-based spelling); a SLURM variable that is not an integer, or that gives a shard out
            of range (naming the variables and their values).
    """
    environ = os.environ if environ is None else environ
    if text:
        try:
            i, n = (int(p) for p in text.split("/"))
        except ValueError:
            raise ReproError(f"--shard must look like i/N (e.g. 0/4), got {text!r}") from None
        return check_shard(i, n, f"--shard {text}")
    if "SLURM_ARRAY_TASK_ID" in environ:
        given = {name: environ[name] for name in SLURM_SHARD_VARIABLES if name in environ}
        values = {}
        for name, value in given.items():
            try:
                values[name] = int(value)
            except ValueError:
                raise ReproError(f"{name}={value!r}: not an integer (SLURM sets it for an array job); fix or unset "
                                 f"it, or pass --shard i/N") from None
        i = values["SLURM_ARRAY_TASK_ID"] - values.get("SLURM_ARRAY_TASK_MIN", 0)
        n = values.get("SLURM_ARRAY_TASK_COUNT", 1)
        if n < 1 or not 0 <= i < n:
            where = " ".join(f"{name}={value}" for name, value in given.items())
            valid = _shard_range(n) if n >= 1 else "none: the count must be at least 1"
            raise ReproError(f"{where}: shard {i}/{n} (TASK_ID - TASK_MIN of TASK_COUNT) is not one of {valid} "
                             f"(a stepped or listed array?); pass --shard i/N to choose the shard yourself")
        return i, n
    return 0, 1


def method_params(cfg: StudyConfig) -> dict[str, dict]:
    """Every map job's full method parameters under ``cfg`` (defaults included), as its map cache key sees them:
    ``"<method>"`` for the run's own, ``"<method>[<reading tag>]"`` for a map reading's variant."""
    from repro.attributions import get_method

    return {(f"{name}[{tag}]" if tag else name): get_method(name, **cfg.method_overrides(name, reading)).params()
            for tag, name, reading in cfg.map_jobs()}


def config_from_record(record: Mapping[str, Any]) -> StudyConfig:
    """The :class:`StudyConfig` a ``config.json`` record was made from (its extra entries ignored)."""
    fields = {f.name: f.type for f in dataclasses.fields(StudyConfig)}
    values = {k: record[k] for k in fields if k in record}
    for name in ("methods", "readings", "shard"):
        if name in values:
            values[name] = tuple(values[name])
    return StudyConfig(**values)


def config_record(cfg: StudyConfig, image_ids: Sequence[str]) -> dict[str, Any]:
    """What ``config.json`` holds: every setting, every method's full parameters (so a changed default is a
    changed setting), the identity of the weights (:func:`repro.models.weights.weights_id`: a weights file by its
    content, so retraining the embedded model in place is a changed setting), the content digests of the input
    files a run reads by path (:func:`input_file_digests`) and the digest and count of the study's image ids."""
    from repro.models.weights import weights_id

    return {**dataclasses.asdict(cfg), "method_params": method_params(cfg),
            "weights_id": weights_id(cfg.model, cfg.weights), **input_file_digests(cfg, image_ids),
            "image_ids_sha1": ids_digest(image_ids), "num_image_ids": len(image_ids)}


INPUT_FILES: tuple[str, ...] = ("manifest", "labels", "images")
"""The config fields naming files whose content (not only their path) determines the numbers: the paper's image
manifest (images and labels), a custom run's labels CSV, and a custom run's image folder (the study's image files
in it)."""


def input_file_digests(cfg: StudyConfig, image_ids: Sequence[str] = ()) -> dict[str, str]:
    """``{"<field>_sha1": SHA-1}`` for each of :data:`INPUT_FILES` set in ``cfg`` and present: a file's bytes; for
    the ``images`` folder, each study image's name and :func:`repro.io.file_digest` in study order (an image edited
    in place changes it). A missing file is reported by the image source that reads it; an unreadable one is one
    :class:`ReproError` line naming it."""
    out = {}
    try:
        for name in INPUT_FILES:
            if getattr(cfg, name) is None:
                continue
            path = Path(getattr(cfg, name)).expanduser()
            if path.is_file():
                out[f"{name}_sha1"] = file_digest(path)
            elif path.is_dir() and image_ids and all((path / i).is_file() for i in image_ids):
                text = "\n".join(f"{i} {file_digest(path / i)}" for i in image_ids)
                out[f"{name}_sha1"] = hashlib.sha1(text.encode("utf-8")).hexdigest()
    except OSError as exc:
        raise ReproError(f"{exc.filename}: cannot be read ({exc.strerror})") from None
    return out


CONTENT_IDS: dict[str, tuple[str, str]] = {
    **{name: (f"{name}_sha1", "") for name in INPUT_FILES},
    "weights": ("weights_id", "sha1:"),
    "model": ("model_id", "file:"),
}
"""Path field -> (the record field identifying its content, the prefix that field has when it is a file's digest):
the input files (:func:`input_file_digests`), a weights file (:func:`repro.models.weights.weights_id`) and a model
file (its name ``file:<stem>:<SHA-1>:...``, :mod:`repro.models.keras_file`)."""


def result_settings(record: Mapping[str, Any]) -> dict[str, Any]:
    """The result-determining part of a ``config.json`` record: without :data:`NON_RESULT_FIELDS`, without the
    path of a file whose content is identified in the record (:data:`CONTENT_IDS`: shards run from checkouts at
    other paths read the same files), and without ``None`` values (a missing field reads as ``None``)."""
    by_content = {path_field for path_field, (content_field, prefix) in CONTENT_IDS.items()
                  if isinstance(record.get(content_field), str) and record[content_field]
                  and record[content_field].startswith(prefix)}
    return {k: v for k, v in record.items() if k not in NON_RESULT_FIELDS and k not in by_content and v is not None}


def settings_digest(record: Mapping[str, Any]) -> str:
    """SHA-1 of :func:`result_settings` of a ``config.json`` record: two runs whose digests agree compute the same
    numbers; every chunk manifest carries it."""
    kept = result_settings(record)
    return hashlib.sha1(json.dumps(_norm(kept), sort_keys=True).encode()).hexdigest()


def ids_digest(ids: Sequence[str]) -> str:
    """SHA-1 of the image ids joined by newlines: identifies the study's image list."""
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


SHOWN_VALUE_CHARS = 120
"""A differing value longer than this (its ``repr``) is shortened in a settings refusal
(:func:`setting_differences`)."""
_ABSENT = object()


def _shown(value: Any) -> str:
    """``repr(value)`` for a settings refusal: ``(absent)`` for a nested key one side lacks, shortened to
    :data:`SHOWN_VALUE_CHARS` characters."""
    text = "(absent)" if value is _ABSENT else repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


def setting_differences(old: Any, new: Any, name: str) -> list[str]:
    """``"<name>: <old> != <new>"`` for each difference between two values of setting ``name``; where both are
    dicts, only the differing nested keys, as dotted names (``method_params.integrated_gradients.rule: 'midpoint'
    != 'right'``), in sorted order. Values are compared as JSON (a tuple equals a list)."""
    if old is not _ABSENT and new is not _ABSENT and _norm(old) == _norm(new):
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return [line for key in sorted(set(old) | set(new), key=str)
                for line in setting_differences(old.get(key, _ABSENT), new.get(key, _ABSENT), f"{name}.{key}")]
    return [f"{name}: {_shown(old)} != {_shown(new)}"]


def check_same_settings(where: Path, old: Mapping[str, Any], new: Mapping[str, Any],
                        advice: str = "use another --out directory") -> None:
    """Refuse two ``config.json`` records whose result-determining settings (:func:`result_settings`) differ.

    Raises:
        ReproError: ``"<where> was made with different settings (<difference>); <advice>"`` for one difference
            (one line); for several, the first line ``"<where> was made with different settings (N differ):"``,
            then one line per difference (:func:`setting_differences`: a dict-valued setting such as
            ``method_params`` only by its differing nested keys), then ``advice``. A setting missing on one side
            reads as ``None``.
    """
    old_kept, new_kept = result_settings(old), result_settings(new)
    diffs = [line for k in sorted(set(old_kept) | set(new_kept))
             for line in setting_differences(old_kept.get(k), new_kept.get(k), k)]
    if len(diffs) == 1:
        raise ReproError(f"{where} was made with different settings ({diffs[0]}); {advice}")
    if diffs:
        lines = "\n".join(f"  {d}" for d in diffs)
        raise ReproError(f"{where} was made with different settings ({len(diffs)} differ):\n{lines}\n{advice}")


def _norm(v: Any) -> Any:
    return json.loads(json.dumps(v))
