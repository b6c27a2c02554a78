"""The TFMA-native accuracy gives Keras' SparseCategoricalAccuracy."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types

from imgpipe_components.evaluate.accuracy_metric import SparseCategoricalAccuracy
from imgpipe_components.evaluate.names import ACCURACY


def _inputs(label, prediction, weight=1.0):
    return metric_types.StandardMetricInputs(
        labels=np.array([label]), predictions=np.array(prediction),
        example_weights=np.array([weight]))


def test_matches_keras_on_the_same_predictions():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    predictions = rng.dirichlet(np.ones(10), 200)
    combiner = SparseCategoricalAccuracy().computations(
        eval_config=tfma.EvalConfig(model_specs=[tfma.ModelSpec()]))[0].combiner
    halves = []
    for part in (slice(0, 120), slice(120, 200)):   # merged like Beam does
        accumulator = combiner.create_accumulator()
        for label, prediction in zip(labels[part], predictions[part]):
            accumulator = combiner.add_input(accumulator,
                                             _inputs(label, prediction))
        halves.append(accumulator)
    (key, value), = combiner.extract_output(
        combiner.merge_accumulators(halves)).items()

    keras = tf.keras.metrics.SparseCategoricalAccuracy()
    keras.update_state(labels, predictions)
    assert key.name == ACCURACY
    assert value == np.mean(predictions.argmax(1) == labels)
    assert value == pytest.approx(float(keras.result().numpy()))


def test_empty_input_is_nan_not_a_crash():
    combiner = SparseCategoricalAccuracy().computations(
        eval_config=tfma.EvalConfig(model_specs=[tfma.ModelSpec()]))[0].combiner
    (value,) = combiner.extract_output(combiner.create_accumulator()).values()
    assert np.isnan(value)
