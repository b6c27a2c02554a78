"""A training run's record in its run folder: history.json and the
training curves as a picture (accuracy and loss per epoch, train vs eval).
The Trainer and the Pretrainer write theirs alike."""
from __future__ import annotations

import json
import os
from typing import Dict, List

HISTORY_FILE = "history.json"
CURVES_FILE = "training_curves.png"


def as_floats(history: Dict[str, list]) -> Dict[str, List[float]]:
    """Keras' History values (numpy scalars) as plain floats for JSON."""
    return {k: [float(v) for v in values] for k, values in history.items()}


def write_history(run_dir: str, history: Dict[str, list],
                  notes: dict) -> None:
    """history.json (the per-epoch figures and `notes`) and the curves."""
    import tensorflow as tf    # tf.io.gfile: the run folder may be gs://

    history = as_floats(history)
    tf.io.gfile.makedirs(run_dir)
    with tf.io.gfile.GFile(os.path.join(run_dir, HISTORY_FILE), "w") as f:
        json.dump({**history, **notes}, f, indent=2)
    plot_training_curves(history, os.path.join(run_dir, CURVES_FILE))


def plot_training_curves(history: Dict[str, List[float]], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("accuracy", "loss")):
        axis.plot(epochs, history[metric], marker="o", label="train")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], marker="o",
                      label="eval")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
