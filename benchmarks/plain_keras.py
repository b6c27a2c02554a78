"""The floor: the same model, epochs and image count, no pipeline.

Loads the digits PNGs with PIL into NumPy, resizes to the input size
`imgpipe run` chooses, holds out 20 %, repeats each train image once per
augmented copy the chooser asks for (the pipeline trains on each image plus
its copies), and trains the model `imgpipe run` chooses with the same
optimiser, schedule, epochs and batch size (benchmarks.common.chosen_config).

    python -m benchmarks.plain_keras DIGITS_DIR
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path



def main(root: Path) -> None:
    started = time.perf_counter()
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    from benchmarks.common import chosen_config
    from imgpipe_components.library_internals import skip_tf_keras_in_autograph
    from imgpipe_components.train import models

    skip_tf_keras_in_autograph()
    config = chosen_config(root)
    train, size = config.train, config.transform.image_size
    paths = sorted(root.glob("*/*.png"))
    images = np.stack([np.asarray(Image.open(p), np.float32) for p in paths])
    labels = np.array([int(p.parent.name) for p in paths])
    images = tf.image.resize(images[..., None] / 255.0, [size, size]).numpy()
    order = np.random.default_rng(train.seed).permutation(len(labels))
    held_out = len(labels) // 5
    eval_idx, train_idx = order[:held_out], order[held_out:]
    x_train = np.concatenate([images[train_idx]] * (1 + config.augment.copies))
    y_train = np.concatenate([labels[train_idx]] * (1 + config.augment.copies))

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
