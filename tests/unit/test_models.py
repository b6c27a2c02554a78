"""Architectures build, train a step, and keep float32 outputs."""
from __future__ import annotations

import numpy as np
import pytest

from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.train import datasets, models


@pytest.fixture(autouse=True, scope="module")
def fast_keras_tracing():
    skip_tf_keras_in_autograph()


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_each_architecture_builds_and_fits_one_step(name):
    import tensorflow as tf
    model = models.build(name, (32, 32, 1), 3, dropout=0.2, l2=1e-4,
                         transfer_base="MobileNetV2", transfer_weights="")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 32, 32, 1), dtype=np.float32)
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (4, 3)
    assert model.output.dtype == tf.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of"):
        models.build("vgg99", (8, 8, 1), 2)


def test_transfer_weights_load_from_a_file(tmp_path):
    base = models.build("transfer", (32, 32, 3), 2).get_layer(index=2)
    path = str(tmp_path / "base.h5")
    base.save_weights(path)
    rebuilt = models.build("transfer", (32, 32, 3), 2, transfer_weights=path)
    loaded = rebuilt.get_layer(base.name).get_weights()
    for a, b in zip(base.get_weights(), loaded):
        np.testing.assert_array_equal(a, b)


def test_inverse_frequency_weights_balance_the_classes():
    weights = datasets.inverse_frequency_weights(np.array([30, 10, 0]))
    assert weights[1] == pytest.approx(3 * weights[0])
    assert weights[2] == 0.0
    assert 30 * weights[0] == pytest.approx(10 * weights[1])
