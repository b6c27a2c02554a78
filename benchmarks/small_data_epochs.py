"""How few epochs the small-data default needs: the evidence behind
`SMALL_DATA_PASSES` in pipelines/imgpipe/auto_settings.py.

Runs the pipeline once per augmentation setting on the embedded digits (for
its split and its Transform output), then trains the pipeline's own Trainer
(`run_fn`) for each epoch count with several seeds, scored on the eval
split. The default must stay exact on the digits (1.0000 for every seed).

    python -m benchmarks.small_data_epochs [--seeds 5]
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import write_results

# (augmented copies per train image, epochs, batch size)
# 15 epochs with one copy, the earlier default, is in quality.md (5 of 5).
VARIANTS = ((1, 6, 32), (1, 8, 32), (1, 10, 64), (0, 10, 32))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    from benchmarks.quality_bench import trainer_accuracy
    from imgpipe.config import (AugmentConfig, PipelineConfig, TrainConfig,
                                TransformConfig)
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline
    from imgpipe.digits import DIGITS_IMAGE_SIZE, write_digits

    work = Path(tempfile.mkdtemp(prefix="small-data-epochs-"))
    digits = write_digits(work / "digits")
    outputs = {}
    for copies in sorted({copies for copies, _, _ in VARIANTS}):
        # One epoch is enough here: only the data outputs are reused.
        base = PipelineConfig(
            transform=TransformConfig(image_size=DIGITS_IMAGE_SIZE),
            augment=AugmentConfig(copies=copies), train=TrainConfig(epochs=1))
        summary = run_pipeline(base, LocalLayout(digits, work / f"c{copies}"))
        outputs[copies] = (base, {n.node_id: n.outputs for n in summary.nodes})

    rows = []
    for copies, epochs, batch in VARIANTS:
        base, node_outputs = outputs[copies]
        config = dataclasses.replace(base, train=TrainConfig(
            epochs=epochs, batch_size=batch))
        runs = [trainer_accuracy(node_outputs, config, seed)
                for seed in range(1, args.seeds + 1)]
        accuracies = [run["eval_accuracy"] for run in runs]
        rows.append({"copies": copies, "epochs": epochs, "batch_size": batch,
                     "accuracies": accuracies,
                     "exact_seeds": sum(a >= 1.0 - 1e-9 for a in accuracies),
                     "median_epoch_s": statistics.median(
                         run["epoch_seconds"] for run in runs)})
        print(rows[-1], flush=True)

    table = "\n".join(
        f"| {r['copies']} | {r['epochs']} | {r['batch_size']} | "
        f"{r['exact_seeds']} of {len(r['accuracies'])} | "
        f"{min(r['accuracies']):.4f} | {r['median_epoch_s']:.2f} | "
        f"{r['median_epoch_s'] * r['epochs']:.1f} |" for r in rows)
    markdown = f"""# Small data: epochs the default needs on the digits

{{HEADER}}The pipeline's own Trainer on its own split of the embedded digits
(356 eval images), residual CNN, 16x16 input, cosine learning rate,
{args.seeds} seeds per row. "fit s" is the median epoch time times the epochs
(the first epoch also traces the model: add about 3 s).

| copies | epochs | batch | exact seeds | worst eval accuracy | median s/epoch | fit s |
|---|---|---|---|---|---|---|
{table}

The default on the digits is the cheapest row that is exact for every seed
(pipelines/imgpipe/auto_settings.py: `SMALL_DATA_PASSES`).
"""
    path = write_results("small_data_epochs", {"runs": rows}, markdown)
    print(path.read_text())


if __name__ == "__main__":
    main()
