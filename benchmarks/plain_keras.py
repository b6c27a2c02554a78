"""The floor: the same model, epochs and image count, no pipeline.

Loads the digits PNGs with PIL into NumPy, resizes to the pipeline's input
size, holds out 20 %, duplicates the train images once (the pipeline trains
on each image plus one augmented copy), and trains the default model
with the same architecture (the pipeline's default), optimiser, schedule,
epochs and batch size, at the embedded digits' input size.

    python -m benchmarks.plain_keras DIGITS_DIR
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def main(root: Path) -> None:
    started = time.perf_counter()
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    from imgpipe.modules.train import models
    from imgpipe.modules.train.autograph_rules import skip_tf_keras
    from imgpipe.modules.train.settings import TrainConfig
    from imgpipe.tools.digits import DIGITS_IMAGE_SIZE

    skip_tf_keras()
    train = TrainConfig()
    paths = sorted(root.glob("*/*.png"))
    images = np.stack([np.asarray(Image.open(p), np.float32) for p in paths])
    labels = np.array([int(p.parent.name) for p in paths])
    images = tf.image.resize(images[..., None] / 255.0,
                             [DIGITS_IMAGE_SIZE, DIGITS_IMAGE_SIZE]).numpy()
    order = np.random.default_rng(train.seed).permutation(len(labels))
    held_out = len(labels) // 5
    eval_idx, train_idx = order[:held_out], order[held_out:]
    x_train = np.concatenate([images[train_idx]] * 2)
    y_train = np.concatenate([labels[train_idx]] * 2)

    tf.keras.utils.set_random_seed(train.seed)
    model = models.build(train.architecture, images.shape[1:], 10)
    steps = -(-len(y_train) // train.batch_size)
    model.compile(optimizer=tf.keras.optimizers.Adam(
        tf.keras.optimizers.schedules.CosineDecay(
            train.learning_rate, steps * train.epochs)),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit_started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=train.batch_size,
              epochs=train.epochs, verbose=0, shuffle=True)
    fit_seconds = time.perf_counter() - fit_started
    _, accuracy = model.evaluate(images[eval_idx], labels[eval_idx], verbose=0)
    print(json.dumps({"accuracy": accuracy, "fit_seconds": fit_seconds,
                      "train_images": int(len(y_train)),
                      "script_seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
