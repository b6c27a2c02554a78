"""Per-class precision and recall agree with the confusion matrix beside
them, on a real TFMA evaluation of an unconfident model.

TFMA evaluates stored predictions here (a model-free ModelSpec with a
`prediction_key`), so no model is trained: 17 images of class 0 whose
arg-max is right 7 times, with probabilities that never reach 0.5.
"""
from __future__ import annotations

import numpy as np
import pytest

CLASSES = ["circle", "striped texture", "0.5", "déjà vu"]


def unconfident_predictions(rng):
    labels = np.array([0] * 17 + [1] * 9 + [2] * 8 + [3] * 6)
    probabilities = []
    for index, label in enumerate(labels):
        # Class 0: right for its first 7 images, at most 0.4 each time.
        if label == 0:
            winner = 0 if index < 7 else 1 + index % 3
        else:
            winner = label if rng.random() < 0.8 else (label + 1) % 4
        row = np.full(4, 0.6 / 3)
        row[winner] = 0.4
        probabilities.append(row)
    return labels, np.array(probabilities)


def write_examples(path, labels, probabilities):
    import tensorflow as tf
    with tf.io.TFRecordWriter(str(path)) as writer:
        for label, row in zip(labels, probabilities):
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "label": tf.train.Feature(int64_list=tf.train.Int64List(
                    value=[int(label)])),
                "probabilities": tf.train.Feature(float_list=tf.train.FloatList(
                    value=row.tolist()))})).SerializeToString())


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    import tensorflow_model_analysis as tfma

    folder = tmp_path_factory.mktemp("tfma")
    labels, probabilities = unconfident_predictions(np.random.default_rng(3))
    write_examples(folder / "examples.tfrecord", labels, probabilities)
    config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="label",
                                    prediction_key="probabilities")],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(metrics=[tfma.MetricConfig(
                class_name="MultiClassConfusionMatrixPlot")]),
            # TFMA's binarised per-class recall, which thresholds each
            # class's probability at 0.5: what the report no longer shows.
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="Recall")],
                binarize=tfma.BinarizationOptions(
                    class_ids={"values": [0, 1, 2, 3]}))])
    result = tfma.run_model_analysis(
        eval_config=config, data_location=str(folder / "examples.tfrecord"),
        output_path=str(folder / "evaluation"))
    return labels, probabilities, result, str(folder / "evaluation")


def test_per_class_rows_match_the_arg_max_confusion_matrix(evaluated):
    from imgpipe_components.evaluate.results import (confusion_matrix,
                                                     per_class_rows)
    labels, probabilities, result, _ = evaluated
    predicted = probabilities.argmax(axis=1)
    rows = per_class_rows(result, CLASSES)
    matrix = confusion_matrix(result)
    assert [row["class_name"] for row in rows] == CLASSES
    for class_id, row in enumerate(rows):
        truth = labels == class_id
        assert row["count"] == truth.sum() == sum(matrix[class_id])
        assert row["recall"] == pytest.approx(
            (predicted[truth] == class_id).mean())
        assert row["precision"] == pytest.approx(
            (labels[predicted == class_id] == class_id).mean())
    assert rows[0]["recall"] == pytest.approx(7 / 17)
    assert matrix[0][0] == 7


def test_binarised_recall_would_contradict_the_matrix(evaluated):
    """Why the rows come from the matrix: the binarised recall of class 0
    is 0 here (no probability reaches 0.5) while 7 of its 17 are right."""
    from imgpipe_components.evaluate.results import flat_metrics
    _, _, result, _ = evaluated
    binarised = flat_metrics(result).get("classId:0", {}).get("recall")
    assert binarised is not None and binarised < 7 / 17


def test_kfp_metrics_name_classes_and_use_the_matrix(evaluated):
    from imgpipe_components.evaluate.results import evaluation_metrics
    _, _, _, uri = evaluated
    scalars = evaluation_metrics(uri, CLASSES, model_name="")
    assert scalars["recall[circle]"] == pytest.approx(7 / 17, abs=1e-6)
    assert "recall[striped texture]" in scalars
    assert "precision[déjà vu]" in scalars
