"""Trainer pieces on real tf.data, a real tf.Transform graph and a real
model, bounded to seconds: the raw examples through the graph, streaming with
a disk cache, the hash holdout, the time budget and early stopping on the
holdout."""
from __future__ import annotations

import numpy as np
import pytest

from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.settings_codec import SettingsError

SIDE = 8


@pytest.fixture(scope="module")
def tf():
    import tensorflow
    skip_tf_keras_in_autograph()
    return tensorflow


def _raw_spec(tf):
    """The raw examples' features that the Transform graph reads."""
    return {"image_raw": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.int64),
            "label_name": tf.io.FixedLenFeature([], tf.string),
            "image_id": tf.io.FixedLenFeature([], tf.string)}


def _raw_examples(tf):
    """300 raw examples in 100 groups of 3 (an original and two augmented
    copies, named as Augment names them), two classes (bright / dark
    8x8 grey PNGs, the label alternating by group)."""
    from imgpipe_components.augment.names import copy_id
    rng = np.random.default_rng(0)
    for group in range(100):
        label = group % 2
        for copy in range(3):
            pixels = rng.random((SIDE, SIDE, 1)) * 70 + 150 * label
            image_id = f"{'bright' if label else 'dark'}/g{group:03d}.png"
            yield {"image_raw": tf.io.encode_png(
                       pixels.astype(np.uint8)).numpy(),
                   "label": label,
                   "label_name": b"bright" if label else b"dark",
                   "image_id": (copy_id(image_id, copy) if copy
                                else image_id).encode()}


@pytest.fixture(scope="module")
def records(tf, tmp_path_factory):
    """The raw examples, spread over two GZIP shards as Augment writes
    them."""
    folder = tmp_path_factory.mktemp("examples")
    examples = list(_raw_examples(tf))
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for shard in range(2):
        with tf.io.TFRecordWriter(str(folder / f"part-{shard}.gz"),
                                  options) as writer:
            for example in examples[shard::2]:
                writer.write(tf.train.Example(features=tf.train.Features(
                    feature={name: _feature(tf, value)
                             for name, value in example.items()})
                ).SerializeToString())
    return [str(folder / "part-*")]


def _feature(tf, value):
    if isinstance(value, bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


@pytest.fixture(scope="module")
def transform(tf, tmp_path_factory):
    """The pipeline's own preprocessing_fn analysed with tf.Transform on
    Beam (in process): the graph the Trainer applies."""
    import functools

    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from tensorflow_transform.tf_metadata import metadata_io

    from imgpipe_components.transform.preprocessing import preprocessing_fn
    from imgpipe_components.transform.settings import TransformConfig
    from imgpipe_components.settings_codec import to_dict

    folder = tmp_path_factory.mktemp("transform_graph")
    metadata = tft.DatasetMetadata.from_feature_spec(_raw_spec(tf))
    analyse = tft_beam.AnalyzeDataset(functools.partial(
        preprocessing_fn, custom_config=to_dict(
            TransformConfig(image_size=SIDE, channels=1))))
    # Options of its own: a default Beam pipeline would parse pytest's argv.
    with beam.Pipeline(options=PipelineOptions([])) as pipeline, \
            tft_beam.Context(temp_dir=str(folder / "tmp")):
        raw = pipeline | beam.Create(list(_raw_examples(tf)))
        _ = ((raw, metadata) | analyse
             | tft_beam.WriteTransformFn(str(folder)))
    # As TFX's Transform does: the raw schema beside the graph.
    metadata_io.write_metadata(
        metadata, str(folder / tft.TFTransformOutput.RAW_METADATA_DIR))
    return tft.TFTransformOutput(str(folder))


def _labels(dataset):
    return [int(label) for _, label in dataset]


def test_disk_cache_streams_the_same_examples(tf, records, transform,
                                              tmp_path):
    from imgpipe_components.train import datasets
    cached = datasets.load(records, transform, str(tmp_path / "train"))
    first, second = _labels(cached), _labels(cached)
    assert len(first) == 300 and first == second
    assert any(path.name.startswith("train") for path in tmp_path.iterdir())


def test_holdout_is_deterministic_disjoint_and_about_its_fraction(
        tf, records, transform):
    from imgpipe_components.train import datasets

    def count(keep):
        return len(_labels(datasets.load(records, transform, keep=keep)))
    held = count(lambda r: datasets.in_holdout(r, 0.2))
    kept = count(lambda r: tf.logical_not(datasets.in_holdout(r, 0.2)))
    assert held + kept == 300
    assert 30 <= held <= 90
    assert held % 3 == 0          # whole groups: copies follow their original
    assert held == count(lambda r: datasets.in_holdout(r, 0.2))


def test_holdout_keeps_each_image_group_on_one_side(tf, records, transform):
    from imgpipe_components.train import datasets
    sides = {}
    for features in datasets.transformed_features(records, transform):
        group = int(features["image_group"])
        sides.setdefault(group, set()).add(
            bool(datasets.in_holdout(features, 0.2)))
    assert len(sides) == 100      # the copies share their original's group
    assert all(len(side) == 1 for side in sides.values())
    assert 5 <= sum(True in side for side in sides.values()) <= 35


def test_the_graph_decodes_and_scales_the_raw_images(tf, records, transform):
    from imgpipe_components.train import datasets
    pairs = list(datasets.load(records, transform))
    assert len(pairs) == 300
    image, label = pairs[0]
    assert image.shape == (SIDE, SIDE, 1) and image.dtype == tf.float32
    bright = [float(tf.reduce_mean(i)) for i, y in pairs if int(y) == 1]
    dark = [float(tf.reduce_mean(i)) for i, y in pairs if int(y) == 0]
    assert min(bright) > 0.55 and max(dark) < 0.3   # pixels / 255


def test_label_counts_fill_the_cache_and_reject_unknown_labels(
        tf, records, transform, tmp_path):
    from imgpipe_components.train import datasets
    cached = datasets.load(records, transform, str(tmp_path / "train"))
    assert datasets.label_counts(cached, 2).tolist() == [150, 150]
    assert any(path.name.startswith("train") for path in tmp_path.iterdir())
    with pytest.raises(ValueError, match="Label 1 is outside the 1 classes"):
        datasets.label_counts(cached, 1)


def test_shuffle_buffer_is_bounded_in_bytes():
    from imgpipe_components.train import datasets
    assert datasets.shuffle_buffer((28, 28, 1)) == datasets.SHUFFLE_BUFFER
    assert datasets.shuffle_buffer((224, 224, 3)) * 224 * 224 * 3 * 4 <= \
        datasets.SHUFFLE_BUFFER_BYTES


def _model(tf):
    from imgpipe_components.train import models
    model = models.build("small_cnn", (SIDE, SIDE, 1), 2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_time_budget_stops_within_the_first_epoch(tf, records, transform):
    from imgpipe_components.train import callbacks, datasets
    train = datasets.batches(datasets.load(records, transform), 16,
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
    from imgpipe_components.train.callbacks import TimeBudget
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


def test_early_stopping_selects_on_the_holdout(tf, records, transform):
    from imgpipe_components.train import callbacks, datasets
    train = datasets.batches(datasets.load(
        records, transform, keep=lambda r: tf.logical_not(
            datasets.in_holdout(r, 0.2))), 16, training=True, seed=1)
    holdout = datasets.batches(datasets.load(
        records, transform, keep=lambda r: datasets.in_holdout(r, 0.2)), 16,
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
