"""Grad-CAM heat-maps from a pushed SavedModel.

The image goes through the version's own `serving_preprocess` signature
(the tf.Transform graph the server uses), so the explanation is of what the
model really sees. The Keras model is rebuilt from the same folder; the
class score's gradient with respect to the last convolutional feature map,
averaged per channel, weights that map (Selvaraju et al., 2017). The map
is resized to the original image's size.

A vision transformer (train/vit.py) has no convolution after its patch
embedding: its map is the last block's tokens on the patch grid, one cell
per patch, so its heat-maps are as coarse as its patches. An ensemble's map
is the mean of its members' maps (each normalised to [0, 1] first), all for
the class the ensemble predicts, and the probability shown is the
ensemble's.
"""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import List, Optional

import numpy as np
import tensorflow as tf

from imgpipe_components import class_names
from imgpipe_components.train import models
from imgpipe_components.train.vit import TOKEN_MAP
from imgpipe_components.transform.preprocessing import IMAGE_KEY


class ExplainError(ValueError):
    """The model or an image cannot be explained; the message says why."""


@dataclasses.dataclass
class Explanation:
    class_name: str
    probability: float
    heatmap: np.ndarray          # [height, width] in [0, 1], image's size
    image: np.ndarray            # the original image, [height, width, c]


class GradCam:

    def __init__(self, version_dir: Path):
        version_dir = Path(version_dir)
        if not (version_dir / "saved_model.pb").exists():
            raise ExplainError(f"No SavedModel in {version_dir}.")
        loaded = tf.saved_model.load(str(version_dir))
        if "serving_preprocess" not in loaded.signatures:
            raise ExplainError(
                f"{version_dir} has no serving_preprocess signature (it was "
                "exported before explanations existed): re-run the pipeline "
                "to push a version that has it.")
        self._preprocess = loaded.signatures["serving_preprocess"]
        self._model = models.load_keras_model(str(version_dir))
        # One (features, probabilities) model per ensemble member, or one
        # for a single model.
        self._explained = [tf.keras.Model(member.inputs, [
            _feature_map(member, version_dir), member.outputs[0]])
            for member in models.members(self._model)]
        self.method = _method(self._explained)
        self.class_names: List[str] = class_names.from_text(
            (version_dir / "assets.extra" / class_names.MODEL_FILE).read_text())

    def predicted(self, images: List[bytes], batch: int = 256) -> np.ndarray:
        """The predicted class index of each encoded image, in batches."""
        indices = []
        for start in range(0, len(images), batch):
            pixels = self._preprocess(image_bytes=tf.constant(
                images[start:start + batch]))[IMAGE_KEY]
            probabilities = self._model(pixels, training=False)
            indices.append(np.argmax(probabilities.numpy(), axis=-1))
        return np.concatenate(indices) if indices else np.array([], int)

    def class_index(self, name: str) -> int:
        if name not in self.class_names:
            raise ExplainError(f"Class {name!r} is not one of the model's: "
                               f"{', '.join(self.class_names)}.")
        return self.class_names.index(name)

    def explain(self, image_bytes: bytes, class_name: Optional[str] = None,
                source: str = "image") -> Explanation:
        wanted = None if class_name is None else self.class_index(class_name)
        image = _decode(image_bytes, source)
        try:
            pixels = self._preprocess(
                image_bytes=tf.constant([image_bytes]))[IMAGE_KEY]
        except tf.errors.InvalidArgumentError as error:
            raise ExplainError(f"{source} is not a decodable image "
                               f"({error.message.splitlines()[0]}).") from None
        probabilities = self._model(pixels, training=False)
        index = (wanted if wanted is not None
                 else int(tf.argmax(probabilities[0])))
        # An ensemble's map is the mean of its members' maps (their grids
        # may differ: each is resized to the image first), each for the
        # class the ensemble predicts.
        heatmap = np.mean([tf.image.resize(
            _class_activation(member, pixels, index)[..., tf.newaxis],
            image.shape[:2], method="bilinear")[..., 0].numpy()
            for member in self._explained], axis=0)
        return Explanation(self.class_names[index],
                           float(probabilities[0, index]),
                           np.clip(heatmap / (heatmap.max() + 1e-12), 0.0,
                                   1.0), image)


def _feature_map(model: tf.keras.Model, version_dir: Path) -> tf.Tensor:
    """The map Grad-CAM weights: a vision transformer's last token map
    (vit.TOKEN_MAP, its tokens on the patch grid), else the output of the
    last convolutional block."""
    names = [layer.name for layer in model.layers]
    if TOKEN_MAP in names:
        return model.get_layer(TOKEN_MAP).output
    conv = [layer for layer in model.layers
            if isinstance(layer, tf.keras.layers.Conv2D)]
    if not conv:
        raise ExplainError(f"{version_dir}: the model {model.name} has no "
                           "convolution layer for Grad-CAM.")
    # The last convolution on the main path (not a 1x1 shortcut).
    last = next((layer for layer in reversed(conv)
                 if layer.kernel_size != (1, 1)), conv[-1])
    feature_map = last.output
    for layer in model.layers[model.layers.index(last) + 1:]:
        if isinstance(layer, (tf.keras.layers.Add, tf.keras.layers.ReLU,
                              tf.keras.layers.BatchNormalization)) and \
                len(layer.output.shape) == 4:
            feature_map = layer.output     # the block's output, post-add
    return feature_map


def _method(explained: List[tf.keras.Model]) -> str:
    """What the heat-maps show, in a sentence for the report."""
    maps = ["the last transformer block's tokens on the "
            f"{model.outputs[0].shape[1]}x{model.outputs[0].shape[2]} patch "
            "grid" if any(layer.name == TOKEN_MAP for layer in model.layers)
            else "the last convolutional block's output" for model in explained]
    if len(explained) == 1:
        return f"Grad-CAM on {maps[0]}"
    return (f"the mean of the {len(explained)} ensemble members' Grad-CAM "
            "maps, each for the ensemble's predicted class (" + "; ".join(
                f"{models.MEMBER_PREFIX}{i}: {found}"
                for i, found in enumerate(maps)) + ")")


def _class_activation(model: tf.keras.Model, pixels: tf.Tensor,
                      index: int) -> tf.Tensor:
    """One model's Grad-CAM map of class `index`, in [0, 1]: the feature
    map weighted by the class score's mean gradient per channel."""
    with tf.GradientTape() as tape:
        features, probabilities = model(pixels, training=False)
        score = probabilities[:, index]
    gradients = tape.gradient(score, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(features * weights, axis=-1))[0]
    return cam / (tf.reduce_max(cam) + 1e-12)


def _decode(image_bytes: bytes, source: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(image_bytes)) as opened:
            image = np.asarray(opened.convert("RGB"))
    except UnidentifiedImageError:
        raise ExplainError(f"{source} is not an image format the model "
                           "reads (PNG, JPEG, GIF or BMP).") from None
    except OSError as error:
        raise ExplainError(f"{source} is not a decodable image "
                           f"({error}).") from None
    return image


def save_overlay(explanation: Explanation, path: Path, title: str) -> Path:
    """The image and its heat-map overlay side by side, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(6, 3.2))
    for axis in (left, right):
        axis.imshow(explanation.image, interpolation="nearest")
        axis.axis("off")
    right.imshow(explanation.heatmap, cmap="jet", alpha=0.5,
                 interpolation="bilinear", vmin=0, vmax=1)
    left.set_title(title, fontsize=9)
    right.set_title(f"Grad-CAM: {explanation.class_name} "
                    f"({explanation.probability:.2f})", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
