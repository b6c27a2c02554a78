"""Trainer pieces on real tf.data and a real model, bounded to seconds:
streaming with a disk cache, the hash holdout, the time budget and early
stopping on the holdout."""
from __future__ import annotations

import numpy as np
import pytest

from imgpipe.modules.train.autograph_rules import skip_tf_keras
from imgpipe.modules.train.settings import TrainConfig
from imgpipe.settings_codec import SettingsError

SIDE = 8


@pytest.fixture(scope="module")
def tf():
    import tensorflow
    skip_tf_keras()
    return tensorflow


class SpecOnly:
    """What datasets.load reads of a TFTransformOutput: the feature spec
    of Transform's output (float image, int64 label, int64 image group)."""

    def __init__(self, tf):
        self._spec = {"image": tf.io.FixedLenFeature([SIDE, SIDE, 1],
                                                     tf.float32),
                      "label": tf.io.FixedLenFeature([], tf.int64),
                      "image_group": tf.io.FixedLenFeature([], tf.int64)}

    def transformed_feature_spec(self):
        return self._spec


@pytest.fixture(scope="module")
def records(tf, tmp_path_factory):
    """300 examples in 100 groups of 3 (an original and two augmented
    copies, the label encoding the group), two classes (bright / dark),
    spread over two GZIP shards like Transform's."""
    folder = tmp_path_factory.mktemp("transformed")
    rng = np.random.default_rng(0)
    for shard in range(2):
        path = str(folder / f"part-{shard}.gz")
        options = tf.io.TFRecordOptions(compression_type="GZIP")
        with tf.io.TFRecordWriter(path, options) as writer:
            for index in range(150):
                group = int(rng.integers(0, 2**62)) if index % 3 == 0 else group
                label = group % 2
                image = rng.random(SIDE * SIDE) * 0.3 + 0.6 * label

                def int64(value):
                    return tf.train.Feature(int64_list=tf.train.Int64List(
                        value=[value]))
                writer.write(tf.train.Example(features=tf.train.Features(
                    feature={"image": tf.train.Feature(
                        float_list=tf.train.FloatList(value=image)),
                        "label": int64(label),
                        "image_group": int64(group)})).SerializeToString())
    return [str(folder / "part-*")]


def _labels(dataset):
    return [int(label) for _, label in dataset]


def test_disk_cache_streams_the_same_examples(tf, records, tmp_path):
    from imgpipe.modules.train import datasets
    cached = datasets.load(records, SpecOnly(tf), str(tmp_path / "train"))
    first, second = _labels(cached), _labels(cached)
    assert len(first) == 300 and first == second
    assert any(path.name.startswith("train") for path in tmp_path.iterdir())


def test_holdout_is_deterministic_disjoint_and_about_its_fraction(tf, records):
    from imgpipe.modules.train import datasets

    def count(keep):
        return len(_labels(datasets.load(records, SpecOnly(tf), keep=keep)))
    held = count(lambda r: datasets.in_holdout(r, 0.2))
    kept = count(lambda r: tf.logical_not(datasets.in_holdout(r, 0.2)))
    assert held + kept == 300
    assert 30 <= held <= 90
    assert held % 3 == 0          # whole groups: copies follow their original
    assert held == count(lambda r: datasets.in_holdout(r, 0.2))


def test_holdout_keeps_each_image_group_on_one_side(tf, records):
    from imgpipe.modules.train import datasets
    spec = SpecOnly(tf).transformed_feature_spec()
    sides = {}
    for serialized in datasets.records(records):
        features = tf.io.parse_single_example(serialized, spec)
        group = int(features["image_group"])
        sides.setdefault(group, set()).add(
            bool(datasets.in_holdout(features, 0.2)))
    assert len(sides) == 100
    assert all(len(side) == 1 for side in sides.values())
    assert 5 <= sum(True in side for side in sides.values()) <= 35


def test_shuffle_buffer_is_bounded_in_bytes():
    from imgpipe.modules.train import datasets
    assert datasets.shuffle_buffer((28, 28, 1)) == datasets.SHUFFLE_BUFFER
    assert datasets.shuffle_buffer((224, 224, 3)) * 224 * 224 * 3 * 4 <= \
        datasets.SHUFFLE_BUFFER_BYTES


def _model(tf):
    from imgpipe.modules.train import models
    model = models.build("small_cnn", (SIDE, SIDE, 1), 2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_time_budget_stops_within_the_first_epoch(tf, records):
    from imgpipe.modules.train import callbacks, datasets
    train = datasets.batches(datasets.load(records, SpecOnly(tf)), 16,
                             training=True, seed=1)
    budget = callbacks.TimeBudget(1e-6)
    history = _model(tf).fit(train, epochs=50, verbose=0,
                             callbacks=[callbacks.ImagesPerSecond(300),
                                        budget])
    assert len(history.history["loss"]) == 1
    assert budget.summary() == {"time_budget_s": 1e-6,
                                "stopped_by_time_budget": True,
                                "stopped_in_epoch": 1}
    assert history.history["elapsed_seconds"][0] > 0


def test_time_budget_follows_its_clock():
    from imgpipe.modules.train.callbacks import TimeBudget
    now = [0.0]

    class Model:
        stop_training = False
    budget = TimeBudget(10.0, clock=lambda: now[0])
    budget.model = Model()
    budget.on_train_begin()
    budget.on_epoch_begin(2)
    now[0] = 9.9
    budget.on_train_batch_end(0)
    assert not budget.model.stop_training
    now[0] = 10.0
    budget.on_train_batch_end(1)
    assert budget.model.stop_training and budget.stopped_in_epoch == 3


def test_early_stopping_selects_on_the_holdout(tf, records):
    from imgpipe.modules.train import callbacks, datasets
    spec = SpecOnly(tf)
    train = datasets.batches(datasets.load(
        records, spec, keep=lambda r: tf.logical_not(
            datasets.in_holdout(r, 0.2))), 16, training=True, seed=1)
    holdout = datasets.batches(datasets.load(
        records, spec, keep=lambda r: datasets.in_holdout(r, 0.2)), 16,
        training=False, seed=1)
    stopper = callbacks.early_stopping(1)
    history = _model(tf).fit(
        train, epochs=40, verbose=0,
        callbacks=[callbacks.HoldoutAccuracy(holdout), stopper])
    assert "holdout_accuracy" in history.history
    assert "val_accuracy" not in history.history     # eval split untouched
    assert stopper.stopped_epoch > 0
    assert len(history.history["loss"]) < 40


def test_train_config_validates_the_new_settings():
    assert TrainConfig(time_budget_s=600).time_budget_s == 600
    with pytest.raises(SettingsError, match="time_budget_s"):
        TrainConfig(time_budget_s=-1)
    with pytest.raises(SettingsError, match="holdout_fraction"):
        TrainConfig(holdout_fraction=0.0)
