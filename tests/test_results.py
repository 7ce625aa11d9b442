"""The results table: schema, exact round trip, typed columns, errors naming the file (repro/results/table.py)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from repro.errors import ReproError
from repro.results import RESULT_COLUMNS, ResultsTable, concat_tables, read_results, results_text, write_results


# ------------------------------------------------------------------------------------------------ results table

def _row(image_id, method, **values):
    row = dict(image_id=image_id, method=method, reading="", score="logit", target=3, label=-1, y0=0.9, yb=0.1,
               num_positive=10, n_ord=0.25, s_ord=-0.5, one_minus_s_ord=1.5, s_ord_text=-0.75,
               s_ord_baseline=0.25, tpn=0.1, tps=0.2, reason="")
    row.update(values)
    return row


def test_results_round_trip_is_exact(tmp_path):
    rows = [
        _row("img_1", "saliency", y0=0.1 + 0.2, n_ord=1 / 3),
        _row("img_1", "lrp", n_ord=float("nan"), s_ord=float("nan"), reason="no positive attribution",
             num_positive=0),
        _row("img, 2", "saliency", label=7, tpn=np.float32(0.3)),
    ]
    write_results(tmp_path / "results.csv", rows)
    table = read_results(tmp_path)  # a directory means <dir>/results.csv
    assert list(table.columns)[: len(RESULT_COLUMNS)] == list(RESULT_COLUMNS)
    assert len(table) == 3
    assert table.column("y0")[0] == 0.1 + 0.2  # repr round trip, bit for bit
    assert table.column("n_ord")[0] == 1 / 3
    assert math.isnan(table.column("n_ord")[1]) and table.column("reason")[1] == "no positive attribution"
    assert table.column("tpn")[2] == float(np.float32(0.3))
    assert table.column("label").tolist() == [-1, -1, 7]
    assert table.column("num_positive").dtype == np.int64
    assert table.image_ids == ["img_1", "img, 2"]
    assert table.methods == ["saliency", "lrp"]  # the registry's order, not the file's


def test_flagged_rows_keep_their_finite_numbers(tmp_path):
    """A reason that flags a clipped penalty (r or r' ~0) is not a NaN row: the numbers round-trip and pivot."""
    from repro.criteria import REASON_R_CLIPPED, REASON_R_PRIME_CLIPPED, nan_reason
    from repro.criteria.result import REASON_SEPARATOR

    both = REASON_R_CLIPPED + REASON_SEPARATOR + REASON_R_PRIME_CLIPPED
    rows = [_row("a", "random", yb=-2.5, tpn=1.1e10, reason=REASON_R_CLIPPED), _row("a", "saliency"),
            _row("b", "random", yb=-0.5, tpn=3.0e9, tps=2.5e9, reason=both)]
    write_results(tmp_path / "r.csv", rows)
    table = read_results(tmp_path / "r.csv")
    assert table.column("reason").tolist() == [REASON_R_CLIPPED, "", both]
    assert not any(nan_reason(r) for r in table.column("reason"))
    ids, methods, tpn = table.pivot("tpn")
    assert ids == ["a", "b"] and methods == ["saliency", "random"]
    assert tpn[0].tolist() == [0.1, 1.1e10] and math.isnan(tpn[1, 0]) and tpn[1, 1] == 3.0e9  # (b, saliency): no row


def test_extra_columns_kept_and_reason_optional(tmp_path):
    rows = [_row("a", "random", shard="0/2")]
    for optional in ("reason", "reading", "score"):
        del rows[0][optional]
    write_results(tmp_path / "r.csv", rows)
    table = read_results(tmp_path / "r.csv")
    assert table.column("shard").tolist() == ["0/2"]
    assert table.column("reason").tolist() == table.column("reading").tolist() == table.column("score").tolist() == [""]


def test_write_results_rejects_incomplete_rows(tmp_path):
    row = _row("a", "lrp")
    del row["tpn"]
    with pytest.raises(ValueError, match=r"row 0 lacks columns \['tpn'\]"):
        write_results(tmp_path / "r.csv", [row])
    assert not (tmp_path / "r.csv").exists()


def test_read_results_errors_name_file_line_and_column(tmp_path):
    with pytest.raises(ReproError, match=r"nothere.csv: results table not found"):
        read_results(tmp_path / "nothere.csv")
    path = tmp_path / "r.csv"
    path.write_text("image_id,method,target\n")
    with pytest.raises(ReproError, match=r"r.csv: missing columns reading, score, label, y0, yb"):
        read_results(path)
    write_results(path, [_row("a", "lrp"), _row("b", "lrp")])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("0.25", "0.2.5")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReproError, match=r"r.csv: line 3: column 'n_ord': malformed number '0.2.5'"):
        read_results(path)
    lines[2] = lines[2].replace("0.2.5", "0.25").replace("b,lrp,,logit,3", "b,lrp,,logit,three")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReproError, match=r"line 3: column 'target': malformed integer 'three'"):
        read_results(path)
    path.write_text(lines[0] + "\nonly,two\n")
    with pytest.raises(ReproError, match=rf"line 2: 2 fields, expected {len(RESULT_COLUMNS)}"):
        read_results(path)
    path.write_text("")
    with pytest.raises(ReproError, match="empty file"):
        read_results(path)


