"""TensorFlow Lite exports of a pushed model, each gated on its accuracy.

float32 (plain conversion), float16 (weights in half precision) and int8
(post-training quantisation of weights and activations, calibrated on a
representative sample of the train split; the interface stays float32 so
the same preprocessed input feeds every variant). Each is scored on the
eval split by the TFLite interpreter next to the SavedModel; a variant that
loses more than `max_accuracy_drop` is not published.

The TFLite models take the model input (the tf.Transform output: a
[1, size, size, channels] float32 image in [0, 1]); `edge_model.json` beside
them records that contract. On the command line, `imgpipe predict` builds
that input with `components/imgpipe_components/transform/preprocessing.py:decode_image`, the
function the Transform graph itself runs, so there is no skew.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from imgpipe_components import class_names
from imgpipe_components.train import models
from imgpipe_components.transform.preprocessing import IMAGE_KEY

FORMATS = ("float32", "float16", "int8")
METADATA = "edge_model.json"
REPORT = "edge_report.json"


class EdgeExportError(ValueError):
    """An export cannot be made; the message says why and what to do."""


@dataclasses.dataclass
class Variant:
    format: str
    size_bytes: int
    accuracy: float
    accuracy_drop: float
    published: bool
    reason: str
    seconds: float


def read_split(examples_uri: Path, split: str) -> Tuple[List[bytes], np.ndarray]:
    """Encoded images and labels of one split of ImageExampleGen's output."""
    paths = sorted(str(p) for p in Path(examples_uri).glob(f"Split-{split}/*"))
    if not paths:
        raise EdgeExportError(f"No Split-{split} records under "
                              f"{examples_uri}: pass the ImageExampleGen "
                              "examples folder of the run that trained the "
                              "model.")
    images, labels = [], []
    for record in tf.data.TFRecordDataset(paths, compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        images.append(feature["image_raw"].bytes_list.value[0])
        labels.append(feature["label"].int64_list.value[0])
    return images, np.array(labels)


def preprocess(preprocess_fn, images: Sequence[bytes],
               batch: int = 256) -> np.ndarray:
    """The model input for each image, through the version's own graph."""
    parts = [preprocess_fn(image_bytes=tf.constant(list(images[i:i + batch])))
             [IMAGE_KEY].numpy() for i in range(0, len(images), batch)]
    return np.concatenate(parts)


def convert(model: tf.keras.Model, fmt: str,
            representative: np.ndarray) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if fmt == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif fmt == "int8":
        def samples() -> Iterator[List[np.ndarray]]:
            for image in representative:
                yield [image[np.newaxis].astype(np.float32)]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = samples
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif fmt != "float32":
        raise EdgeExportError(f"Unknown edge format {fmt!r}; use one of "
                              f"{', '.join(FORMATS)}.")
    return converter.convert()


def tflite_classifier(model_bytes: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """One interpreter, built once: images [n, h, w, c] -> probabilities."""
    interpreter = tf.lite.Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]

    def classify(pixels: np.ndarray) -> np.ndarray:
        rows = []
        for image in pixels:
            interpreter.set_tensor(inp, image[np.newaxis].astype(np.float32))
            interpreter.invoke()
            rows.append(interpreter.get_tensor(out)[0].copy())
        return np.stack(rows)
    return classify


def export_version(version_dir: Path, examples_uri: Path, output: Path,
                   formats: Sequence[str] = FORMATS,
                   max_accuracy_drop: float = 0.01,
                   representative_images: int = 200) -> Dict[str, object]:
    """Writes the published .tflite files, edge_model.json and
    edge_report.json into `output`; returns the report."""
    version_dir = Path(version_dir)
    if not (version_dir / "saved_model.pb").exists():
        raise EdgeExportError(f"No SavedModel in {version_dir}.")
    loaded = tf.saved_model.load(str(version_dir))
    if "serving_preprocess" not in loaded.signatures:
        raise EdgeExportError(f"{version_dir} has no serving_preprocess "
                              "signature: re-run the pipeline to push a "
                              "version that has it.")
    model = models.load_keras_model(str(version_dir))
    preprocess_fn = loaded.signatures["serving_preprocess"]
    train_images, _ = read_split(examples_uri, "train")
    eval_images, eval_labels = read_split(examples_uri, "eval")
    # Every k-th train image: deterministic, spread over the classes.
    step = max(1, len(train_images) // representative_images)
    representative = preprocess(preprocess_fn, train_images[::step])
    eval_pixels = preprocess(preprocess_fn, eval_images)
    reference = float(np.mean(np.argmax(
        model.predict(eval_pixels, verbose=0), axis=-1) == eval_labels))

    output.mkdir(parents=True, exist_ok=True)
    variants = []
    for fmt in formats:
        started = time.perf_counter()
        content = convert(model, fmt, representative)
        accuracy = float(np.mean(np.argmax(tflite_classifier(content)(
            eval_pixels), axis=-1) == eval_labels))
        drop = reference - accuracy
        published = drop <= max_accuracy_drop + 1e-12
        if published:
            (output / f"model_{fmt}.tflite").write_bytes(content)
        variants.append(Variant(
            fmt, len(content), accuracy, drop, published,
            "" if published else f"accuracy drop {drop:.4f} > allowed "
                                 f"{max_accuracy_drop:.4f}",
            time.perf_counter() - started))
    names = class_names.from_text((version_dir / "assets.extra" /
                                   class_names.MODEL_FILE).read_text())
    size, _, channels = model.input_shape[1:]
    (output / METADATA).write_text(json.dumps({
        "input": {"shape": [1, size, size, channels], "dtype": "float32",
                  "range": [0.0, 1.0], "resize": "bilinear, antialiased",
                  "channels": channels},
        "class_names": names,
        "source_version": str(version_dir)}, indent=2))
    report = {"saved_model_accuracy": reference,
              "eval_images": int(len(eval_labels)),
              "representative_images": int(len(representative)),
              "max_accuracy_drop": max_accuracy_drop,
              "variants": [dataclasses.asdict(v) for v in variants]}
    (output / REPORT).write_text(json.dumps(report, indent=2))
    return report
