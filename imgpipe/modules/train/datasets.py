"""tf.data input pipelines for the Trainer, over tf.Transform's output."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from imgpipe.modules.transform.preprocessing import IMAGE_KEY, LABEL_KEY

SHUFFLE_BUFFER = 10_000


def load(patterns: List[str], transform: tft.TFTransformOutput
         ) -> tf.data.Dataset:
    """(image, label) pairs, read once and cached in memory."""
    spec = transform.transformed_feature_spec()
    paths = [path for pattern in patterns for path in tf.io.gfile.glob(pattern)]
    return (tf.data.TFRecordDataset(paths, compression_type="GZIP")
            .map(lambda record: tf.io.parse_single_example(record, spec),
                 num_parallel_calls=tf.data.AUTOTUNE)
            .map(lambda f: (f[IMAGE_KEY], f[LABEL_KEY]))
            .cache())


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
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed,
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
