"""A new user's path, end to end, as the README section "A new user's path" prints it: your own small Keras CNN
saved as .keras, a folder of your PNG photos (mixed modes and sizes), maps from `repro attribute` (.npz) and your
own maps (.npy), `repro evaluate` on both with its summary table, the Python API giving the CLI's numbers, and
`repro reproduce --profile custom` followed by the walkthrough notebook on its run directory."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from repro.cli import main

pytestmark = pytest.mark.slow
SIZE = 32


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """What a new user brings: my_model.keras (a seeded CNN ending in a softmax) and photos/ (6 images: RGB of
    several sizes, one RGBA, one grayscale)."""
    import tensorflow as tf

    home = tmp_path_factory.mktemp("user")
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    model = tf.keras.Sequential([L.InputLayer(input_shape=(SIZE, SIZE, 3)), L.Conv2D(4, 3, activation="relu"),
                                 L.MaxPooling2D(), L.Conv2D(8, 3, activation="relu"), L.Flatten(),
                                 L.Dense(3, activation="softmax")])
    model.save(home / "my_model.keras")
    photos = home / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(40, 48), (32, 32), (50, 36), (64, 64)]):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(photos / f"photo_{i}.png")
    Image.fromarray(rng.integers(0, 256, (40, 40, 4), dtype=np.uint8), "RGBA").save(photos / "photo_4.png")
    Image.fromarray(rng.integers(0, 256, (36, 36), dtype=np.uint8), "L").save(photos / "photo_5.png")
    return home


def model_args(home) -> list[str]:
    return ["--model", str(home / "my_model.keras"), "--preprocess", "unit"]


def logit_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["score"] == "logit"]


def test_a_new_users_model_photos_and_maps_go_through_the_cli_and_the_api(user, capsys):
    from repro.criteria import evaluate
    from repro.data.folder import read_image_folder
    from repro.models import load_model

    home, photos = user, user / "photos"
    assert main(["attribute", *model_args(home), "--images", str(photos), "--methods", "saliency", "gradcam",
                 "--out", str(home / "maps.npz"), "--no-cache", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "1 of 6 images have transparency (RGBA)" in err and "1 of 6 images are grayscale (L)" in err
    with np.load(home / "maps.npz") as z:
        assert sorted(z.files) == ["gradcam", "saliency"] and z["saliency"].shape == (6, SIZE, SIZE, 3)
    own = np.random.default_rng(1).normal(size=(6, SIZE, SIZE)).astype(np.float32)  # "my own maps"
    np.save(home / "own.npy", own)

    assert main(["evaluate", *model_args(home), "--images", str(photos), "--maps", str(home / "own.npy"),
                 "--out", str(home / "own.csv")]) == 0
    printed = capsys.readouterr().out
    assert "[repro] wrote 12 rows" in printed and "score logit: median [IQR]" in printed
    assert main(["evaluate", *model_args(home), "--images", str(photos), "--maps", str(home / "maps.npz"),
                 "--out", str(home / "library.csv")]) == 0
    assert {r["method"] for r in logit_rows(home / "library.csv")} == {"saliency", "gradcam"}

    rows = logit_rows(home / "own.csv")
    ids, raw = read_image_folder(photos, (SIZE, SIZE, 3))
    assert [r["image_id"] for r in rows] == ids == [f"photo_{i}.png" for i in range(6)]
    model = load_model(home / "my_model.keras", preprocess="unit")
    res = evaluate(model, model.preprocess(raw), own)  # the API with no options: the CLI's numbers
    for name in ("n_ord", "s_ord", "tpn", "tps", "y0"):
        np.testing.assert_array_equal([float(r[name]) for r in rows], getattr(res, name), err_msg=name)


def test_a_new_users_study_and_the_notebook_on_it(user, capsys):
    import nbformat

    from repro.notebook import execute_notebook
    from test_notebook import NOTEBOOK

    out = user / "run"
    assert main(["reproduce", "--profile", "custom", *model_args(user), "--images", str(user / "photos"),
                 "--quick", "--methods", "saliency", "gradcam", "random", "--no-progress", "--out", str(out)]) == 0
    assert (out / "claims.md").is_file() and (out / "figures" / "fig5_boxplots.png").is_file()
    executed = execute_notebook(NOTEBOOK, out)
    outputs = [o for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
