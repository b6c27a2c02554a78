"""Model architectures, selected by name in the pipeline config."""
from __future__ import annotations

from typing import Callable, Dict

import tensorflow as tf


def small_cnn(input_shape: tuple, num_classes: int) -> tf.keras.Model:
    """The classic small CNN: Conv32-Pool-Conv64-Pool-Flatten-Dense128."""
    layers = tf.keras.layers
    return tf.keras.Sequential([
        layers.Input(shape=input_shape, name="image"),
        layers.Conv2D(32, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(num_classes, activation="softmax", name="probabilities"),
    ], name="small_cnn")


ARCHITECTURES: Dict[str, Callable[[tuple, int], tf.keras.Model]] = {
    "small_cnn": small_cnn,
}


def build(name: str, input_shape: tuple, num_classes: int,
          learning_rate: float) -> tf.keras.Model:
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose one of "
                         f"{sorted(ARCHITECTURES)}.")
    model = ARCHITECTURES[name](input_shape, num_classes)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