def test_filter_pivot_and_duplicates():
    rows = [_row("a", "saliency", tpn=1.0), _row("a", "lrp", tpn=2.0), _row("b", "lrp", tpn=float("nan")),
            _row("c", "saliency", tpn=4.0)]
    table = ResultsTable.from_rows(rows)
    assert table.filter(method="lrp").column("image_id").tolist() == ["a", "b"]
    assert len(table.filter(method="lrp", image_id="b")) == 1
    images, methods, matrix = table.pivot("tpn")
    assert images == ["a", "b", "c"] and methods == ["saliency", "lrp"]
    np.testing.assert_array_equal(matrix, [[1.0, 2.0], [np.nan, np.nan], [4.0, np.nan]])
    with pytest.raises(ReproError, match="no column 'nope'"):
        table.column("nope")
    dup = ResultsTable.from_rows(rows + [_row("a", "lrp")])
    with pytest.raises(ReproError, match="duplicate row for image 'a' and method 'lrp'"):
        dup.pivot("tpn")


def test_results_columns_typed_the_same_from_rows_and_from_file(tmp_path):
    row = {"image_id": "a", "method": "lrp", "target": 3, "label": 1, "y0": 0.5, "yb": 0.25, "num_positive": 7,
           "n_ord": float("nan"), "s_ord": 0.1, "one_minus_s_ord": 0.9, "s_ord_text": 0.0, "s_ord_baseline": 0.2,
           "tpn": 0.2, "tps": 0.3}
    table = ResultsTable.from_rows([row])
    back = read_results(write_results(tmp_path / "r.csv", [row]))
    for name in RESULT_COLUMNS:
        assert table.column(name).dtype == back.column(name).dtype, name
    assert table.column("target").dtype == np.int64 and table.column("y0").dtype == np.float64
    assert table.column("method").dtype == object


def test_a_table_written_before_the_estimate_columns_still_reads(tmp_path):
    from repro.readings import Reading
    from repro.results import ESTIMATE_COLUMNS, has_estimates, reading_view

    old_columns = [c for c in RESULT_COLUMNS if c not in ESTIMATE_COLUMNS]
    path = tmp_path / "results.csv"
    path.write_text(",".join(old_columns) + "\n" + ",".join(_cells(_row("a", "lrp"), old_columns)) + "\n")
    table = read_results(path)
    assert list(table.columns) == old_columns and not has_estimates(table)
    view = reading_view(table, Reading(score="logit", s_ord="text"), Reading(score="logit"))
    assert view.column("s_ord").tolist() == [-0.75] and not has_estimates(view)
    new = read_results(write_results(tmp_path / "new.csv", [_row("b", "lrp")]))
    assert has_estimates(new)
    with pytest.raises(ReproError, match="columns .* differ"):  # never mixed
        concat_tables([new, table])


def test_rows_without_estimates_are_written_with_nan_estimates(tmp_path):
    from repro.results import ESTIMATE_COLUMNS

    table = read_results(write_results(tmp_path / "r.csv", [_row("a", "lrp", n_ord_err=0.5)]))
    assert table.column("n_ord_err").tolist() == [0.5]
    assert all(math.isnan(table.column(c)[0]) for c in ESTIMATE_COLUMNS if c != "n_ord_err")


def _cells(row, names):
    return [str(row[n]) for n in names]


# ------------------------------------------------------------------------------------------- formula injection

FORMULA_ID = "=cmd|' -C calc'!A0.png"


