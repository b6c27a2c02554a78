"""TFX Trainer entry point of the Pretrainer: `run_fn(fn_args)`.

The Pretrainer is a standard TFX Trainer (component id `Pretrainer`) over
the UnlabelledExampleGen's examples and the same Transform graph as the
Trainer, so its pixels are exactly those the Trainer and the served model
see. It trains the Trainer's architecture (the same TrainConfig) on
rotation prediction (rotation.py) for `train.pretrain_epochs` epochs and
writes the backbone into its Model artifact (train/warm_start.py), which
the Trainer receives as `base_model`.

The unlabelled examples carry the raw contract's `label` column with the
value -1 (image_example_gen/formats.py NO_LABEL): the Transform graph
passes it through unused, and this module never reads it.
"""
from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.pretrain.rotation import ROTATIONS, rotation_pairs
from imgpipe_components.train import datasets, hardware, models, warm_start
from imgpipe_components.train.curves import write_history
from imgpipe_components.train.hyperparameters import train_config
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.train.trainer_module import MODEL_OPTIONS
from imgpipe_components.transform.preprocessing import IMAGE_KEY


def pretext_batches(images: tf.data.Dataset, config: TrainConfig, *,
                    training: bool) -> tf.data.Dataset:
    """Batches of (rotated image, quarter turns) from square images."""
    return datasets.batches(rotation_pairs(images), config.batch_size,
                            training=training, seed=config.seed)


def pretext_model(config: TrainConfig, image_shape: tuple, steps: int
                  ) -> tf.keras.Model:
    """The Trainer's architecture with a four-way rotation head, compiled
    with the Trainer's optimiser and schedule over the pretraining epochs."""
    model = models.build(config.architecture, image_shape, ROTATIONS,
                         **{k: getattr(config, k) for k in MODEL_OPTIONS})
    schedule = hardware.learning_rate(
        dataclasses.replace(config, epochs=config.pretrain_epochs), steps)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def run_fn(fn_args: FnArgs) -> None:
    skip_tf_keras_in_autograph()
    config = train_config(fn_args.custom_config)
    if config.pretrain_epochs < 1:
        raise ValueError("The Pretrainer runs only with "
                         "train.pretrain_epochs >= 1.")
    tf.keras.utils.set_random_seed(config.seed)
    transform = tft.TFTransformOutput(fn_args.transform_output)
    image_shape = tuple(transform.transformed_feature_spec()[IMAGE_KEY].shape)
    cache_dir = tempfile.mkdtemp(prefix="imgpipe-pretrain-cache-")
    try:
        def images(patterns, name):
            return datasets.load(patterns, transform,
                                 os.path.join(cache_dir, name)).map(
                lambda image, _unused_label: image)
        train_images = images(fn_args.train_files, "train")
        # A full pass: counts the images and fills the cache on disk.
        count = int(train_images.reduce(0, lambda n, _: n + 1))
        steps = math.ceil(count * ROTATIONS / config.batch_size)
        with hardware.strategy_for_devices(config.mixed_precision).scope():
            model = pretext_model(config, image_shape, steps)
        logging.info("Pretraining %s on %d unlabelled images x %d rotations",
                     model.name, count, ROTATIONS)
        history = model.fit(
            pretext_batches(train_images, config, training=True),
            validation_data=pretext_batches(
                images(fn_args.eval_files, "eval"), config, training=False),
            epochs=config.pretrain_epochs, verbose=2)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    warm_start.save_backbone(model, fn_args.serving_model_dir)
    write_history(fn_args.model_run_dir, history.history,
                  {"pretext": "rotation", "images": count})


