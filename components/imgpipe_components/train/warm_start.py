"""Warm start: a pretrained backbone's weights into a freshly built model.

The Pretrainer (components/imgpipe_components/pretrain) trains the Trainer's
own architecture on a pretext task and saves its backbone, every layer but
the classification head, as one Keras file in its Model artifact. The
Trainer receives that artifact as its standard `base_model` input and
copies the weights layer by layer, in order, before it fits. Layer names
are not compared: Keras numbers them per process (conv2d_7), so the same
architecture built twice gets different names; the order and the weight
shapes are what must agree.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from typing import List, Optional

import tensorflow as tf
from absl import logging

# The name of every architecture's classification layer (models._head).
HEAD = "probabilities"
BACKBONE_FILE = "backbone.h5"


class WarmStartError(ValueError):
    """The pretrained backbone does not fit the model being trained."""


def backbone(model: tf.keras.Model) -> tf.keras.Model:
    """The model up to (not including) its head: the features it feeds."""
    return tf.keras.Model(model.inputs, model.get_layer(HEAD).input,
                          name=f"{model.name}_backbone")


def save_backbone(model: tf.keras.Model, model_dir: str) -> str:
    """Writes `model`'s backbone to `model_dir` (local or gs://: Keras
    writes HDF5 to local files only, so through a local copy); returns the
    file's path."""
    tf.io.gfile.makedirs(model_dir)
    path = os.path.join(model_dir, BACKBONE_FILE)
    with tempfile.TemporaryDirectory() as local:
        local_path = os.path.join(local, BACKBONE_FILE)
        with warnings.catch_warnings():
            # HDF5 on purpose: one file that tf_keras reads back whole.
            warnings.filterwarnings("ignore", message=".*HDF5.*legacy")
            backbone(model).save(local_path, save_format="h5")
        tf.io.gfile.copy(local_path, path, overwrite=True)
    return path


def load_backbone(model: tf.keras.Model, base_model_dir: Optional[str]) -> int:
    """Copies the backbone saved in `base_model_dir` (the Trainer's
    `fn_args.base_model`) into `model`, leaving its head alone; returns the
    number of layers copied, 0 when there is no base model."""
    if not base_model_dir:
        return 0
    path = os.path.join(base_model_dir, BACKBONE_FILE)
    if not tf.io.gfile.exists(path):
        raise WarmStartError(
            f"The base model {base_model_dir} holds no {BACKBONE_FILE}: the "
            "Trainer warm-starts only from the Pretrainer's output.")
    with tempfile.TemporaryDirectory() as local:
        local_path = os.path.join(local, BACKBONE_FILE)
        tf.io.gfile.copy(path, local_path)
        source = tf.keras.models.load_model(local_path, compile=False)
    copied = copy_backbone(source, model, where=path)
    logging.info("Warm start: %d layers of %s copied from %s", copied,
                 model.name, path)
    return copied


def copy_backbone(source: tf.keras.Model, target: tf.keras.Model,
                  where: str = "memory") -> int:
    """Sets the weights of `target`'s layers, heads excepted, from
    `source`'s (a backbone or a whole pretext model), layer by layer in
    order; raises WarmStartError, before changing anything, when the
    layers or their weight shapes differ."""
    sources, targets = _backbone_layers(source), _backbone_layers(target)
    problem = _mismatch(sources, targets)
    if problem:
        raise WarmStartError(
            f"The pretrained backbone (from {where}) does not fit the model "
            f"{target.name}: {problem}. The Pretrainer and the Trainer must "
            "build the same architecture (train.architecture and its options) "
            "on the same input (transform.image_size, transform.channels); "
            "re-run so that both use the current settings.")
    for from_layer, to_layer in zip(sources, targets):
        to_layer.set_weights(from_layer.get_weights())
    return len(targets)


def _backbone_layers(model: tf.keras.Model) -> List[tf.keras.layers.Layer]:
    return [layer for layer in model.layers
            if layer.weights and layer.name != HEAD]


def _mismatch(sources: list, targets: list) -> str:
    if len(sources) != len(targets):
        return (f"{len(sources)} layers with weights pretrained, "
                f"{len(targets)} below the head to fill")
    for index, (source, target) in enumerate(zip(sources, targets)):
        got = [tuple(w.shape) for w in source.weights]
        want = [tuple(w.shape) for w in target.weights]
        if got != want:
            return (f"layer {index} ({target.name}) has weight shapes {want}, "
                    f"the pretrained one {got}")
    return ""
