"""Self-supervised pretraining with 10 % of the labels, against training
from scratch on the same 10 %.

The 10,782-image grey set (`grey_digits.py`: 1,797 digits at 28x28, each
with 5 augmented variants) is split 80/20 by original image as in the
toolbox benchmark (`toolbox_data.py`: the same split, the same eval
images). Of the train originals, 10 % keep their labels; the images of the other 90 % are used without labels.
Per seed, both arms build the same architecture (TrainConfig's default,
residual_cnn) on the same pixels (the Transform's own `decode_image`) and
fine-tune for the same epochs on the same labelled images:

* scratch: random initialisation;
* pretrained: first the Pretrainer's rotation task on the unlabelled
  images (`pretrainer_module.pretext_model` / `pretext_batches`), then the
  backbone through the Model artifact's file (`warm_start.save_backbone`,
  `warm_start.load_backbone`), as in the pipeline.

Reported per arm: eval accuracy (mean ± sd over seeds), training seconds
(pretraining and fine-tuning apart), SavedModel size, and the median
latency of one image through the loaded SavedModel's signature, in
process.

    python -m benchmarks.pretrain_bench [--seeds 1 2 3] [--pretrain-epochs 3]
"""
from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import mean_std, write_results
from benchmarks.served_latency import CALLS, latencies, save_served
from benchmarks.toolbox_data import SPLIT_SEED, load_grey_split

IMAGE_SIZE = 28          # the grey set's own side, as the chooser picks it
LABELLED_FRACTION = 0.1


def labelled_part(train_groups: np.ndarray, seed: int) -> np.ndarray:
    """A mask over the train images: those of 10 % of the train originals."""
    originals = np.random.default_rng(seed + 1).permutation(
        np.unique(train_groups))
    keep = originals[:round(LABELLED_FRACTION * len(originals))]
    return np.isin(train_groups, keep)


