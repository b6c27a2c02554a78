"""TFX Trainer entry point: `run_fn(fn_args)`."""
from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import time
from typing import List, Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from imgpipe_components import class_names as names_file
from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.train import (callbacks, datasets, hardware, models,
                                      warm_start)
from imgpipe_components.train.curves import as_floats, write_history
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.train.signatures import build_signatures
from imgpipe_components.train.hyperparameters import (apply_hyperparameters,
                                                  train_config)
from imgpipe_components.transform.preprocessing import (CLASS_INDEX_VOCABULARY,
                                                IMAGE_KEY,
                                                class_names_from_vocabulary)

MODEL_OPTIONS = ("dropout", "l2", "transfer_base", "transfer_weights")
TENSORBOARD = "tensorboard"   # ui_report/pages.py names it to users


def _callbacks(config: TrainConfig, log_dir: str, train_size: int,
               holdout) -> list:
    found = [callbacks.ImagesPerSecond(train_size),
             tf.keras.callbacks.TensorBoard(log_dir=log_dir)]
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
    data = TrainData(train, evaluation, holdout, counts, steps)

    strategy = hardware.strategy_for_devices(config.mixed_precision)
    logs = os.path.join(fn_args.model_run_dir, TENSORBOARD)
    if len(config.member_architectures) == 1:
        model, history, notes = fit_one(config, strategy, data,
                                        image_shape, len(class_names), logs,
                                        fn_args.base_model)
    else:
        # The Pretrainer's backbone has the configured architecture: members
        # of another architecture start from random weights.
        configs = member_configs(config)
        model, history, notes = average_members(configs, [
            fit_one(member, strategy, data, image_shape, len(class_names),
                    os.path.join(logs, f"{models.MEMBER_PREFIX}{index}"),
                    fn_args.base_model
                    if member.architecture == config.architecture else None)
            for index, member in enumerate(configs)], strategy, evaluation)
    started = time.perf_counter()
    # No per-layer call traces: the serving signatures are traced anyway,
    # and Keras rebuilds our layers from their config. Saving and loading
    # take a fraction of the time with traces, a cost every TFMA worker and
    # model server that loads the model would pay again.
    model.save(fn_args.serving_model_dir, save_format="tf", save_traces=False,
               signatures=build_signatures(model, transform, class_names))
    logging.info("Exported in %.1f s", time.perf_counter() - started)
    _write_extras(fn_args, history, class_names, notes)


@dataclasses.dataclass(frozen=True)
class TrainData:
    """The batched datasets every member trains on, and their size."""
    train: tf.data.Dataset
    evaluation: tf.data.Dataset
    holdout: Optional[tf.data.Dataset]
    counts: np.ndarray           # train images per class
    steps: int                   # batches per epoch


def member_configs(config: TrainConfig) -> List[TrainConfig]:
    """Per ensemble member: its architecture, seed + i, and an equal share
    of the time budget."""
    architectures = config.member_architectures
    return [dataclasses.replace(
        config, architecture=architecture, seed=config.seed + index,
        ensemble=1, ensemble_architectures=(),
        time_budget_s=config.time_budget_s / len(architectures))
        for index, architecture in enumerate(architectures)]


def fit_one(config: TrainConfig, strategy: tf.distribute.Strategy,
            data: TrainData, image_shape: tuple, num_classes: int,
            log_dir: str, base_model: Optional[str] = None):
    """Builds and trains one model: (model, history, stop notes). With
    `base_model` (the Pretrainer's output) its backbone starts from there."""
    tf.keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = models.build(config.architecture, image_shape, num_classes,
                             **{k: getattr(config, k) for k in MODEL_OPTIONS})
        warm_start.load_backbone(model, base_model)
        model.compile(optimizer=tf.keras.optimizers.Adam(
                          hardware.learning_rate(config, data.steps)),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    logging.info("Training %s (seed %d) on %d images %s, %d classes",
                 model.name, config.seed, data.counts.sum(), image_shape,
                 num_classes)
    fit_callbacks = _callbacks(config, log_dir, int(data.counts.sum()),
                               data.holdout)
    started = time.perf_counter()
    history = model.fit(
        data.train, validation_data=data.evaluation, epochs=config.epochs,
        verbose=2, class_weight=(
            datasets.inverse_frequency_weights(data.counts)
            if config.class_weights else None),
        callbacks=fit_callbacks)
    notes = {**_stop_notes(fit_callbacks, config),
             "training_seconds": time.perf_counter() - started}
    logging.info("Trained %s in %.1f s", model.name, notes["training_seconds"])
    return model, as_floats(history.history), notes


def average_members(configs: List[TrainConfig], trained: list,
                    strategy: tf.distribute.Strategy,
                    evaluation: tf.data.Dataset):
    """The averaging model of the trained members, its eval accuracy, and
    each member's (architecture, seed, eval accuracy, history) for the
    model report. The top-level history is the first member's."""
    member_notes = []
    for index, (config, (member, history, notes)) in enumerate(
            zip(configs, trained)):
        _, accuracy = member.evaluate(evaluation, verbose=0)
        member_notes.append({"name": f"{models.MEMBER_PREFIX}{index}",
                             "architecture": config.architecture,
                             "seed": config.seed,
                             "eval_accuracy": float(accuracy),
                             **notes, "history": history})
    with strategy.scope():
        model = models.ensemble([member for member, _, _ in trained])
        model.compile(loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    _, accuracy = model.evaluate(evaluation, verbose=0)
    logging.info("Ensemble of %d: eval accuracy %.4f (members %s)",
                 len(trained), accuracy,
                 [round(m["eval_accuracy"], 4) for m in member_notes])
    _, first_history, first_notes = trained[0]
    return model, first_history, {**first_notes,
                                  "ensemble_eval_accuracy": float(accuracy),
                                  "members": member_notes}


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
    write_history(fn_args.model_run_dir, history, notes)

