"""The run summary's data lines: quarantine reasons grouped by kind,
exclusions by reason, warnings one a line, and where the lists are."""
from __future__ import annotations

import io

import pytest

from imgpipe.runners.local.data_summary import DataSummary, quarantine_kind


@pytest.mark.parametrize("reason,kind", [
    ("not an image file extension (expected one of ['.png'])",
     "not an image file extension"),
    ("not directly inside a class folder (<class>/<image>)",
     "not directly inside a class folder"),
    ("not a decodable image: image file is truncated (60 bytes not "
     "processed)", "not a decodable image"),
    ("5000x5000 = 25000000 pixels exceeds max_pixels=1000000 (possible "
     "decompression bomb)", "NxN = N pixels exceeds max_pixels=N"),
    ("'../x.png': escapes the manifest's folder (absolute, a URI, or "
     "climbing out with '..')", "escapes the manifest's folder"),
    ("label 0 ('b') does not match the vocabulary (a, b)",
     "label N does not match the vocabulary"),
    ("empty file (0 bytes)", "empty file"),
])
def test_quarantine_reasons_group_by_kind(reason, kind):
    assert quarantine_kind(reason) == kind


def test_the_console_lines_name_counts_reasons_and_paths():
    from rich.console import Console

    from imgpipe.cli.data_report import print_data_summary
    data = DataSummary(
        ingested=100, quarantined={"not an image file extension": 12,
                                   "not directly inside a class folder": 3},
        excluded={"label conflict": 2, "size out of bounds": 1},
        warnings=["expect_column_values_to_be_in_set on 'decodable': "
                  "15 image(s); e.g. a/[x].txt"],
        quarantine_list="/o/ExampleGen/quarantine.jsonl",
        excluded_list="/o/DataGate/excluded.jsonl",
        gate_report="/o/DataGate/report.json",
        data_docs="/o/DataGate/data_docs/index.html")
    console = Console(file=io.StringIO(), width=300)
    print_data_summary(console, data)
    lines = console.file.getvalue().splitlines()
    assert lines == [
        "Data: 115 files read, 100 ingested, 15 quarantined at ingestion (12 "
        "not an image file extension, 3 not directly inside a class folder).",
        "  Quarantine list: /o/ExampleGen/quarantine.jsonl",
        "Data gate: 3 image(s) excluded (2 label conflict, 1 size out of "
        "bounds); 97 used for training and evaluation.",
        "  Excluded list: /o/DataGate/excluded.jsonl",
        "  Gate report: /o/DataGate/report.json (Data Docs: "
        "/o/DataGate/data_docs/index.html)",
        "  Gate warning: expect_column_values_to_be_in_set on 'decodable': "
        "15 image(s); e.g. a/[x].txt"]
