"""TFX Trainer entry point: `run_fn(fn_args)`."""
from __future__ import annotations

import json
import os
import time

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from components.train import models
from components.train.autograph_rules import skip_tf_keras
from components.train.curves import plot_training_curves
from components.train.signatures import build_signatures
from components.transform.preprocessing import (CLASS_INDEX_VOCABULARY,
                                                IMAGE_KEY, LABEL_KEY,
                                                class_names_from_vocabulary)

SHUFFLE_BUFFER = 10_000


def _dataset(patterns, transform: tft.TFTransformOutput, batch_size: int,
             shuffle: bool, seed: int) -> tf.data.Dataset:
    """Reads transformed examples once into memory: small images, many epochs."""
    spec = transform.transformed_feature_spec()
    paths = [path for pattern in patterns for path in tf.io.gfile.glob(pattern)]
    dataset = (tf.data.TFRecordDataset(paths,
                                       compression_type="GZIP")
               .map(lambda record: tf.io.parse_single_example(record, spec),
                    num_parallel_calls=tf.data.AUTOTUNE)
               .map(lambda f: (f[IMAGE_KEY], f[LABEL_KEY]))
               .cache())
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed,
                                  reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def run_fn(fn_args: FnArgs) -> None:
    skip_tf_keras()
    config = fn_args.custom_config
    tf.keras.utils.set_random_seed(config["seed"])
    transform = tft.TFTransformOutput(fn_args.transform_output)
    class_names = class_names_from_vocabulary(
        transform.vocabulary_by_name(CLASS_INDEX_VOCABULARY))
    image_shape = tuple(transform.transformed_feature_spec()[IMAGE_KEY].shape)

    train = _dataset(fn_args.train_files, transform,
                     config["batch_size"], True, config["seed"])
    evaluation = _dataset(fn_args.eval_files, transform,
                          config["batch_size"], False, config["seed"])
    model = models.build(config["architecture"], image_shape,
                         len(class_names), config["learning_rate"])
    logging.info("Training %s on %s images for %d classes", model.name,
                 image_shape, len(class_names))
    started = time.perf_counter()
    history = model.fit(
        train, validation_data=evaluation, epochs=config["epochs"], verbose=2,
        callbacks=[tf.keras.callbacks.TensorBoard(
            log_dir=os.path.join(fn_args.model_run_dir, "tensorboard"))])

    trained = time.perf_counter()
    signatures = build_signatures(model, transform, class_names)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=signatures)
    logging.info("Trained in %.1f s, exported in %.1f s",
                 trained - started, time.perf_counter() - trained)
    _write_extras(fn_args, history.history, class_names)


def _write_extras(fn_args: FnArgs, history: dict, class_names: list) -> None:
    """Class names beside the SavedModel; curves and history with the run."""
    extra = os.path.join(fn_args.serving_model_dir, "assets.extra")
    tf.io.gfile.makedirs(extra)
    with tf.io.gfile.GFile(os.path.join(extra, "class_names.txt"), "w") as f:
        f.write("".join(f"{name}\n" for name in class_names))
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir,
                                        "history.json"), "w") as f:
        json.dump(history, f, indent=2)
    plot_training_curves(history, os.path.join(fn_args.model_run_dir,
                                               "training_curves.png"))
