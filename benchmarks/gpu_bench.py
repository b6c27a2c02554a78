"""Training throughput on CIFAR-10-shaped data, on the GPUs when present.

Trains the pipeline's default architecture with the Trainer's own strategy
and precision code (`components/imgpipe_components/train/hardware.py`: MirroredStrategy over
every GPU, mixed_float16) on 32x32x3 images in 10 classes: the real
CIFAR-10 training batches when `--cifar DIR` points at
`cifar-10-batches-py`, otherwise synthetic images. Reports images per
second per epoch (the first epoch, which traces and warms up, is left out),
with mixed precision on and off. Without a GPU it measures the CPU in
float32 only, as the reference, and says so.

    python -m benchmarks.gpu_bench [--cifar DIR] [--epochs 4]
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Optional

import numpy as np

from benchmarks.common import write_results


def cifar_or_synthetic(cifar: Optional[Path], count: int):
    if cifar is not None:   # through the product's restricted unpickler
        from imgpipe_components.image_example_gen import cifar as reader
        images, labels = [], []
        for path in sorted(cifar.glob("data_batch_*")):
            pixels, batch_labels = reader.pixels_and_labels(
                reader.load(path.read_bytes(), path.name), path.name)
            images.append(pixels)
            labels += batch_labels
        return (np.concatenate(images)[:count], np.array(labels)[:count],
                "CIFAR-10")
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, count), "synthetic")


def throughput(images, labels, mixed_precision: bool, epochs: int,
               batch_size: int) -> dict:
    import tensorflow as tf

    from imgpipe_components.train import hardware, models
    from imgpipe_components.train.trainer_module import ImagesPerSecond
    from imgpipe_components.train.settings import TrainConfig

    tf.keras.mixed_precision.set_global_policy("float32")
    strategy = hardware.strategy_for_devices(mixed_precision)
    global_batch = batch_size * strategy.num_replicas_in_sync
    data = (tf.data.Dataset.from_tensor_slices(
        (images.astype(np.float32) / 255.0, labels))
        .batch(global_batch).cache().prefetch(tf.data.AUTOTUNE))
    with strategy.scope():
        model = models.build(TrainConfig().architecture, images.shape[1:], 10)
        model.compile(optimizer="adam", metrics=["accuracy"],
                      loss="sparse_categorical_crossentropy")
    history = model.fit(data, epochs=epochs, verbose=2,
                        callbacks=[ImagesPerSecond(len(labels))]).history
    rates = history["images_per_second"][1:]
    return {"mixed_precision": mixed_precision,
            "replicas": strategy.num_replicas_in_sync,
            "global_batch": global_batch,
            "images_per_second": statistics.median(rates),
            "per_epoch": rates}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cifar", type=Path)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    # A CPU epoch over 50,000 images takes minutes; 5,000 measure the rate.
    images, labels, source = cifar_or_synthetic(
        args.cifar, 50_000 if gpus else 5_000)
    runs = ([throughput(images, labels, True, args.epochs, args.batch_size),
             throughput(images, labels, False, args.epochs, args.batch_size)]
            if gpus else
            [throughput(images, labels, False, args.epochs, args.batch_size)])
    devices = (", ".join(tf.config.experimental.get_device_details(g).get(
        "device_name", g.name) for g in gpus) if gpus else "none (CPU only)")
    rows = "\n".join(
        f"| {'mixed_float16' if r['mixed_precision'] else 'float32'} | "
        f"{r['replicas']} | {r['global_batch']} | "
        f"{r['images_per_second']:.0f} | "
        f"{', '.join(f'{x:.0f}' for x in r['per_epoch'])} |" for r in runs)
    note = ("" if gpus else
            "No GPU on this machine: the row below is the CPU in float32, "
            "for scale. Run `python -m benchmarks.gpu_bench` on a GPU node "
            "for the mixed-precision figures.\n\n")
    markdown = f"""# Training throughput, CIFAR-10-shaped data

{{HEADER}}GPUs: {devices}. Data: {source}, {len(labels)} images of 32x32x3,
10 classes. Model: the pipeline's default architecture, the Trainer's
strategy and precision code. Images per second per epoch after the first.

{note}| precision | replicas | global batch | images/s (median) | per epoch |
|---|---|---|---|---|
{rows}
"""
    path = write_results("gpu", {"gpus": devices, "data": source,
                                 "runs": runs}, markdown)
    print(path.read_text())


if __name__ == "__main__":
    main()
