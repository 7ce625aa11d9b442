"""The logic-shapes generator: determinism, masks, the logical label rules, balance, and the ImageSource listing."""

import numpy as np
import pytest

from repro.data.shapes import (BACKGROUND_NOISE_STD, CLASS_NAMES, GAP, MAX_TINT, OBJECT_COLOURS, SIZE,
                               ShapesSource, generate, generate_arrays, label_of, object_mask)

N_CHECK = 240  # images per split checked exhaustively below (80 per class)


@pytest.fixture(scope="module")
def samples():
    return {split: [generate(0, split, i) for i in range(N_CHECK)] for split in ("train", "test")}


def test_same_seed_gives_identical_images_and_masks():
    a = [generate(3, "test", i) for i in range(10)]
    b = [generate(3, "test", i) for i in range(10)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.image, y.image)
        assert x.label == y.label and x.objects == y.objects
        assert x.masks.keys() == y.masks.keys()
        for k in x.masks:
            np.testing.assert_array_equal(x.masks[k], y.masks[k])


def test_seeds_and_splits_are_different_streams():
    base, _ = generate_arrays(0, "test", range(6))
    for seed, split in ((1, "test"), (0, "train"), (0, "val")):
        other, _ = generate_arrays(seed, split, range(6))
        assert not np.any(np.all(other == base, axis=(1, 2, 3)))


def test_images_do_not_depend_on_which_others_are_generated():
    src = ShapesSource(20, seed=0)
    together = src.load([7, 3, 12])
    np.testing.assert_array_equal(together[0], src.load([7])[0])
    np.testing.assert_array_equal(together[1], generate(0, "test", 3).image)
    np.testing.assert_array_equal(together[2], src.load(range(20))[12])


def test_images_are_raw_rgb_in_range():
    x, y = generate_arrays(0, "test", range(30))
    assert x.shape == (30, SIZE, SIZE, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 255.0


def test_masks_are_exactly_the_drawn_pixels(samples):
    # Background colours are grey + tint with |tint| <= MAX_TINT, blended convexly, so a background pixel's channel
    # spread (max - min over channels) is <= 2 * MAX_TINT before noise; noise beyond 5 sigma per channel is
    # vanishingly rare. Every object colour has two channels at least 120 apart (green: G >= 170, R, B <= 50).
    # Hence at every object pixel some channel differs from the background underneath by at least
    # (120 - 2 * MAX_TINT - 2 * 5 * sigma) / 2.
    min_diff = (120 - 2 * MAX_TINT - 2 * 5 * BACKGROUND_NOISE_STD) / 2
    assert min_diff == 15
    for i, s in enumerate(samples["test"]):
        bg = generate(0, "test", i, with_objects=False).image
        union = np.zeros((SIZE, SIZE), bool)
        for obj in s.objects:
            m = s.masks[obj.name]
            assert m.any() and not (m & union).any(), "masks must be non-empty and disjoint"
            union |= m
            np.testing.assert_array_equal(s.image[m], np.broadcast_to(np.float32(obj.colour), (m.sum(), 3)))
            assert np.abs(s.image[m] - bg[m]).max(axis=1).min() > min_diff
        np.testing.assert_array_equal(s.image[~union], bg[~union])


def test_object_colours_fall_in_their_ranges(samples):
    for s in samples["train"]:
        for obj in s.objects:
            for value, (lo, hi) in zip(obj.colour, OBJECT_COLOURS[obj.name]):
                assert lo <= value <= hi


def test_object_boxes_are_apart_and_inside(samples):
    for s in samples["train"] + samples["test"]:
        boxes = [(o.top, o.left, o.side) for o in s.objects]
        for t, l, side in boxes:
            assert 0 <= t and t + side <= SIZE and 0 <= l and l + side <= SIZE
        for i, (t1, l1, s1) in enumerate(boxes):
            for t2, l2, s2 in boxes[i + 1:]:
                assert t1 + s1 + GAP <= t2 or t2 + s2 + GAP <= t1 or l1 + s1 + GAP <= l2 or l2 + s2 + GAP <= l1


def test_shape_rasterisation_areas():
    # Square: side^2 pixels. Disc: pi r^2 within the perimeter (2 pi r). Triangle: half the box within a side per
    # row. Plus sign with arm width w: 2 w side - w^2.
    side = 15
    assert object_mask("A", 0, 0, side).sum() == side * side
    assert abs(object_mask("B", 10, 10, side).sum() - np.pi * (side / 2) ** 2) <= 2 * np.pi * side / 2
    assert abs(object_mask("C", 5, 40, side).sum() - side * side / 2) <= side
    w = round(side / 3)
    assert object_mask("D", 40, 5, side).sum() == 2 * w * side - w * w
    with pytest.raises(ValueError, match="does not fit"):
        object_mask("A", 60, 0, 10)
    with pytest.raises(ValueError, match="unknown object 'E'"):
        object_mask("E", 0, 0, 10)


def test_every_label_follows_the_logical_rules(samples):
    for s in samples["train"] + samples["test"]:
        names = {o.name for o in s.objects}
        assert set(s.masks) == names
        has_and = {"A", "B"} <= names
        has_or = bool(names & {"C", "D"})
        assert not (has_and and has_or), "no scene may satisfy both rules"
        expected = "A_and_B" if has_and else "C_or_D" if has_or else "neither"
        assert CLASS_NAMES[s.label] == expected
        assert label_of(sorted(names)) == s.label


def test_label_rule_function():
    assert label_of(["B", "A"]) == 0
    assert label_of(["C"]) == label_of(["D"]) == label_of(["C", "D"]) == label_of(["A", "D"]) == 1
    assert label_of([]) == label_of(["A"]) == label_of(["B"]) == 2
    with pytest.raises(ValueError, match="satisfy both"):
        label_of(["A", "B", "C"])
    with pytest.raises(ValueError, match="unknown object"):
        label_of(["A", "Z"])


def test_classes_are_balanced_and_the_rules_are_exercised(samples):
    src = ShapesSource(N_CHECK, seed=0)
    np.testing.assert_array_equal(np.bincount(src.labels, minlength=3), [N_CHECK // 3] * 3)
    sets = {}
    for s in samples["train"]:
        sets.setdefault(CLASS_NAMES[s.label], set()).add(frozenset(o.name for o in s.objects))
    # A alone and B alone must appear without the A_and_B label, so the conjunction has to be learned;
    # C and D each appear alone, together, and beside a distractor.
    assert {frozenset(), frozenset("A"), frozenset("B")} == sets["neither"]
    assert {frozenset("C"), frozenset("D"), frozenset("CD"), frozenset("AC"), frozenset("BD")} <= sets["C_or_D"]
    assert sets["A_and_B"] == {frozenset("AB")}


def test_source_listing_and_errors():
    src = ShapesSource(7, seed=2, split="test")
    assert src.name == "shapes-test-seed2" and len(src) == 7
    assert src.ids[0] == "shapes-test-00000" and src.ids[-1] == "shapes-test-00006" and len(set(src.ids)) == 7
    np.testing.assert_array_equal(src.labels, [0, 1, 2, 0, 1, 2, 0])
    s = src.sample(4)
    np.testing.assert_array_equal(src.load([4])[0], s.image)
    assert src.masks(4).keys() == s.masks.keys()
    with pytest.raises(IndexError, match="index 7 out of range"):
        src.load([7])
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        ShapesSource(3, split="dev")
    with pytest.raises(ValueError, match="n must be >= 1"):
        ShapesSource(0)
