"""Spans: the latest is ingested, the one before is the drift reference.

Both ways the span is resolved are exercised: TFX's ExampleGen driver (local
runs) and the executor alone (Kubeflow, where the driver is skipped). The
drift check runs through the real DataGate component on the result.
"""
from __future__ import annotations

import dataclasses
import json

from pathlib import Path

import pytest

from imgpipe_components.data_gate.errors import DataValidationError
from imgpipe_components.data_gate.settings import DataGateConfig
from imgpipe_components.image_example_gen.settings import IngestConfig
from tests.ingest import builders
from tests.ingest.harness import run_example_gen

SPANS = IngestConfig(span_pattern="span-{SPAN}")
BALANCED = {"a": 12, "b": 12, "c": 12}


@pytest.fixture(scope="module")
def span_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("spans") / "data"
    builders.class_tree(root / "span-1", BALANCED, seed=1)
    builders.class_tree(root / "span-2", BALANCED, seed=2)
    # The latest span: one class dominates and the images grew.
    builders.class_tree(root / "span-3", {"a": 30, "b": 4, "c": 4}, seed=3,
                        size=(16, 16))
    (root / "span-x").mkdir()           # not a span: ignored
    return root


@pytest.fixture(scope="module")
def without_driver(span_root, tmp_path_factory):
    return run_example_gen(span_root, tmp_path_factory.mktemp("kfp"), SPANS)


def test_the_driver_and_the_executor_pick_the_same_latest_span(
        span_root, without_driver, tmp_path):
    with_driver = run_example_gen(span_root, tmp_path, SPANS, driver=True)
    for result in (with_driver, without_driver):
        assert result.artifact.span == 3
        assert result.artifact.get_int_custom_property("reference_span") == 2
        assert len(result.rows) == 38 and set(result.rows.height) == {16}
    assert sorted(with_driver.rows.image_id) == \
        sorted(without_driver.rows.image_id)


def test_the_previous_span_is_written_as_the_reference(without_driver):
    from imgpipe_components.image_example_gen.executor import read_reference
    reference = read_reference(without_driver.uri)
    assert len(reference) == 36
    assert {(r["height"], r["width"]) for r in reference} == {(8, 8)}
    assert "image_raw" not in reference[0]   # metadata only


def _run_data_gate(examples, report_dir, config: DataGateConfig):
    """The DataGate component's own executor on real artifacts."""
    from tfx.types import standard_artifacts

    from imgpipe_components.data_gate.component import DataGate
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(report_dir / "no_anomalies")
    report = standard_artifacts.ExampleValidationMetrics()
    # As TFX names an output folder: <root>/<step>/<output>/<execution id>.
    report.uri = str(report_dir / "run" / "report" / "7")
    (report_dir / "run" / "report" / "7").mkdir(parents=True)
    DataGate.EXECUTOR_SPEC.executor_class().Do(
        {"examples": [examples], "anomalies": [anomalies]},
        {"report": [report]},
        {"gate_config": json.dumps(dataclasses.asdict(config))})
    return report


def test_drift_from_the_previous_span_stops_the_run_with_the_report(
        without_driver, tmp_path):
    with pytest.raises(DataValidationError) as stopped:
        _run_data_gate(without_driver.artifact, tmp_path, DataGateConfig(
            min_rows=10, max_class_imbalance=100))
    message = str(stopped.value)
    assert "expect_column_max_to_be_between on 'label_drift': observed" in message
    assert "expect_column_max_to_be_between on 'size_drift': observed 1" in message
    # A stopping gate writes its report beside its artifact, which the
    # launcher removes on failure (data_gate/report_location.py).
    from imgpipe_components.data_gate.report_location import report_folder
    report_dir = Path(report_folder(str(tmp_path / "run" / "report" / "7"),
                                    passed=False))
    docs = report_dir / "data_docs" / "index.html"
    assert docs.exists() and str(docs) in message
    verdict = json.loads((report_dir / "report.json").read_text())
    assert verdict["drift"]["size_drift"] == pytest.approx(1.0)   # all new
    assert 0.1 < verdict["drift"]["label_drift"] < 1.0
    pages = "".join(p.read_text() for p in (report_dir / "data_docs")
                    .rglob("*.html"))
    assert "label_drift" in pages and "size_drift" in pages


def test_a_span_like_the_previous_one_passes_the_drift_checks(tmp_path):
    from imgpipe_components.data_gate import gate
    root = tmp_path / "data"
    builders.class_tree(root / "span-1", BALANCED, seed=1)
    builders.class_tree(root / "span-2", {"a": 13, "b": 12, "c": 11}, seed=2)
    result = run_example_gen(root, tmp_path / "examples", SPANS)
    verdict = gate.run_gate(result.uri, str(tmp_path / "none"),
                            DataGateConfig(min_rows=10), str(tmp_path / "docs"))
    assert verdict.passed, verdict.critical_failures
    assert verdict.drift["size_drift"] == 0.0
    assert verdict.drift["label_drift"] < 0.01


def test_no_span_folder_is_a_clear_error(tmp_path):
    root = builders.class_tree(tmp_path / "data", {"a": 2, "b": 2})
    with pytest.raises(ValueError, match="No folder under the data root "
                                         "matches the span pattern"):
        run_example_gen(root, tmp_path / "examples", SPANS)
