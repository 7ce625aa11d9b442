"""Everything a run writes about its results, each format with one reader and one writer.

* :mod:`repro.results.table`: ``results.csv`` (schema, rows from criteria results, read/write, typed view);
* :mod:`repro.results.chunks`: the per-chunk files of a run, their manifests and verification, and their assembly
  into ``results.csv``;
* :mod:`repro.results.examples`: ``examples/<image_id>.npz``, the maps and curves the figures draw;
* :mod:`repro.results.views`: one reading's one-row-per-(image, method) view of the table.
"""

from repro.results.chunks import (
    assemble_results, chunk_image_ids, chunk_path, count_chunks, manifest_path, verify_chunk, write_chunk,
)
from repro.results.examples import CURVE_NAMES, Example, example_path, example_paths, load_example, write_example
from repro.results.table import (
    ESTIMATE_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, RESULT_COLUMNS, STRING_COLUMNS, ResultsTable, concat_tables,
    estimate_columns, has_estimates, read_results, result_row, results_text, rows_from_results, write_results,
)
from repro.results.views import (
    available_readings, read_view, reading_tag, reading_view, reading_views, run_reading,
)

__all__ = [
    "CURVE_NAMES", "ESTIMATE_COLUMNS", "Example", "FLOAT_COLUMNS", "INT_COLUMNS", "RESULT_COLUMNS",
    "STRING_COLUMNS", "ResultsTable", "assemble_results", "chunk_image_ids", "chunk_path", "concat_tables",
    "count_chunks", "estimate_columns", "example_path", "example_paths", "has_estimates", "load_example",
    "manifest_path", "read_results", "reading_tag", "reading_view", "result_row", "results_text",
    "rows_from_results", "available_readings", "read_view", "reading_views", "run_reading", "write_chunk",
    "verify_chunk", "write_example", "write_results",
]
