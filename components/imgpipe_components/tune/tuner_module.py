"""TFX Tuner entry point: `tuner_fn(fn_args)`, a KerasTuner search.

Searches learning rate, dropout and L2 for the configured architecture
with random or Bayesian search; the Tuner component stores the best values
as an artifact that the Trainer reads (components/imgpipe_components/train/hyperparameters.py).
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.train import datasets, models
from imgpipe_components.train.hyperparameters import train_config
from imgpipe_components.transform.preprocessing import (CLASS_INDEX_VOCABULARY,
                                                IMAGE_KEY,
                                                class_names_from_vocabulary)

def search_space(hp: keras_tuner.HyperParameters) -> dict:
    return {"learning_rate": hp.Float("learning_rate", 3e-4, 3e-3,
                                      sampling="log"),
            "dropout": hp.Choice("dropout", [0.0, 0.2, 0.4]),
            "l2": hp.Choice("l2", [0.0, 1e-4])}


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    skip_tf_keras_in_autograph()
    config = train_config(fn_args.custom_config)
    transform = tft.TFTransformOutput(fn_args.transform_output)
    num_classes = len(class_names_from_vocabulary(
        transform.vocabulary_by_name(CLASS_INDEX_VOCABULARY)))
    shape = tuple(transform.transformed_feature_spec()[IMAGE_KEY].shape)

    def build(hp: keras_tuner.HyperParameters) -> tf.keras.Model:
        values = search_space(hp)
        model = models.build(config.architecture, shape, num_classes,
                             dropout=values["dropout"], l2=values["l2"],
                             transfer_base=config.transfer_base,
                             transfer_weights=config.transfer_weights)
        model.compile(optimizer=tf.keras.optimizers.Adam(
                          values["learning_rate"]),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    algorithm = {"random": keras_tuner.RandomSearch,
                 "bayesian": keras_tuner.BayesianOptimization}
    if config.tune_algorithm not in algorithm:
        raise ValueError(f"Unknown tune algorithm {config.tune_algorithm!r};"
                         " use 'random' or 'bayesian'.")
    tuner = algorithm[config.tune_algorithm](
        build, objective="val_accuracy", max_trials=config.tune_trials,
        seed=config.seed, directory=fn_args.working_dir,
        project_name="search", overwrite=True)
    batch = config.batch_size
    # Every trial reads the same images: decoded once and cached on local
    # disk (the working folder may be a bucket), not in memory. The search
    # runs after this function returns, so the folder goes at exit.
    cache = tempfile.mkdtemp(prefix="imgpipe-tune-cache-")
    atexit.register(shutil.rmtree, cache, True)
    return TunerFnResult(tuner=tuner, fit_kwargs={
        "x": datasets.batches(
            datasets.load(fn_args.train_files, transform,
                          os.path.join(cache, "train")),
            batch, training=True, seed=config.seed),
        "validation_data": datasets.batches(
            datasets.load(fn_args.eval_files, transform,
                          os.path.join(cache, "eval")),
            batch, training=False, seed=config.seed),
        "epochs": config.tune_epochs, "verbose": 2})
