"""The decision and HTML builders on synthetic, TFMA-shaped inputs."""
from __future__ import annotations

import json

from imgpipe_components.model_report.decision import build_decision, threshold_check
from imgpipe_components.model_report.html import (build_report_html,
                                          confusion_matrix_png)
from imgpipe_components.evaluate.results import (confusion_matrix,
                                                 overall_metrics,
                                                 per_class_rows)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class FakeResult:
    """The parts of tfma.EvalResult the reader uses."""

    def __init__(self, slicing_metrics, plots=()):
        self.slicing_metrics = slicing_metrics
        self.plots = list(plots)
        self.config = None


def _metrics(**values):
    return {name: {"doubleValue": v} for name, v in values.items()}


CANDIDATE = FakeResult(
    [((), {"": {"": _metrics(sparse_categorical_accuracy=0.9,
                             example_count=20.0),
                "classId:0": _metrics(precision=1.0, recall=0.8),
                "classId:1": _metrics(precision=0.8, recall=1.0)}})],
    plots=[((), {"": {"": {"multiClassConfusionMatrixAtThresholds": {
        "matrices": [{"entries": [
            {"actualClassId": 0, "predictedClassId": 0,
             "numWeightedExamples": 8.0},
            {"actualClassId": 0, "predictedClassId": 1,
             "numWeightedExamples": 2.0},
            {"actualClassId": 1, "predictedClassId": 1,
             "numWeightedExamples": 12.0}]}]}}}})])
BASELINE = FakeResult(
    [((), {"": {"": _metrics(sparse_categorical_accuracy=0.95)}})])


def test_threshold_check_reports_value_bound_and_drop():
    passed = threshold_check("accuracy", 0.9, 0.9, 0.5, 0.0)
    assert passed["passed"] and passed["reasons"] == []
    dropped = threshold_check("accuracy", 0.9, 0.95, 0.5, 0.0)
    assert not dropped["passed"]
    assert "0.9500" in dropped["reasons"][0]
    low = threshold_check("accuracy", 0.4, None, 0.5, 0.0)
    assert low["reasons"] == ["accuracy 0.4000 < lower bound 0.5"]


def test_change_threshold_is_ignored_without_baseline():
    assert threshold_check("f1_score", 0.1, None, None, 0.0)["passed"]


def test_decision_keeps_the_evaluators_verdict_and_is_json():
    check = threshold_check("accuracy", 0.9, 0.95, 0.5, 0.0)
    decision = build_decision(False, [check], has_baseline=True)
    assert decision["blessed"] is False
    assert decision["reasons"] == check["reasons"]
    assert json.loads(json.dumps(decision)) == decision


def test_reader_extracts_overall_per_class_and_confusion_matrix():
    overall = overall_metrics(CANDIDATE, BASELINE)
    assert overall["sparse_categorical_accuracy"] == {
        "candidate": 0.9, "baseline": 0.95}
    # From the matrix, not from the binarised per-class metrics the fake
    # result also carries (and which disagree with it, as TFMA's do on an
    # unconfident model).
    assert per_class_rows(CANDIDATE, ["cat", "striped texture"]) == [
        {"class_id": 0, "class_name": "cat", "count": 10, "precision": 1.0,
         "recall": 0.8},
        {"class_id": 1, "class_name": "striped texture", "count": 12,
         "precision": 12 / 14, "recall": 1.0}]
    assert confusion_matrix(CANDIDATE) == [[8.0, 2.0], [0.0, 12.0]]


def test_report_html_is_self_contained():
    matrix = confusion_matrix(CANDIDATE)
    png = confusion_matrix_png(matrix, ["0", "1"])
    assert png.startswith(PNG_MAGIC)
    decision = build_decision(
        False, [threshold_check("sparse_categorical_accuracy", 0.9, 0.95,
                                0.5, 0.0)], has_baseline=True)
    page = build_report_html(decision, overall_metrics(CANDIDATE, BASELINE),
                             per_class_rows(CANDIDATE, ["0", "déjà vu"]),
                             png, PNG_MAGIC)
    assert "NOT BLESSED" in page
    assert page.count("data:image/png;base64,") == 2
    assert "<td>0.9500</td>" in page            # baseline value shown
    assert "<td>déjà vu</td><td>0.8571</td><td>1.0000</td><td>12</td>" in page
    assert "http" not in page                    # nothing fetched


def test_macro_metric_names_are_readable():
    from imgpipe_components.evaluate.results import metric_name
    assert metric_name("macro_average: true\n_f1_score") == "macro_f1_score"
    assert metric_name("example_count") == "example_count"


def test_eval_config_gates_macro_metrics_only_when_configured():
    from tensorflow_model_analysis.metrics import metric_specs

    from imgpipe_components.evaluate.eval_config import build_eval_config
    from imgpipe_components.evaluate.settings import EvalConfig

    def gated(config):
        eval_config = build_eval_config(config)
        return {(k.name, k.is_diff, k.aggregation_type is not None)
                for k in metric_specs.metric_thresholds_from_metrics_specs(
                    eval_config.metrics_specs, eval_config=eval_config)}

    accuracy = {("sparse_categorical_accuracy", False, False),
                ("sparse_categorical_accuracy", True, False)}
    assert gated(EvalConfig()) == accuracy
    assert gated(EvalConfig(min_macro_f1=0.8)) == accuracy | {
        ("f1_score", False, True)}


def test_failed_thresholds_read_as_sentences_with_the_numbers():
    """TFMA's validation failures (its own protos) as a person reads them."""
    from tensorflow_model_analysis.proto import validation_result_pb2 as pb

    from imgpipe_components.evaluate.results import _failure_sentence
    below = pb.ValidationFailure()
    below.metric_threshold.value_threshold.lower_bound.value = 0.9
    below.metric_value.double_value.value = 0.7419
    assert _failure_sentence("accuracy", below, 0.7419, None) == \
        "accuracy 0.7419 is below the minimum 0.9000"
    dropped = pb.ValidationFailure()
    dropped.metric_key.is_diff = True
    dropped.metric_threshold.change_threshold.absolute.value = -0.01
    dropped.metric_value.double_value.value = -0.02
    assert _failure_sentence("accuracy", dropped, 0.93, 0.95) == (
        "accuracy 0.9300 is 0.0200 below the model in service's 0.9500 "
        "(at most 0.0100 allowed)")
