"""tf.data input pipelines for the Trainer: raw examples through the
tf.Transform graph."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from imgpipe_components.transform.preprocessing import (GROUP_KEY, IMAGE_KEY,
                                                     LABEL_KEY)

# The shuffle buffer holds decoded images in memory: bound it in bytes, not
# only in images, so 224x224x3 photos do not make it gigabytes.
SHUFFLE_BUFFER = 10_000
SHUFFLE_BUFFER_BYTES = 64 * 2**20
# Hash buckets for the holdout slice: fine enough for fractions like 0.1.
HOLDOUT_BUCKETS = 1000
# Labels per step of the counting pass (label_counts).
COUNT_BATCH = 4096
# Raw examples per call of the Transform graph: large enough that the call's
# overhead is small, small enough that a batch of decoded photos is not.
TRANSFORM_BATCH = 64
# The raw features the graph needs for the Trainer's outputs (image, label,
# image_group); the metadata columns are not parsed.
TRAINER_RAW_FEATURES = ("image_raw", LABEL_KEY, "image_id")


def records(patterns: List[str]) -> tf.data.Dataset:
    """Serialized raw examples, files read in parallel, in a fixed
    order (deterministic=True) so seeds reproduce."""
    paths = sorted(path for pattern in patterns
                   for path in tf.io.gfile.glob(pattern))
    return tf.data.Dataset.from_tensor_slices(paths).interleave(
        lambda path: tf.data.TFRecordDataset(path, compression_type="GZIP"),
        cycle_length=4, num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)


def in_holdout(features: Dict[str, tf.Tensor], fraction: float) -> tf.Tensor:
    """Deterministic membership of the holdout slice, by the example's
    `image_group` (a hash of its original image's id): an augmented copy
    falls on the same side as its original, and reruns give the same slice."""
    bucket = tf.math.floormod(features[GROUP_KEY], HOLDOUT_BUCKETS)
    return bucket < int(round(fraction * HOLDOUT_BUCKETS))


def transformed_features(patterns: List[str],
                         transform: tft.TFTransformOutput) -> tf.data.Dataset:
    """Per example, the Transform graph's outputs (image, label, group).

    Transform does not write transformed copies of the data: decoded float
    pixels are 5x the size of the 28x28 grey PNGs (far more for photos), and
    writing them costs more than decoding here (see the Transform node in
    pipelines/imgpipe/pipeline.py). The graph runs
    on batches of raw examples, in parallel, exactly as the serving
    signatures run it.
    """
    raw_spec = {name: spec for name, spec in transform.raw_feature_spec().items()
                if name in TRAINER_RAW_FEATURES}
    transform_layer = transform.transform_features_layer()

    def transformed(serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        return transform_layer(tf.io.parse_example(serialized, raw_spec))

    return (records(patterns).batch(TRANSFORM_BATCH)
            .map(transformed, num_parallel_calls=tf.data.AUTOTUNE,
                 deterministic=True)
            .unbatch())


def load(patterns: List[str], transform: tft.TFTransformOutput,
         cache_path: str = "", keep=None) -> tf.data.Dataset:
    """(image, label) pairs of the transformed examples.

    `keep`, a predicate on the transformed features, selects a slice (train
    without holdout, or the holdout). With `cache_path`, the pairs are
    cached in files there after the first full pass, not in memory: each
    image is decoded once and peak memory stays flat as the data grows
    (benchmarks/results/growth.md).
    """
    dataset = transformed_features(patterns, transform)
    if keep is not None:
        dataset = dataset.filter(keep)
    dataset = dataset.map(_pair, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.cache(cache_path) if cache_path else dataset


def _pair(features):
    return features[IMAGE_KEY], features[LABEL_KEY]


def shuffle_buffer(image_shape) -> int:
    bytes_per_image = 4 * max(1, int(np.prod(image_shape)))
    return max(64, min(SHUFFLE_BUFFER,
                        SHUFFLE_BUFFER_BYTES // bytes_per_image))


def online_augmenter(seed: int) -> tf.keras.Sequential:
    """Random per-epoch augmentation: unlike the offline copies, it differs
    every epoch. Mild, because digits and many product images are not
    rotation- or flip-invariant."""
    layers = tf.keras.layers
    return tf.keras.Sequential([
        layers.RandomRotation(0.03, fill_mode="constant", seed=seed),
        layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 1),
        layers.RandomTranslation(0.08, 0.08, fill_mode="constant",
                                 seed=seed + 2),
    ], name="online_augmentation")


def batches(dataset: tf.data.Dataset, batch_size: int, *, training: bool,
            seed: int, augment: bool = False) -> tf.data.Dataset:
    if training:
        image_shape = dataset.element_spec[0].shape
        dataset = dataset.shuffle(shuffle_buffer(image_shape), seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if training and augment:
        augmenter = online_augmenter(seed)
        dataset = dataset.map(lambda x, y: (augmenter(x, training=True), y),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def label_counts(dataset: tf.data.Dataset, num_classes: int) -> np.ndarray:
    """Images per class, in one full pass (which also fills a disk cache
    upstream). Labels are counted in large batches, not one Python step per
    image, which would cost more than the pass itself."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for labels in dataset.map(lambda _, label: label).batch(COUNT_BATCH):
        found = np.bincount(labels.numpy(), minlength=num_classes)
        if len(found) > num_classes:
            raise ValueError(
                f"Label {len(found) - 1} is outside the {num_classes} "
                "classes of the Transform graph's class_index vocabulary.")
        counts += found
    return counts


def inverse_frequency_weights(counts: np.ndarray) -> Dict[int, float]:
    """Keras class_weight: each class contributes equally to the loss."""
    present = counts > 0
    weights = np.where(present, counts.sum() / (present.sum() *
                                                np.maximum(counts, 1)), 0.0)
    return {index: float(w) for index, w in enumerate(weights)}
