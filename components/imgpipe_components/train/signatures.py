"""Serving signatures: the tf.Transform graph in front of the model.

- `serving_default`: encoded image bytes (`{"b64": ...}` over REST).
- `serving_pixels`: a float tensor of pixel values in [0, 255], any size; it
  is PNG-encoded in the graph and goes through exactly the same Transform
  path as bytes do.
- `serving_examples`: serialized raw tf.Examples, for TFMA.
- `serving_preprocess`: encoded image bytes to the model's input tensor
  (the Transform graph alone), for explanations and edge exports that must
  see exactly what the model sees.
All but the last return class probabilities; the first two also the class
names.
"""
from __future__ import annotations

from typing import Dict, List

import tensorflow as tf
import tensorflow_transform as tft

from imgpipe_components.transform.preprocessing import IMAGE_KEY


def build_signatures(model: tf.keras.Model, transform: tft.TFTransformOutput,
                     class_names: List[str]) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    model.tft_layer = transform.transform_features_layer()
    model.class_names = tf.constant(class_names)
    raw_spec = transform.raw_feature_spec()
    image_raw_shape = raw_spec["image_raw"].shape  # [] or [1] per schema

    def predict_from_bytes(image_bytes: tf.Tensor) -> Dict[str, tf.Tensor]:
        raw = tf.reshape(image_bytes, [-1, *image_raw_shape])
        probabilities = model(model.tft_layer({"image_raw": raw})[IMAGE_KEY])
        batch = tf.shape(probabilities)[0]
        return {
            "probabilities": probabilities,
            "classes": tf.tile(model.class_names[tf.newaxis], [batch, 1]),
            "predicted_class": tf.gather(model.class_names,
                                         tf.argmax(probabilities, axis=-1)),
        }

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="image_bytes")])
    def serve_bytes(image_bytes):
        return predict_from_bytes(image_bytes)

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, None, None], tf.float32, name="pixels")])
    def serve_pixels(pixels):
        as_uint8 = tf.cast(tf.clip_by_value(tf.round(pixels), 0, 255), tf.uint8)
        encoded = tf.map_fn(tf.io.encode_png, as_uint8,
                            fn_output_signature=tf.string)
        return predict_from_bytes(encoded)

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        spec = {k: v for k, v in raw_spec.items() if k == "image_raw"}
        features = tf.io.parse_example(serialized, spec)
        transformed = model.tft_layer(features)
        return {"probabilities": model(transformed[IMAGE_KEY])}

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="image_bytes")])
    def preprocess(image_bytes):
        raw = tf.reshape(image_bytes, [-1, *image_raw_shape])
        return {IMAGE_KEY: model.tft_layer({"image_raw": raw})[IMAGE_KEY]}

    return {
        "serving_default": serve_bytes.get_concrete_function(),
        "serving_preprocess": preprocess.get_concrete_function(),
        "serving_pixels": serve_pixels.get_concrete_function(),
        "serving_examples": serve_examples.get_concrete_function(),
    }


