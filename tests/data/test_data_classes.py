"""The offline ImageNet class index and validation ground truth, checked against the Keras class index
(imagenet_class_index.json) and Caffe's ILSVRC2012 val.txt as published."""

from __future__ import annotations

import subprocess
import sys

from repro.data import imagenet
from repro.data.imagenet import class_names, validation_labels, wnids

KERAS_CLASS_INDEX = {  # index: (wnid, Keras name), from keras' imagenet_class_index.json
    0: ("n01440764", "tench"),
    1: ("n01443537", "goldfish"),
    2: ("n01484850", "great_white_shark"),
    134: ("n02012849", "crane"),
    151: ("n02085620", "Chihuahua"),
    207: ("n02099601", "golden_retriever"),
    281: ("n02123045", "tabby"),
    282: ("n02123159", "tiger_cat"),
    340: ("n02391049", "zebra"),
    386: ("n02504458", "African_elephant"),
    409: ("n02708093", "analog_clock"),
    504: ("n03063599", "coffee_mug"),
    517: ("n03126707", "crane"),
    607: ("n03590841", "jack-o'-lantern"),
    817: ("n04285008", "sports_car"),
    948: ("n07742313", "Granny_Smith"),
    954: ("n07753592", "banana"),
    999: ("n15075141", "toilet_tissue"),
}

CAFFE_VAL_TXT = {  # first lines of Caffe's ILSVRC2012 val.txt (file, class index)
    "ILSVRC2012_val_00000001.JPEG": 65,
    "ILSVRC2012_val_00000002.JPEG": 970,
    "ILSVRC2012_val_00000003.JPEG": 230,
    "ILSVRC2012_val_00000004.JPEG": 809,
    "ILSVRC2012_val_00000005.JPEG": 516,
}


def test_thousand_classes_in_sorted_wnid_order():
    w, n = wnids(), class_names()
    assert len(w) == len(n) == 1000
    assert len(set(w)) == 1000
    assert w == sorted(w)  # the Caffe/Keras index is the sorted order of the 1000 synsets


def test_known_keras_entries():
    w, n = wnids(), class_names()
    for index, (wnid, name) in KERAS_CLASS_INDEX.items():
        assert (w[index], n[index]) == (wnid, name), index


def test_names_have_no_spaces_and_known_duplicates():
    n = class_names()
    assert not [x for x in n if " " in x or not x]
    dupes = sorted({x for x in n if n.count(x) > 1})
    assert dupes == ["crane", "maillot"]


def test_validation_ground_truth():
    labels = validation_labels()
    assert len(labels) == 50_000
    counts = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    assert sorted(counts) == list(range(1000)) and set(counts.values()) == {50}
    for image_id, label in CAFFE_VAL_TXT.items():
        assert labels[image_id] == label
    assert wnids()[labels["ILSVRC2012_val_00000001.JPEG"]] == "n01751748"  # sea snake


def test_cached_and_returned_as_fresh_lists():
    a = class_names()
    a[0] = "changed"
    assert class_names()[0] == "tench"
    class_names()
    wnids()
    assert imagenet._class_names.cache_info().misses <= 1
    assert imagenet._wnids.cache_info().misses <= 1


def test_data_modules_do_not_import_tensorflow():
    code = ("import sys, repro.data.imagenet, repro.data.images, repro.data.folder, repro.commands.manifest; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
