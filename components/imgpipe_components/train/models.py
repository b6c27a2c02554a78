"""Model architectures, selected by name in the pipeline config."""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence

import tensorflow as tf

from imgpipe_components.train import vit

layers = tf.keras.layers
# Keras' default 0.99 needs hundreds of steps before the moving statistics
# used at inference match the data: a 10-epoch run on a small data set then
# evaluates at chance level. 0.9 settles within tens of steps.
BN_MOMENTUM = 0.9


def _head(x, num_classes: int, dropout: float, l2: float):
    regulariser = tf.keras.regularizers.l2(l2) if l2 else None
    if dropout:
        x = layers.Dropout(dropout)(x)
    # float32 softmax: stable under mixed precision.
    return layers.Dense(num_classes, activation="softmax", dtype="float32",
                        kernel_regularizer=regulariser,
                        name="probabilities")(x)


def small_cnn(input_shape, num_classes, dropout=0.0, l2=0.0, **_):
    """The classic small CNN: Conv32-Pool-Conv64-Pool-Flatten-Dense128."""
    regulariser = tf.keras.regularizers.l2(l2) if l2 else None
    inputs = layers.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu", padding="same",
                      kernel_regularizer=regulariser)(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same",
                      kernel_regularizer=regulariser)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", kernel_regularizer=regulariser)(x)
    return tf.keras.Model(inputs, _head(x, num_classes, dropout, l2),
                          name="small_cnn")


def _residual_block(x, filters: int, stride: int, l2: float):
    regulariser = tf.keras.regularizers.l2(l2) if l2 else None
    shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same",
                      use_bias=False, kernel_regularizer=regulariser)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                      kernel_regularizer=regulariser)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 kernel_regularizer=regulariser)(shortcut)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM)(shortcut)
    return layers.ReLU()(layers.Add()([x, shortcut]))


def residual_cnn(input_shape, num_classes, dropout=0.0, l2=0.0, width=32,
                 blocks_per_stage=1, **_):
    """A small ResNet: three stages (width, 2x, 4x filters) of residual
    blocks, the first stage after a stride-2 stem: small enough for CPUs."""
    inputs = layers.Input(shape=input_shape, name="image")
    x = layers.Conv2D(width, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization(momentum=BN_MOMENTUM)(x))
    for filters, stride in ((width, 1), (2 * width, 2), (4 * width, 2)):
        x = _residual_block(x, filters, stride, l2)
        for _ in range(blocks_per_stage - 1):
            x = _residual_block(x, filters, 1, l2)
    x = layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, _head(x, num_classes, dropout, l2),
                          name="residual_cnn")


def transfer(input_shape, num_classes, dropout=0.0, l2=0.0,
             transfer_base="MobileNetV2", transfer_weights="", **_):
    """A Keras application as feature extractor, weights from a file.

    Weights are never downloaded from a hub: `transfer_weights` names a
    local or gs:// weights file (by_name loading of the base's layers), or
    the base starts from random initialisation.
    """
    application = getattr(tf.keras.applications, transfer_base, None)
    if application is None:
        raise ValueError(f"Unknown Keras application {transfer_base!r}.")
    inputs = layers.Input(shape=input_shape, name="image")
    x = inputs
    if input_shape[-1] == 1:  # Applications expect RGB.
        x = layers.Concatenate()([x, x, x])
    x = layers.Rescaling(2.0, offset=-1.0)(x)  # [0, 1] -> [-1, 1]
    base = application(include_top=False, weights=None,
                       input_shape=(*input_shape[:2], 3), pooling="avg")
    if transfer_weights:
        base.load_weights(_local_copy(transfer_weights))
    x = base(x)
    return tf.keras.Model(inputs, _head(x, num_classes, dropout, l2),
                          name=f"transfer_{transfer_base.lower()}")


def _local_copy(path: str) -> str:
    """Keras reads weights from local files; gs:// is copied first."""
    if "://" not in path:
        return path
    import os
    import tempfile
    local = os.path.join(tempfile.mkdtemp(), os.path.basename(path))
    tf.io.gfile.copy(path, local)
    return local


def vision_transformer(input_shape, num_classes, dropout=0.0, l2=0.0,
                       width=64, depth=4, heads=4, **_):
    """The small ViT of train/vit.py with the shared head."""
    return vit.vit(input_shape,
                   lambda x: _head(x, num_classes, dropout, l2),
                   dropout=dropout, width=width, depth=depth, heads=heads)


ARCHITECTURES: Dict[str, Callable[..., tf.keras.Model]] = {
    "small_cnn": small_cnn,
    "residual_cnn": residual_cnn,
    "transfer": transfer,
    "vit": vision_transformer,
}
MEMBER_PREFIX = "member_"


def build(name: str, input_shape: tuple, num_classes: int,
          **options) -> tf.keras.Model:
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose one of "
                         f"{sorted(ARCHITECTURES)}.")
    return ARCHITECTURES[name](input_shape, num_classes, **options)


def ensemble(members: Sequence[tf.keras.Model]) -> tf.keras.Model:
    """One model whose output is the mean of the members' probabilities.

    Each member is a nested model named member_0, member_1, ... on one
    shared input, so the ensemble exports, serves and converts exactly as
    a single model does; the mean is float32 whatever the precision policy.
    """
    inputs = layers.Input(shape=members[0].input_shape[1:], name="image")
    outputs = [tf.keras.Model(member.inputs, member.outputs,
                              name=f"{MEMBER_PREFIX}{index}")(inputs)
               for index, member in enumerate(members)]
    return tf.keras.Model(
        inputs, layers.Average(dtype="float32", name="probabilities")(outputs),
        name="ensemble")


def members(model: tf.keras.Model) -> List[tf.keras.Model]:
    """The ensemble's member models, or [model] for a single model."""
    nested = [layer for layer in model.layers
              if isinstance(layer, tf.keras.Model)
              and layer.name.startswith(MEMBER_PREFIX)]
    return nested or [model]


def load_keras_model(path: str) -> tf.keras.Model:
    """A Keras model from a SavedModel saved without traces: Keras rebuilds
    it from its config, our one custom layer (vit.PositionEmbedding)
    included, registered by this module's import of vit."""
    return tf.keras.models.load_model(path, compile=False)
