"""The seed tutorial's plain CNN script, on the pipeline's own split.

Conv32-Pool-Conv64-Pool-Flatten-Dense128-softmax (valid padding, as in the
Keras MNIST and CIFAR tutorials), the images resized to `--size` (28x28 for
the grey set; 8x8 digits would not survive two valid convolutions and
poolings; 32x32 colour with `--channels 3`, as CIFAR), 10 epochs, batch 32,
Adam at Keras' default rate. Classes are the sorted class folder names, as
the pipeline's; every PNG and JPEG file of a class folder counts. Train and eval images are chosen exactly as the pipeline's
ImageExampleGen chooses them: sha256 of the serialized `image_id` feature,
bucket mod 10, buckets 0-7 train. Prints one JSON line: wall time, eval
accuracy, and per epoch the seconds since fit began and the eval accuracy
(measured with validation_data, as the pipeline's Trainer does).

    python -m benchmarks.seed_cnn ROOT [--seed 1] [--size 28] [--channels 1]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

STARTED = time.perf_counter()


def is_train(image_id: str, tf) -> bool:
    """TFX's _PartitionFn with the pipeline's buckets (8 train, 2 eval)."""
    key = tf.train.Feature(bytes_list=tf.train.BytesList(
        value=[image_id.encode()])).SerializeToString(deterministic=True)
    return int(hashlib.sha256(key).hexdigest(), 16) % 10 < 8


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def load(root: Path, size: int, channels: int, tf):
    import numpy as np
    from PIL import Image
    classes = sorted(p.name for p in root.iterdir()
                     if p.is_dir() and not p.name.startswith("."))
    paths = sorted(p for p in root.glob("*/*")
                   if p.suffix.lower() in IMAGE_SUFFIXES)
    mode = "L" if channels == 1 else "RGB"
    images = np.stack([np.asarray(Image.open(p).convert(mode).resize(
        (size, size), Image.BILINEAR), np.float32) / 255.0
        for p in paths]).reshape(len(paths), size, size, channels)
    labels = np.array([classes.index(p.parent.name) for p in paths])
    train = np.array([is_train(f"{p.parent.name}/{p.name}", tf)
                      for p in paths])
    return images[train], labels[train], images[~train], labels[~train]


def seed_cnn(tf, input_shape, classes: int):
    layers = tf.keras.layers
    return tf.keras.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(128, activation="relu"),
        layers.Dense(classes, activation="softmax")])


def elapsed_callback(tf):
    """Seconds since fit began at each epoch's end (validation included),
    as the pipeline Trainer's `elapsed_seconds`; built after TensorFlow's
    import, which this script times."""
    class Elapsed(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started, self.seconds = time.perf_counter(), []

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)
    return Elapsed()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--channels", type=int, default=1, choices=(1, 3))
    args = parser.parse_args()
    import tensorflow as tf

    from imgpipe_components.library_internals import \
        skip_tf_keras_in_autograph
    skip_tf_keras_in_autograph()   # the tracing fix the Trainer gets too
    x_train, y_train, x_eval, y_eval = load(args.root, args.size,
                                            args.channels, tf)
    tf.keras.utils.set_random_seed(args.seed)
    model = seed_cnn(tf, x_train.shape[1:], int(max(y_train.max(),
                                                    y_eval.max())) + 1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    elapsed = elapsed_callback(tf)
    history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
                        validation_data=(x_eval, y_eval), verbose=0,
                        callbacks=[elapsed])
    print(json.dumps({
        "accuracy": float(history.history["val_accuracy"][-1]),
        "epoch_elapsed_s": elapsed.seconds,
        "epoch_eval_accuracy": [float(a) for a in
                                history.history["val_accuracy"]],
        "train_images": int(len(y_train)), "eval_images": int(len(y_eval)),
        "script_seconds": time.perf_counter() - STARTED}))


if __name__ == "__main__":
    main()
