"""The Trainer's settings as it receives them, with the Tuner's best values.

Here rather than in the Tuner's module: the Trainer needs this whether or
not a Tuner ran, and the Tuner builds on the Trainer's models and data, so
the dependency points one way (tune -> train).
"""
from __future__ import annotations

import dataclasses

from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.settings_codec import from_dict

TUNED = ("learning_rate", "dropout", "l2")   # what the Tuner searches


def train_config(custom_config: dict) -> TrainConfig:
    """The TrainConfig that `trainer_custom_config` sent."""
    return from_dict(TrainConfig, custom_config)


def apply_hyperparameters(config: TrainConfig, hyperparameters
                          ) -> TrainConfig:
    """The Trainer's config with the Tuner's best values, if there are any."""
    if not hyperparameters:
        return config
    import keras_tuner
    best = keras_tuner.HyperParameters.from_config(hyperparameters)
    return dataclasses.replace(config, **{name: best.get(name) for name in TUNED
                                          if name in best.values})
