"""What the pusher leaves for serving and promotion, from the real run:
the evaluation record, TF Serving warm-up requests, models.config and the
history entry of the first push."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from imgpipe_components.model_store import show_history
from imgpipe_components.model_store.models_config import find_model, labels_of, read_config
from imgpipe_components.push import extras
from imgpipe.serving.loader import WARMUP_FILE, recorded_warmup


def test_the_pushed_version_records_its_evaluation(pipeline_run):
    record = json.loads((pipeline_run.serving_dir / "1" /
                         extras.EVALUATION_FILE).read_text())
    assert record["metric"] == "sparse_categorical_accuracy"
    assert record["accuracy"] == pytest.approx(pipeline_run.first.accuracy)
    assert record["example_count"] == pipeline_run.first.eval_examples
    assert record["evaluation_uri"] == pipeline_run.first.evaluation_uri
    assert record["model_uri"].endswith(tuple("0123456789"))


def test_warmup_requests_are_tf_serving_records_the_model_answers(pipeline_run):
    import tensorflow as tf
    version_dir = pipeline_run.serving_dir / "1"
    requests = list(recorded_warmup(version_dir / WARMUP_FILE))
    assert [(signature, arrays["image_bytes"].shape)
            for signature, arrays in requests] == [
        ("serving_default", (1,)), ("serving_default", (32,))]
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    for _, arrays in requests:
        outputs = serve(image_bytes=tf.constant(arrays["image_bytes"]))
        assert outputs["probabilities"].shape == (len(arrays["image_bytes"]), 10)


def test_the_first_push_is_stable_and_canary_and_recorded_once(pipeline_run):
    serving_dir = pipeline_run.serving_dir
    entry = find_model(read_config(serving_dir.parent / "models.config"),
                       pipeline_run.config.model_name)
    assert entry.base_path == str(serving_dir)
    assert labels_of(entry) == {"stable": 1, "canary": 1}
    assert list(entry.model_version_policy.specific.versions) == [1]
    # The second run re-blessed the same model: no push, no new record.
    changes = show_history(serving_dir)
    assert [(c.action, c.label, c.from_version, c.to_version)
            for c in changes] == [("push", "stable", None, 1),
                                  ("push", "canary", None, 1)]


def test_a_missing_or_unreadable_evaluation_says_so(tmp_path):
    record = extras.evaluation_record(None, "model-uri")
    assert record["accuracy"] is None and "no evaluation" in record["note"]
    empty = tmp_path / "kfp-run-7" / "Evaluator" / "evaluation"
    empty.mkdir(parents=True)
    record = extras.evaluation_record(str(empty), "model-uri")
    assert record["accuracy"] is None and str(empty) in record["note"]


def test_the_record_reads_the_evaluation_it_is_given(pipeline_run):
    """Whatever the launcher's layout: the record comes from the Evaluator
    output passed as an input, not from a path next to the blessing."""
    record = json.loads((pipeline_run.serving_dir / "1" /
                         extras.EVALUATION_FILE).read_text())
    assert record["accuracy"] is not None and record["accuracy"] >= 0.9
    assert record["example_count"] > 0
    assert "/Evaluator/evaluation/" in record["evaluation_uri"]


def test_the_pusher_labels_local_pushes_and_survives_a_broken_config(
        tmp_path, caplog):
    from imgpipe_components.model_store import current_labels
    from imgpipe_components.push import executor
    base = tmp_path / "serving" / "digits"
    base.mkdir(parents=True)
    executor._register_as_canary(str(base), 1)
    assert current_labels(base) == {"stable": 1, "canary": 1}
    executor._register_as_canary("s3://bucket/serving/digits", 2)  # no-op
    (base.parent / "models.config").write_text("model_config_list {")
    executor._register_as_canary(str(base), 2)      # logs, does not raise
    assert "not labelled canary" in caplog.text


def test_the_pushed_version_carries_the_runs_model_report(pipeline_run):
    """ModelReport runs before the Pusher, whose input it is: the version
    holds the same report.html and decision.json as the report artifact."""
    report = pipeline_run.serving_dir / "1" / extras.REPORT_DIR
    artifact = pipeline_run.first.report_uri
    assert artifact, "the run recorded no ModelReport output"
    for name in ("report.html", "decision.json"):
        assert (report / name).read_bytes() == \
            (Path(artifact) / name).read_bytes()
    assert json.loads((report / "decision.json").read_text())["blessed"]
    page = (report / "report.html").read_text()
    for link in re.findall(r'src="([^":]+)"', page):    # relative files
        assert (report / link).is_file(), link
