"""tf.Transform preprocessing: the one definition of how pixels reach the model.

The same graph runs in the Transform component over the training data and
inside the exported model's serving signatures, so there is no skew between
training and serving.
"""
from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf
import tensorflow_transform as tft

from imgpipe_components.augment.names import AUG_SUFFIX_PATTERN
from imgpipe_components.transform.settings import TransformConfig
from imgpipe_components.settings_codec import from_dict

IMAGE_KEY = "image"
LABEL_KEY = "label"
# A hash of the original image's id, the same for its augmented copies: the
# Trainer's early-stopping holdout is chosen by it, so a copy never trains
# while its original is held out. Not computable from an image alone, so the
# serving signatures (which feed only `image_raw`) never compute it.
GROUP_KEY = "image_group"
# Tokens "000003:cat": index and name, so the Trainer can rebuild the ordered
# class names from a vocabulary that lives in (and travels with) this graph.
CLASS_INDEX_VOCABULARY = "class_index"


def decode_image(encoded: tf.Tensor, size: int, channels: int) -> tf.Tensor:
    """Encoded bytes -> [size, size, channels] float32 in [0, 1].

    Decodes with the file's own channel count (BMP cannot decode straight to
    grey), drops alpha, then converts grey<->RGB to the configured channels.
    """
    image = tf.io.decode_image(encoded, channels=0, dtype=tf.uint8,
                               expand_animations=False)
    has_colour = tf.shape(image)[-1] >= 3
    image = tf.cond(has_colour, lambda: image[..., :3], lambda: image[..., :1])
    if channels == 1:
        image = tf.cond(has_colour, lambda: tf.image.rgb_to_grayscale(image),
                        lambda: image)
    else:
        image = tf.cond(has_colour, lambda: image,
                        lambda: tf.image.grayscale_to_rgb(image))
    image = tf.ensure_shape(image, [None, None, channels])
    image = tf.image.resize(tf.cast(image, tf.float32), [size, size],
                            method="bilinear", antialias=True)
    return tf.clip_by_value(image / 255.0, 0.0, 1.0)


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
    settings = from_dict(TransformConfig, custom_config)
    size, channels = settings.image_size, settings.channels
    encoded = tf.reshape(inputs["image_raw"], [-1])
    images = tf.map_fn(lambda item: decode_image(item, size, channels),
                       encoded,
                       fn_output_signature=tf.TensorSpec([size, size, channels],
                                                         tf.float32))
    label = tf.reshape(inputs[LABEL_KEY], [-1])
    tft.vocabulary(
        tf.strings.join([tf.strings.as_string(label, width=6, fill="0"),
                         tf.reshape(inputs["label_name"], [-1])],
                        separator=":"),
        vocab_filename=CLASS_INDEX_VOCABULARY)
    original_id = tf.strings.regex_replace(
        tf.reshape(inputs["image_id"], [-1]), AUG_SUFFIX_PATTERN, "")
    group = tf.strings.to_hash_bucket_fast(original_id, 2**62)
    return {IMAGE_KEY: images, LABEL_KEY: label, GROUP_KEY: group}


def class_names_from_vocabulary(tokens) -> list:
    """Ordered class names from the `class_index` vocabulary tokens."""
    pairs = sorted((int(index), name) for index, name in
                   (t.decode().split(":", 1) if isinstance(t, bytes)
                    else t.split(":", 1) for t in tokens))
    indices = [index for index, _ in pairs]
    if indices != list(range(len(pairs))):
        raise ValueError(
            f"The train split holds labels {indices}; every class needs at "
            "least one training image. Add images to the missing classes.")
    return [name for _, name in pairs]