def test_a_formula_like_image_id_is_written_quoted_and_reads_back_exactly(tmp_path):
    ids = [FORMULA_ID, "+1.png", "-x.png", "@sum.png", "\tt.png", "\rr.png", "'quoted.png", "''=two.png", "plain=.png",
           ""]
    rows = [_row(i, "saliency", reason=("=HYPERLINK()" if i == "" else "")) for i in ids]
    path = write_results(tmp_path / "r.csv", rows)
    assert path.read_text().splitlines()[1].startswith("'=cmd|' -C calc'!A0.png,saliency,")
    with open(path, newline="") as f:
        cells = [row[0] for row in csv.reader(f)][1:]
    assert cells == ["'=cmd|' -C calc'!A0.png", "'+1.png", "'-x.png", "'@sum.png", "'\tt.png", "'\rr.png",
                     "''quoted.png", "'''=two.png", "plain=.png", ""]
    assert ",'=HYPERLINK()" in path.read_text()  # every text column, not only image_id
    table = read_results(path)
    assert table.column("image_id").tolist() == ids
    assert table.column("reason").tolist()[-1] == "=HYPERLINK()"
    assert table.column("s_ord").tolist() == [-0.5] * len(ids)  # numbers are not text: written as they are
    assert results_text(table).encode() == path.read_bytes()  # read back, written again: the same bytes


def test_a_chunk_of_a_formula_like_image_id_verifies_and_assembles(tmp_path):
    import hashlib
    import json

    from repro.results import assemble_results, chunk_path, manifest_path, verify_chunk, write_chunk

    keys, ids = [("saliency", "", "logit")], [FORMULA_ID, "-cr\r.png"]
    write_chunk(tmp_path, 0, ids, keys, [_row(i, "saliency") for i in ids], "digest")
    manifest = json.loads(manifest_path(tmp_path, 0).read_text())
    assert manifest["image_ids"] == ids  # the manifest holds the ids themselves, the table their quoted cells
    assert manifest["sha256"] == hashlib.sha256(chunk_path(tmp_path, 0).read_bytes()).hexdigest()
    table, problem = verify_chunk(tmp_path, 0, "digest", keys, ids)
    assert problem == "" and table.column("image_id").tolist() == ids
    results = assemble_results(tmp_path, 1, "digest", keys)
    assert results.read_bytes() == chunk_path(tmp_path, 0).read_bytes()
    assert read_results(results).image_ids == ids
    inode = results.stat().st_ino
    assert assemble_results(tmp_path, 1, "digest", keys) == results and results.stat().st_ino == inode  # unchanged


# ------------------------------------------------------------------------------------------- chunk manifests

BAD_FIELDS = [
    ("image_ids", 5, "chunk_00000.json: 'image_ids' is 5 (int), expected a list of image ids (strings)"),
    ("image_ids", ["a", 1], "chunk_00000.json: 'image_ids' is ['a', 1] (list), expected a list of image ids "
                            "(strings)"),
    ("rows", "x", "chunk_00000.json: 'rows' is 'x' (str), expected a row count (an integer >= 0)"),
    ("rows", True, "chunk_00000.json: 'rows' is True (bool), expected a row count (an integer >= 0)"),
    ("rows", -1, "chunk_00000.json: 'rows' is -1 (int), expected a row count (an integer >= 0)"),
    ("sha256", 3, "chunk_00000.json: 'sha256' is 3 (int), expected a SHA-256 hex string"),
    ("format", "a", "chunk_00000.json: 'format' is 'a' (str), expected an integer"),
    ("format", None, "chunk_00000.json: 'format' is None (NoneType), expected an integer"),
    ("chunk", 0.0, "chunk_00000.json: 'chunk' is 0.0 (float), expected a chunk index (an integer >= 0)"),
    ("row_keys", [["saliency", ""]], "chunk_00000.json: 'row_keys' is [['saliency', '']] (list), expected a list "
                                     "of [method, reading, score] string triples"),
    ("row_keys", {"a": 1}, "chunk_00000.json: 'row_keys' is {'a': 1} (dict), expected a list of [method, reading, "
                           "score] string triples"),
    ("settings", ["digest"], "chunk_00000.json: 'settings' is ['digest'] (list), expected a settings digest string"),
]


@pytest.mark.parametrize("field, value, problem", BAD_FIELDS)
def test_a_manifest_field_of_the_wrong_type_is_a_damaged_chunk(tmp_path, field, value, problem):
    import json

    from repro.results import assemble_results, chunk_path, manifest_path, verify_chunk, write_chunk

    keys = [("saliency", "", "logit")]
    write_chunk(tmp_path, 0, ["a"], keys, [_row("a", "saliency")], "digest")
    assert verify_chunk(tmp_path, 0, "digest", keys, ["a"])[1] == ""
    manifest = json.loads(manifest_path(tmp_path, 0).read_text())
    manifest[field] = value
    manifest_path(tmp_path, 0).write_text(json.dumps(manifest))
    for ids in (["a"], None):  # a run knows the chunk's images; a merge does not
        assert verify_chunk(tmp_path, 0, "digest", keys, ids) == (None, problem)
    with pytest.raises(ReproError) as info:
        assemble_results(tmp_path, 1, "digest", keys)
    assert str(info.value) == f"{chunk_path(tmp_path, 0)}: {problem}; delete it and rerun to recompute it"
