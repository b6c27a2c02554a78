"""Distribution strategy and precision for the machine training runs on."""
from __future__ import annotations

import tensorflow as tf
from absl import logging

from imgpipe_components.train.settings import TrainConfig


def strategy_for_devices(mixed_precision: bool) -> tf.distribute.Strategy:
    """MirroredStrategy across every GPU present; the default strategy on
    CPU. Mixed precision only on GPU, where it is faster; CPUs gain nothing
    from float16 and lose accuracy."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        logging.info("No GPU: training on CPU in float32")
        return tf.distribute.get_strategy()
    if mixed_precision:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    logging.info("Training on %d GPU(s) with MirroredStrategy, mixed "
                 "precision %s", len(gpus), "on" if mixed_precision else "off")
    return tf.distribute.MirroredStrategy()


def learning_rate(config: TrainConfig, steps_per_epoch: int):
    if config.lr_schedule == "cosine":
        return tf.keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(
                1, steps_per_epoch * config.epochs))
    if config.lr_schedule == "constant":
        return config.learning_rate
    raise ValueError(f"Unknown lr_schedule {config.lr_schedule!r}; use "
                     "'cosine' or 'constant'.")
