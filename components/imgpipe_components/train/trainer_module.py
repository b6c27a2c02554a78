"""TFX Trainer entry point: `run_fn(fn_args)`."""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imgpipe_components import class_names as names_file
from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.train import callbacks, datasets, hardware, models
from imgpipe_components.train import warm_start
from imgpipe_components.train.curves import plot_training_curves
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.train.signatures import build_signatures
from imgpipe_components.train.hyperparameters import (apply_hyperparameters,
                                                  train_config)
from imgpipe_components.transform.preprocessing import (CLASS_INDEX_VOCABULARY,
                                                IMAGE_KEY,
                                                class_names_from_vocabulary)

MODEL_OPTIONS = ("dropout", "l2", "transfer_base", "transfer_weights")


def _callbacks(config: TrainConfig, run_dir: str, train_size: int,
               holdout) -> list:
    found = [callbacks.ImagesPerSecond(train_size),
             tf.keras.callbacks.TensorBoard(
                 log_dir=os.path.join(run_dir, "tensorboard"))]
    if config.time_budget_s:
        found.append(callbacks.TimeBudget(config.time_budget_s))
    if holdout is not None:   # order matters: EarlyStopping reads its logs
        found += [callbacks.HoldoutAccuracy(holdout),
                  callbacks.early_stopping(config.early_stopping_patience)]
    return found


def _inputs(fn_args: FnArgs, config: TrainConfig,
            transform: tft.TFTransformOutput, cache_dir: str):
    """Train, eval and (with early stopping) holdout datasets, each cached
    on local disk under `cache_dir` rather than in memory."""
    def cache(name):
        return os.path.join(cache_dir, name)
    fraction = config.holdout_fraction
    if not config.early_stopping_patience:
        return (datasets.load(fn_args.train_files, transform, cache("train")),
                datasets.load(fn_args.eval_files, transform, cache("eval")),
                None)
    return (datasets.load(fn_args.train_files, transform, cache("train"),
                          keep=lambda r: tf.logical_not(
                              datasets.in_holdout(r, fraction))),
            datasets.load(fn_args.eval_files, transform, cache("eval")),
            datasets.load(fn_args.train_files, transform, cache("holdout"),
                          keep=lambda r: datasets.in_holdout(r, fraction)))


def run_fn(fn_args: FnArgs) -> None:
    skip_tf_keras_in_autograph()
    config = apply_hyperparameters(train_config(fn_args.custom_config),
                                   fn_args.hyperparameters)
    tf.keras.utils.set_random_seed(config.seed)
    transform = tft.TFTransformOutput(fn_args.transform_output)
    class_names = class_names_from_vocabulary(
        transform.vocabulary_by_name(CLASS_INDEX_VOCABULARY))
    image_shape = tuple(transform.transformed_feature_spec()[IMAGE_KEY].shape)

    cache_dir = tempfile.mkdtemp(prefix="imgpipe-train-cache-")
    try:
        _train_and_export(fn_args, config, transform, class_names,
                          image_shape, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _train_and_export(fn_args: FnArgs, config: TrainConfig, transform,
                      class_names: list, image_shape: tuple,
                      cache_dir: str) -> None:
    train_data, eval_data, holdout_data = _inputs(fn_args, config, transform,
                                                  cache_dir)
    # A full pass: counts the labels and fills the train cache on disk.
    counts = datasets.label_counts(train_data, len(class_names))
    train = datasets.batches(train_data, config.batch_size, training=True,
                             seed=config.seed,
                             augment=config.online_augmentation)
    evaluation = datasets.batches(eval_data, config.batch_size,
                                  training=False, seed=config.seed)
    holdout = (None if holdout_data is None else datasets.batches(
        holdout_data, config.batch_size, training=False, seed=config.seed))
    steps = math.ceil(counts.sum() / config.batch_size)

    with hardware.strategy_for_devices(config.mixed_precision).scope():
        model = models.build(config.architecture, image_shape,
                             len(class_names),
                             **{k: getattr(config, k) for k in MODEL_OPTIONS})
        # The Pretrainer's backbone, when the pipeline pretrains.
        warm_start.load_backbone(model, fn_args.base_model)
        model.compile(optimizer=tf.keras.optimizers.Adam(
                          hardware.learning_rate(config, steps)),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    logging.info("Training %s on %d images %s, %d classes", model.name,
                 counts.sum(), image_shape, len(class_names))
    fit_callbacks = _callbacks(config, fn_args.model_run_dir,
                               int(counts.sum()), holdout)
    started = time.perf_counter()
    history = model.fit(
        train, validation_data=evaluation, epochs=config.epochs, verbose=2,
        class_weight=(datasets.inverse_frequency_weights(counts)
                      if config.class_weights else None),
        callbacks=fit_callbacks)
    trained = time.perf_counter()
    # No per-layer call traces: the serving signatures are traced anyway,
    # and Keras rebuilds our (built-in) layers from their config. Saving and
    # loading take a fraction of the time with traces, a cost every TFMA
    # worker and model server that loads the model would pay again.
    model.save(fn_args.serving_model_dir, save_format="tf", save_traces=False,
               signatures=build_signatures(model, transform, class_names))
    logging.info("Trained in %.1f s, exported in %.1f s",
                 trained - started, time.perf_counter() - trained)
    _write_extras(fn_args, history.history, class_names,
                  _stop_notes(fit_callbacks, config))


def _stop_notes(fit_callbacks: list, config: TrainConfig) -> dict:
    """Why training ended, for history.json."""
    notes = {"epochs_planned": config.epochs}
    for callback in fit_callbacks:
        if isinstance(callback, callbacks.TimeBudget):
            notes.update(callback.summary())
        if isinstance(callback, tf.keras.callbacks.EarlyStopping):
            stopped = int(callback.stopped_epoch)
            notes["early_stopped_at_epoch"] = stopped + 1 if stopped else 0
    return notes


def _write_extras(fn_args: FnArgs, history: dict, class_names: list,
                  notes: dict) -> None:
    """Class names beside the SavedModel; curves and history with the run."""
    extra = os.path.join(fn_args.serving_model_dir, "assets.extra")
    tf.io.gfile.makedirs(extra)
    with tf.io.gfile.GFile(os.path.join(extra, names_file.MODEL_FILE),
                           "w") as f:
        f.write(names_file.to_text(class_names))
    history = {k: [float(v) for v in values] for k, values in history.items()}
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir,
                                        "history.json"), "w") as f:
        json.dump({**history, **notes}, f, indent=2)
    plot_training_curves(history, os.path.join(fn_args.model_run_dir,
                                               "training_curves.png"))

