"""What the pusher adds to a version's `assets.extra/` before it goes live.

- `evaluation.json`: the candidate's evaluation (accuracy, example count,
  the baseline it was compared with), which promotion compares against the
  stable version's.
- `tf_serving_warmup_requests`: TF Serving's SavedModel warm-up format, a
  TFRecord of PredictionLog each holding a PredictRequest. TF Serving (and
  our server) replays them before a version takes traffic.

- `model_report/`: the ModelReport's folder as it is (report.html,
  decision.json and any image files the page links to, relative links
  intact), so the version carries the page that explains why it was
  blessed.

TF Serving ignores everything else under assets.extra, so all of it travels
with the model at no cost to serving.
"""
from __future__ import annotations

import json
import os
from typing import Optional

import tensorflow as tf

from imgpipe_components.model_store.policy import EVALUATION_FILE as _EVALUATION_PATH

EVALUATION_FILE = _EVALUATION_PATH.as_posix()   # the model store's record

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
REPORT_DIR = "assets.extra/model_report"
WARMUP_BATCH_SIZES = (1, 32)   # kernels for the common batch shapes


def evaluation_record(evaluation_uri: Optional[str], model_uri: str) -> dict:
    """What promotion needs to compare versions; `accuracy` is None (with a
    note) when the evaluation cannot be read."""
    from imgpipe_components.evaluate.names import ACCURACY
    from imgpipe_components.evaluate.results import overall_figures

    record = {"metric": ACCURACY, "accuracy": None, "example_count": None,
              "baseline_accuracy": None, "model_uri": model_uri,
              "evaluation_uri": evaluation_uri}
    if not evaluation_uri:
        record["note"] = "the Pusher was given no evaluation"
        return record
    record.update(overall_figures(evaluation_uri))
    if record["accuracy"] is None:
        record["note"] = f"no candidate accuracy in {evaluation_uri}"
    return record


def write_evaluation(version_dir: str, record: dict) -> None:
    path = os.path.join(version_dir, EVALUATION_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(record, indent=2) + "\n")


def warmup_log(model_name: str, batch_size: int):
    """One PredictionLog: `batch_size` blank PNGs to `serving_default`. A
    valid image of any size exercises the whole graph (decode, resize,
    the CNN); the content does not matter for warming up."""
    from tensorflow_serving.apis import (model_pb2, predict_pb2,
                                         prediction_log_pb2)

    png = tf.io.encode_png(tf.zeros([8, 8, 1], tf.uint8)).numpy()
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name,
                                       signature_name="serving_default"))
    request.inputs["image_bytes"].CopyFrom(
        tf.make_tensor_proto([png] * batch_size, dtype=tf.string))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))


def write_warmup_requests(version_dir: str, model_name: str) -> None:
    path = os.path.join(version_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for batch_size in WARMUP_BATCH_SIZES:
            writer.write(warmup_log(model_name, batch_size).SerializeToString())


def copy_report(version_dir: str, report_uri: Optional[str]) -> bool:
    """The model report's files into assets.extra/model_report/; False (and
    nothing written) when there is no report folder."""
    from tfx.utils import io_utils

    if not report_uri or not tf.io.gfile.isdir(report_uri):
        return False
    io_utils.copy_dir(report_uri, os.path.join(version_dir, REPORT_DIR))
    return True
