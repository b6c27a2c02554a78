"""What the KFP UI gets: Markdown, HTML, scalar metrics, a confusion matrix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kubeflow.executor_input import (artifact, executor_input,
                                           output_types, run_task)

CLASSES = ["cat", "dog", "eel"]
# actual class -> predicted class -> count
MATRIX = [[8, 1, 1], [0, 9, 1], [2, 0, 8]]

PASSED = {"images": 30, "quarantined": 1, "critical_failures": [],
          "warnings": [{"expectation": "expect_column_values_to_be_between",
                        "column": "width", "severity": "warning",
                        "success": False, "unexpected_count": 2,
                        "example_ids": ["cat/7.png", "dog/<b>.png"]}],
          "schema_anomalies": [],
          "data_docs": "gs://r/DataGate/data_docs/index.html",
          "excluded": [{"image_id": "cat/1.png", "class": "cat",
                        "reason": "height 1 px outside 8..4096",
                        "check": "height"}]}


HISTORY = {"accuracy": [0.5, 0.9], "val_accuracy": [0.6, 0.95],
           "loss": [1.2, 0.3]}
PNG = b"\x89PNG\r\n\x1a\n fake"


def test_training_page_is_one_page_with_curves_epochs_and_tensorboard():
    from imgpipe_components.ui_report.pages import training_html
    page = training_html(HISTORY, PNG, "gs://b/Trainer/model_run/7/<tb>")
    assert page.startswith("<!DOCTYPE html>") and "<link" not in page
    assert "src='data:image/png;base64," in page
    assert "<td>2</td><td>0.9</td><td>0.3</td><td>0.95</td>" in page
    assert "gs://b/Trainer/model_run/7/&lt;tb&gt;" in page
    assert "No training_curves.png" in training_html(HISTORY, None, "x")


def test_an_ensembles_member_notes_are_not_epoch_columns():
    from imgpipe_components.ui_report.pages import training_html
    history = {**HISTORY, "ensemble_eval_accuracy": 0.97, "members": [
        {"name": "member_0", "eval_accuracy": 0.95, "history": HISTORY}]}
    page = training_html(history, PNG, "x")
    assert "<td>2</td><td>0.9</td><td>0.3</td><td>0.95</td></tr>" in page
    assert "members" not in page


def _slice_key(label=None):
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as pb
    key = pb.SliceKey()
    if label is not None:
        key.single_slice_keys.add(column="label", int64_value=label)
    return key


def _add_metric(record, name, model, value, class_id=None, macro=False,
                diff=False):
    entry = record.metric_keys_and_values.add()
    entry.key.name, entry.key.model_name, entry.key.is_diff = name, model, diff
    if class_id is not None:
        entry.key.sub_key.class_id.value = class_id
    if macro:
        entry.key.aggregation_type.macro_average = True
    entry.value.double_value.value = value


def write_tfma_output(folder: Path) -> Path:
    """TFMA's on-disk format (tfrecords of its protos), read back by TFMA's
    own loaders in the code under test: the overall slice with accuracy,
    its diff to the baseline, a macro F1, a binarised per-class recall
    (which the reader ignores: per-class numbers come from the confusion
    matrix) and a slice by label, which is not read."""
    import tensorflow as tf
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as pb

    folder.mkdir(parents=True)
    overall = pb.MetricsForSlice(slice_key=_slice_key())
    for model, accuracy in [("candidate", 0.8333), ("baseline", 0.5)]:
        _add_metric(overall, "accuracy", model, accuracy)
        _add_metric(overall, "f1_score", model, accuracy - 0.1, macro=True)
        _add_metric(overall, "recall", model, 0.2, class_id=0)
    _add_metric(overall, "accuracy", "candidate", 0.3333, diff=True)
    by_label = pb.MetricsForSlice(slice_key=_slice_key(0))
    _add_metric(by_label, "accuracy", "candidate", 0.8)
    metrics = [overall, by_label]
    plots = pb.PlotsForSlice(slice_key=_slice_key())
    entry = plots.plot_keys_and_values.add()
    entry.key.model_name = "candidate"
    matrix = entry.value.multi_class_confusion_matrix_at_thresholds.matrices.add()
    for actual, row in enumerate(MATRIX):
        for predicted, count in enumerate(row):
            matrix.entries.add(actual_class_id=actual,
                               predicted_class_id=predicted,
                               num_weighted_examples=count)
    for name, records in (("metrics", metrics), ("plots", [plots])):
        with tf.io.TFRecordWriter(
                str(folder / f"{name}-00000-of-00001.tfrecord")) as writer:
            for record in records:
                writer.write(record.SerializeToString())
    return folder


def test_gate_markdown_lists_findings_and_where_the_data_docs_are():
    from imgpipe_components.ui_report.component import gate_markdown
    text = gate_markdown(PASSED)
    assert text.startswith("### Data gate: passed")
    assert "1 quarantined at ingestion, 1 excluded by the gate" in text
    assert "| expect_column_values_to_be_between | width | warning | 2 |" in text
    assert PASSED["data_docs"] in text


def test_gate_html_is_one_escaped_page():
    from imgpipe_components.ui_report.component import gate_html
    failed = {**PASSED, "schema_anomalies": ["train/label: <unexpected>"]}
    page = gate_html(failed)
    assert page.startswith("<!DOCTYPE html>") and "<link" not in page
    assert "dog/&lt;b&gt;.png" in page and "&lt;unexpected&gt;" in page


def test_candidate_metrics_overall_and_per_class(tmp_path):
    from imgpipe_components.evaluate.results import evaluation_metrics
    metrics = evaluation_metrics(str(write_tfma_output(tmp_path / "eval")),
                                 CLASSES)
    # MATRIX: cat 8/10 right and 8 of the 10 predicted cats are cats...
    assert metrics == {"accuracy": 0.8333, "macro_f1_score": 0.7333,
                       "precision[cat]": 0.8, "recall[cat]": 0.8,
                       "precision[dog]": 0.9, "recall[dog]": 0.9,
                       "precision[eel]": 0.8, "recall[eel]": 0.8}


def test_confusion_matrix_in_kfp_classification_metrics_layout(tmp_path):
    from imgpipe_components.evaluate.results import kfp_confusion_matrix as confusion_matrix
    result = confusion_matrix(str(write_tfma_output(tmp_path / "eval")),
                              CLASSES)["confusionMatrix"]
    assert [spec["displayName"] for spec in result["annotationSpecs"]] == CLASSES
    assert [row["row"] for row in result["rows"]] == MATRIX


@pytest.fixture()
def report_inputs(tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "report.json").write_text(json.dumps(PASSED))
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "labels.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    report = tmp_path / "model_report"
    report.mkdir()
    (report / "report.html").write_text("<!DOCTYPE html><h1>Model report</h1>")
    run = tmp_path / "model_run"
    (run / "tensorboard").mkdir(parents=True)
    (run / "history.json").write_text(json.dumps(HISTORY))
    (run / "training_curves.png").write_bytes(PNG)
    return {"data_gate_report": artifact(gate),
            "examples": artifact(examples),
            "model_report": artifact(report), "model_run": artifact(run),
            "evaluation": artifact(write_tfma_output(tmp_path / "eval")),
            "blessing": artifact(tmp_path / "blessing",
                                 metadata={"blessed": 1})}


def test_report_component_writes_what_the_ui_renders(compiled, tmp_path,
                                                     report_inputs):
    titles = output_types(compiled, "KfpUiReport")
    assert titles == {"summary": "system.Markdown", "data_gate": "system.HTML",
                      "metrics": "system.Metrics",
                      "confusion": "system.ClassificationMetrics",
                      "report": "system.HTML", "training": "system.HTML"}
    outputs = {name: artifact(tmp_path / "out" / name, title)
               for name, title in titles.items()}
    (tmp_path / "out").mkdir()

    result = run_task(compiled, "KfpUiReport", executor_input(
        report_inputs, outputs, {}, tmp_path / "executor_output.json"))

    summary = (tmp_path / "out" / "summary").read_text()
    assert "### Data gate: passed" in summary and "BLESSED" in summary
    logdir = str(tmp_path / "model_run" / "tensorboard")
    assert f"tensorboard --logdir {logdir}" in summary
    assert (tmp_path / "out" / "report").read_text() == \
        "<!DOCTYPE html><h1>Model report</h1>"
    training = (tmp_path / "out" / "training").read_text()
    assert "data:image/png;base64," in training and logdir in training
    assert "<table>" in (tmp_path / "out" / "data_gate").read_text()
    written = {name: value["artifacts"][0]["metadata"]
               for name, value in result["artifacts"].items()}
    assert written["metrics"]["accuracy"] == 0.8333
    assert written["metrics"]["blessed"] == 1.0
    assert [row["row"] for row in
            written["confusion"]["confusionMatrix"]["rows"]] == MATRIX
