"""What a benchmark reports of a trained model as served: its SavedModel's
size and its batch-1 latency, measured the same way for every benchmark
that compares models (toolbox_bench, pretrain_bench)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import List

import numpy as np

CALLS = 200


def save_served(model, image_shape: tuple, folder: Path) -> float:
    """Saves as the Trainer does (no traces; a serving signature on the
    model input); returns the size on disk in MB."""
    import tensorflow as tf

    serving = tf.function(lambda image: {"probabilities": model(image)},
                          input_signature=[tf.TensorSpec(
                              [None, *image_shape], tf.float32)])
    model.save(str(folder), save_format="tf", save_traces=False,
               signatures={"serving_default":
                           serving.get_concrete_function()})
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file()) / 2**20


def latencies(folders: List[str], image: np.ndarray) -> List[float]:
    """Median ms of `CALLS` batch-1 calls of each SavedModel's serving
    signature, reloaded. The calls are interleaved (one call of each model
    per round), so a change in the machine's load hits every model alike."""
    import tensorflow as tf

    served = [tf.saved_model.load(folder).signatures["serving_default"]
              for folder in folders]
    # By keyword, as a model server calls a signature: a positional call
    # takes TensorFlow's slower argument-binding path, several ms per call
    # on these machines, which would swamp a small model's own time.
    inputs = [{name: tf.constant(image[np.newaxis])}
              for serve in served
              for name in serve.structured_input_signature[1]]
    for serve, feed in zip(served, inputs):
        for _ in range(10):
            serve(**feed)
    times: List[List[float]] = [[] for _ in served]
    for _ in range(CALLS):
        for serve, feed, found in zip(served, inputs, times):
            started = time.perf_counter()
            serve(**feed)
            found.append(time.perf_counter() - started)
    return [1000 * statistics.median(found) for found in times]
