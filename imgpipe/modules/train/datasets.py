"""tf.data input pipelines for the Trainer, over tf.Transform's output."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from imgpipe.modules.transform.preprocessing import (GROUP_KEY, IMAGE_KEY,
                                                     LABEL_KEY)

# The shuffle buffer holds decoded images in memory: bound it in bytes, not
# only in images, so 224x224x3 photos do not make it gigabytes.
SHUFFLE_BUFFER = 10_000
SHUFFLE_BUFFER_BYTES = 64 * 2**20
# Hash buckets for the holdout slice: fine enough for fractions like 0.1.
HOLDOUT_BUCKETS = 1000


def records(patterns: List[str]) -> tf.data.Dataset:
    """Serialized transformed examples, files read in parallel, in a fixed
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


def load(patterns: List[str], transform: tft.TFTransformOutput,
         cache_path: str = "", keep=None) -> tf.data.Dataset:
    """(image, label) pairs streamed from Transform's output.

    `keep`, a predicate on the parsed features, selects a slice (train
    without holdout, or the holdout). With `cache_path`, the pairs are
    cached in files there after the first full pass, not in memory: peak
    memory stays flat as the data grows (the issue-18 benchmark).
    """
    spec = transform.transformed_feature_spec()
    if keep is None:   # the group is parsed only when a slice needs it
        spec = {k: v for k, v in spec.items() if k != GROUP_KEY}
    dataset = records(patterns).map(
        lambda record: tf.io.parse_single_example(record, spec),
        num_parallel_calls=tf.data.AUTOTUNE)
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
    counts = np.zeros(num_classes, dtype=np.int64)
    for _, label in dataset:
        counts[int(label)] += 1
    return counts


def inverse_frequency_weights(counts: np.ndarray) -> Dict[int, float]:
    """Keras class_weight: each class contributes equally to the loss."""
    present = counts > 0
    weights = np.where(present, counts.sum() / (present.sum() *
                                                np.maximum(counts, 1)), 0.0)
    return {index: float(w) for index, w in enumerate(weights)}
