"""Default model vs scikit-learn's SVC(gamma=0.001) on the pipeline's split.

Runs the pipeline once on the embedded digits (for its deterministic split
and its Transform output), then trains the default Trainer (`run_fn`, the
pipeline's own code) with several seeds, and the classical baseline on the
same train images, both scored on the same eval images.

    python -m benchmarks.quality_bench [--seeds 5]
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import chosen_config, mean_std, write_results


def split_pixels(examples_uri: str, split: str):
    """8x8 digits back on scikit-learn's 0..16 scale, and labels."""
    from PIL import Image

    from imgpipe_components.edge_export.export import read_split
    images, labels = read_split(Path(examples_uri), split)
    pixels = [np.asarray(Image.open(io.BytesIO(data)), np.float64).reshape(-1)
              * 16.0 / 255.0 for data in images]
    return np.array(pixels), labels


def svc_accuracy(examples_uri: str) -> float:
    from sklearn.svm import SVC
    x_train, y_train = split_pixels(examples_uri, "train")
    x_eval, y_eval = split_pixels(examples_uri, "eval")
    return float(SVC(gamma=0.001).fit(x_train, y_train).score(x_eval, y_eval))


def trainer_accuracy(node_outputs: dict, config, seed: int) -> dict:
    """The pipeline's run_fn with another seed; eval accuracy at the end."""
    import dataclasses

    from tfx.components.trainer.fn_args_utils import FnArgs

    from imgpipe_components.train.trainer_module import run_fn
    examples = node_outputs["Augment"]["augmented_examples"][0].uri
    work = Path(tempfile.mkdtemp(prefix="quality-"))
    custom = {**dataclasses.asdict(config.train), "seed": seed}   # as sent
    run_fn(FnArgs(
        train_files=[f"{examples}/Split-train/*"],
        eval_files=[f"{examples}/Split-eval/*"],
        transform_output=node_outputs["Transform"]["transform_graph"][0].uri,
        serving_model_dir=str(work / "serving"),
        model_run_dir=str(work / "run"), custom_config=custom))
    history = json.loads((work / "run" / "history.json").read_text())
    return {"seed": seed, "eval_accuracy": history["val_accuracy"][-1],
            "epoch_seconds": statistics.median(history["epoch_seconds"]),
            "images_per_second": statistics.median(
                history["images_per_second"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--output", type=Path,
                        default=Path(tempfile.mkdtemp(prefix="quality-run-")))
    args = parser.parse_args()

    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline
    from imgpipe.digits import write_digits
    digits = write_digits(args.output / "digits")
    config = chosen_config(digits)   # what `imgpipe run` chooses here
    summary = run_pipeline(config, LocalLayout(digits, args.output))
    outputs = {n.node_id: n.outputs for n in summary.nodes}
    examples = outputs["ImageExampleGen"]["examples"][0].uri

    svc = svc_accuracy(examples)
    runs = [trainer_accuracy(outputs, config, seed)
            for seed in range(1, args.seeds + 1)]
    accuracies = [r["eval_accuracy"] for r in runs]
    rows = "\n".join(f"| {r['seed']} | {r['eval_accuracy']:.4f} | "
                     f"{r['epoch_seconds']:.2f} | {r['images_per_second']:.0f} |"
                     for r in runs)
    markdown = f"""# Quality: default model vs SVC(gamma=0.001)

{{HEADER}}Data: the embedded digits, the pipeline's own hash split
({len(split_pixels(examples, 'eval')[1])} eval images). Default config:
{config.train.architecture}, {config.train.epochs} epochs, batch
{config.train.batch_size}, {config.train.lr_schedule} learning rate,
{config.augment.copies} offline augmented copy per train image,
{config.transform.image_size}x{config.transform.image_size} input.

| model | eval accuracy |
|---|---|
| default pipeline model, {len(runs)} seeds (mean ± std) | {mean_std(accuracies)} |
| SVC(gamma=0.001) on raw 0..16 pixels, same split | {svc:.4f} (deterministic) |
| pipeline run's own model (seed {config.train.seed}, TFMA) | {summary.accuracy:.4f} |

Default model {'meets' if statistics.mean(accuracies) >= svc else 'does NOT meet'}
the target (mean >= SVC).

| seed | eval accuracy | median s/epoch | median train images/s |
|---|---|---|---|
{rows}
"""
    path = write_results("quality", {"svc_accuracy": svc, "runs": runs,
                                     "pipeline_accuracy": summary.accuracy},
                         markdown)
    print(path.read_text())


if __name__ == "__main__":
    main()
