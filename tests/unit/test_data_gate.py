"""The Great Expectations suite over the image metadata, and its verdict."""
from __future__ import annotations

import pandas as pd
import pytest

from imgpipe_components.data_gate import gate, metadata_table, suite
from imgpipe_components.data_gate.errors import DataValidationError
from imgpipe_components.data_gate.settings import DataGateConfig

CLASSES = ["0", "1", "2"]


def metadata(per_class: int = 10, overrides=None) -> pd.DataFrame:
    rows = [dict(image_id=f"{c}/{i}.png", label=c, label_name=str(c),
                 format="PNG", height=8, width=8, channels=1, byte_size=90,
                 content_hash=f"hash-{c}-{i}",
                 split="eval" if i % 5 == 0 else "train")
            for c in range(len(CLASSES)) for i in range(per_class)]
    frame = pd.DataFrame(rows)
    for (index, column), value in (overrides or {}).items():
        frame.loc[index, column] = value
    return frame


def failures(table, tmp_path, config=DataGateConfig()):
    findings, _ = gate.check_table(table, config, CLASSES,
                                   str(tmp_path / "docs"))
    return {(f.column, f.severity): f for f in findings if not f.success}


@pytest.fixture(scope="module")
def clean_result(tmp_path_factory):
    docs = tmp_path_factory.mktemp("docs")
    table = metadata_table.build_table([metadata()], [])
    return gate.check_table(table, DataGateConfig(), CLASSES, str(docs)), docs


def test_clean_data_passes_and_writes_data_docs(clean_result):
    (findings, excluded), docs = clean_result
    assert findings and all(f.success for f in findings)
    assert excluded == []
    assert (docs / "index.html").exists()


def test_leakage_over_the_tolerance_is_critical(tmp_path):
    table = metadata_table.build_table(
        [metadata(overrides={(1, "content_hash"): "hash-0-0"})], [])  # 0/1 train
    failed = failures(table, tmp_path)       # 1 of 30 images: over 1 %
    leak = failed[("leaked_into_eval", suite.CRITICAL)]
    assert leak.example_ids == ["0/0.png"]
    assert leak.setting == "data_gate.max_excluded_fraction"


def test_unknown_label_and_bad_format_are_reported_with_ids(tmp_path):
    table = metadata_table.build_table([metadata(overrides={
        (3, "label_name"): "cat", (4, "format"): "TIFF"})], [])
    failed = failures(table, tmp_path)
    assert failed[("label_name", suite.CRITICAL)].example_ids == ["0/3.png"]
    assert failed[("format", suite.CRITICAL)].unexpected_count == 1


def test_quarantined_files_are_a_warning_until_they_are_many(tmp_path):
    few = [{"image_id": "0/bad.png", "reason": "empty file (0 bytes)"}]
    failed = failures(metadata_table.build_table([metadata()], few), tmp_path)
    assert ("decodable", suite.WARNING) in failed
    assert ("decodable", suite.CRITICAL) not in failed
    many = [{"image_id": f"0/bad{i}.png", "reason": "empty"} for i in range(5)]
    failed = failures(metadata_table.build_table([metadata()], many), tmp_path)
    assert ("decodable", suite.CRITICAL) in failed


def test_too_small_classes_stop_the_run(tmp_path):
    table = metadata_table.build_table([metadata(per_class=1)], [])
    config = DataGateConfig(min_rows=1, min_per_class=2)
    assert ("class_count", suite.CRITICAL) in failures(table, tmp_path, config)


def test_a_failed_verdict_raises_a_message_a_person_can_act_on():
    finding = suite.Finding("expect_column_values_to_be_in_set",
                            "leaked_into_eval", suite.CRITICAL, False, 2,
                            ["a/1.png", "b/2.png"])
    verdict = gate.Verdict(images=100, quarantined=1,
                           critical_failures=[finding], warnings=[],
                           schema_anomalies=["eval/label: Out-of-range"],
                           data_docs="/r/data_docs/index.html")
    with pytest.raises(DataValidationError) as raised:
        gate.raise_if_failed(verdict, "/r")
    message = str(raised.value)
    for expected in ("leaked_into_eval", "2 image(s)", "a/1.png",
                     "TFDV anomaly eval/label", "/r/data_docs/index.html",
                     "/r/excluded.jsonl"):
        assert expected in message
