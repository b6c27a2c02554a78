"""The pretext task: which of four rotations was applied to an image.

Predicting 0, 90, 180 or 270 degrees (Gidaris et al., 2018) needs no
label: to tell an upright digit or object from a turned one, the network
must learn the shapes that make up the classes, which the classifier then
starts from. Each image yields all four rotations in one step, so every
batch is balanced over the four answers.
"""
from __future__ import annotations

import tensorflow as tf

ROTATIONS = 4   # quarter turns: 0, 90, 180, 270 degrees counter-clockwise


def rotated_copies(image: tf.Tensor):
    """[H, W, C] (square) -> ([4, H, W, C] images, [4] labels): the image
    turned k quarter turns counter-clockwise, labelled k."""
    images = tf.stack([tf.image.rot90(image, k) for k in range(ROTATIONS)])
    return images, tf.range(ROTATIONS, dtype=tf.int64)


def rotation_pairs(images: tf.data.Dataset) -> tf.data.Dataset:
    """A dataset of square images -> (rotated image, quarter turns) pairs,
    four per image, in turn order."""
    return images.map(rotated_copies,
                      num_parallel_calls=tf.data.AUTOTUNE).unbatch()