def fine_tune(model, config, x, y) -> float:
    """The Trainer's optimiser and schedule; returns training seconds."""
    import tensorflow as tf
    from imgpipe_components.train import datasets, hardware
    steps = math.ceil(len(x) / config.batch_size)
    model.compile(optimizer=tf.keras.optimizers.Adam(
        hardware.learning_rate(config, steps)),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train = datasets.batches(tf.data.Dataset.from_tensor_slices((x, y)),
                             config.batch_size, training=True,
                             seed=config.seed)
    started = time.perf_counter()
    model.fit(train, epochs=config.epochs, verbose=0)
    return time.perf_counter() - started


def pretrain(config, x_unlabelled, image_shape, folder: str) -> float:
    """The Pretrainer's task on the unlabelled images; writes the backbone
    to `folder`; returns training seconds."""
    import tensorflow as tf
    from imgpipe_components.pretrain.pretrainer_module import (
        pretext_batches, pretext_model)
    from imgpipe_components.pretrain.rotation import ROTATIONS
    from imgpipe_components.train import warm_start
    steps = math.ceil(len(x_unlabelled) * ROTATIONS / config.batch_size)
    model = pretext_model(config, image_shape, steps)
    images = tf.data.Dataset.from_tensor_slices(x_unlabelled)
    started = time.perf_counter()
    history = model.fit(pretext_batches(images, config, training=True),
                        epochs=config.pretrain_epochs, verbose=0)
    seconds = time.perf_counter() - started
    warm_start.save_backbone(model, folder)
    print(f"  rotation accuracy {history.history['accuracy'][-1]:.4f}",
          flush=True)
    return seconds


def warm_up(split) -> None:
    """One untimed fit and save first: the process's first fit pays
    TensorFlow's one-off start-up, which would be charged to one arm."""
    import tensorflow as tf
    from imgpipe_components.train import models
    from imgpipe_components.train.settings import TrainConfig
    x_train, y_train = split.x_train[:256], split.y_train[:256]
    model = models.build("residual_cnn", x_train.shape[1:], 10)
    fine_tune(model, TrainConfig(epochs=1), x_train, y_train)
    tf.keras.backend.clear_session()


def run_seed(seed: int, split, pretrain_epochs: int, fine_tune_epochs: int,
             work: Path) -> list:
    import tensorflow as tf
    from imgpipe_components.train import models, warm_start
    from imgpipe_components.train.settings import TrainConfig
    x_train, y_train, x_eval, y_eval = (split.x_train, split.y_train,
                                        split.x_eval, split.y_eval)
    groups = split.groups_train
    labelled = labelled_part(groups, SPLIT_SEED)
    config = TrainConfig(seed=seed, epochs=fine_tune_epochs,
                         pretrain_epochs=pretrain_epochs)
    image_shape = x_train.shape[1:]
    results = []
    for arm in ("scratch", "pretrained"):
        tf.keras.backend.clear_session()
        tf.keras.utils.set_random_seed(seed)
        pretrain_s = 0.0
        model = models.build(config.architecture, image_shape, 10)
        if arm == "pretrained":
            backbone_dir = str(work / f"backbone-{seed}")
            pretrain_s = pretrain(config, x_train[~labelled], image_shape,
                                  backbone_dir)
            warm_start.load_backbone(model, backbone_dir)
        fine_tune_s = fine_tune(model, config, x_train[labelled],
                                y_train[labelled])
        _, accuracy = model.evaluate(x_eval, y_eval, verbose=0)
        folder = work / f"{arm}-{seed}"
        row = {"arm": arm, "seed": seed, "accuracy": float(accuracy),
               "pretrain_s": pretrain_s, "fine_tune_s": fine_tune_s,
               "saved_model": str(folder),
               "saved_model_mb": save_served(model, image_shape, folder)}
        print(row, flush=True)
        results.append(row)
    return results


def summarise(rows: list) -> dict:
    by_arm = {}
    for arm in ("scratch", "pretrained"):
        mine = [r for r in rows if r["arm"] == arm]
        by_arm[arm] = {
            "accuracy": [r["accuracy"] for r in mine],
            "pretrain_s": statistics.mean(r["pretrain_s"] for r in mine),
            "fine_tune_s": statistics.mean(r["fine_tune_s"] for r in mine),
            "saved_model_mb": statistics.mean(r["saved_model_mb"]
                                              for r in mine),
            "latency_ms": statistics.median(r["latency_ms"] for r in mine)}
        total = by_arm[arm]["pretrain_s"] + by_arm[arm]["fine_tune_s"]
        by_arm[arm]["total_s"] = total
        by_arm[arm]["accuracy_per_minute"] = (
            statistics.mean(by_arm[arm]["accuracy"]) / (total / 60))
    return by_arm


def markdown(by_arm: dict, rows: list, counts: dict, args, load: str) -> str:
    scratch, pretrained = by_arm["scratch"], by_arm["pretrained"]
    gain = (statistics.mean(pretrained["accuracy"])
            - statistics.mean(scratch["accuracy"]))
    slower = pretrained["total_s"] / scratch["total_s"]
    per_second_wins = (pretrained["accuracy_per_minute"]
                       > scratch["accuracy_per_minute"])
    verdict = (
        f"Pretraining {'gains' if gain > 0 else 'loses'} {abs(gain):.4f} "
        f"eval accuracy and takes {slower:.1f}x the training time. In "
        "accuracy per second pretraining "
        + ("wins." if per_second_wins else
           "loses, so the chooser never turns it on by itself."))
    lines = [
        "# Self-supervised pretraining with 10 % of the labels", "",
        "{HEADER}" + f"Load: {load}", "",
        f"Data: the 10,782-image grey set, split 80/20 by original image "
        f"(seed {SPLIT_SEED}): {counts['labelled']} labelled train images "
        f"(10 % of the train originals), {counts['unlabelled']} unlabelled, "
        f"{counts['eval']} eval images. {IMAGE_SIZE}x{IMAGE_SIZE} grey, the "
        "Transform's own decoding. residual_cnn (the default), "
        f"{args.fine_tune_epochs} fine-tune epochs, batch 32, cosine; "
        f"pretraining: {args.pretrain_epochs} epochs of rotation prediction "
        "(4 turns per image). Seeds: "
        + ", ".join(map(str, args.seeds)) + ".", "",
        "| arm | eval accuracy | pretrain s | fine-tune s | total s | "
        "accuracy per minute | SavedModel MB | batch-1 latency ms |",
        "|---|---|---|---|---|---|---|---|"]
    for arm, figures in by_arm.items():
        lines.append(
            f"| {arm} | {mean_std(figures['accuracy'])} | "
            f"{figures['pretrain_s']:.1f} | {figures['fine_tune_s']:.1f} | "
            f"{figures['total_s']:.1f} | "
            f"{figures['accuracy_per_minute']:.3f} | "
            f"{figures['saved_model_mb']:.2f} | "
            f"{figures['latency_ms']:.2f} |")
    lines += ["", "Every run:", "",
              "| arm | seed | eval accuracy | pretrain s | fine-tune s | "
              "SavedModel MB | batch-1 latency ms |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['arm']} | {r['seed']} | {r['accuracy']:.4f} | "
              f"{r['pretrain_s']:.1f} | {r['fine_tune_s']:.1f} | "
              f"{r['saved_model_mb']:.2f} | {r['latency_ms']:.2f} |"
              for r in rows]
    lines += ["", f"**Verdict.** {verdict}", "",
              "Size and latency are the same architecture's in both arms: "
              "pretraining changes the starting weights, not the model "
              "served. Latency: median of "
              f"{CALLS} calls of the loaded SavedModel's signature "
              "on one image's pixels, in process, every model in turn once "
              "training is over (benchmarks/served_latency.py, as in "
              "toolbox.md). Seconds are wall time on "
              "a machine shared with other work (the load above), so single "
              "runs vary by up to 2x; the ratio of the arms does not hinge "
              "on it.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    parser.add_argument("--fine-tune-epochs", type=int, default=15)
    parser.add_argument("--data", type=Path,
                        default=Path("output/bench/grey_digits"))
    args = parser.parse_args()
    import os
    import imgpipe_components  # noqa: F401  (the process set-up first)
    split = load_grey_split(args.data)
    labelled = labelled_part(split.groups_train, SPLIT_SEED)
    counts = {"labelled": int(labelled.sum()),
              "unlabelled": int((~labelled).sum()),
              "eval": len(split.y_eval)}
    print(counts, flush=True)
    load_before = os.getloadavg()
    warm_up(split)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for seed in args.seeds:
            rows += run_seed(seed, split, args.pretrain_epochs,
                             args.fine_tune_epochs, Path(work))
        # After training, every model in turn: load hits them alike.
        measured = latencies([row.pop("saved_model") for row in rows],
                             split.x_eval[0])
        for row, latency in zip(rows, measured):
            row["latency_ms"] = latency
    load = (f"1-minute load average {load_before[0]:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after (2 cores, shared)")
    by_arm = summarise(rows)
    path = write_results("pretrain", {
        "counts": counts, "seeds": args.seeds,
        "pretrain_epochs": args.pretrain_epochs,
        "fine_tune_epochs": args.fine_tune_epochs, "load": load,
        "runs": rows, "by_arm": by_arm},
        markdown(by_arm, rows, counts, args, load))
    print(path)


if __name__ == "__main__":
    main()
