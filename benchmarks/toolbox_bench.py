"""The training toolbox on the 10,782-image grey set: the residual CNN (the
default), an ensemble of 3 residual CNNs, the vision transformer, and the
small CNN as reference.

Same split for all (benchmarks/toolbox_data.py: by original digit, 80/20,
no sibling leakage), same seeds (0, 3, 6), same epochs per model (an
ensemble trains each member for them), the Trainer's own code: its model
builders and `trainer_module.fit_one` / `average_members` (Adam, cosine
schedule, batch 32, the eval split scored after each epoch, as in a run).
An ensemble of seed s is what `--seed s --ensemble 3` trains: members
s, s+1, s+2; its member s is the single model of seed s.

Per model: eval accuracy, training seconds (fit time, members summed),
SavedModel size on disk (saved as the Trainer saves, without traces; the
Transform graph the pipeline adds to every model alike is left out), and
serving latency at batch 1: the median of `CALLS` calls of the reloaded
SavedModel's serving signature, in-process, one image per call, measured
after all training with the models' calls interleaved (`--latency-only`
measures them again from the saved models).

    python -m benchmarks.toolbox_bench [--work DIR] [--epochs 10]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np

from benchmarks.common import RESULTS, mean_std, write_results
from benchmarks.served_latency import CALLS, latencies, save_served
from benchmarks.toolbox_data import load_grey_split

SEEDS = (0, 3, 6)
ENSEMBLE = 3
BATCH = 32
SINGLES = ("small_cnn", "residual_cnn", "vit")


def _train_data(split, seed: int):
    import tensorflow as tf

    from imgpipe_components.train import datasets
    from imgpipe_components.train.trainer_module import TrainData

    def pairs(x, y):
        return tf.data.Dataset.from_tensor_slices((x, y)).cache()
    train = datasets.batches(pairs(split.x_train, split.y_train), BATCH,
                             training=True, seed=seed)
    evaluation = datasets.batches(pairs(split.x_eval, split.y_eval), BATCH,
                                  training=False, seed=seed)
    counts = np.bincount(split.y_train, minlength=10)
    return TrainData(train, evaluation, None, counts,
                     -(-len(split.y_train) // BATCH))


def measure_latencies(payload: dict, work: Path) -> dict:
    """Every run's latency, measured together once training is over."""
    split = load_grey_split(work / "grey")
    measured = latencies([r["saved_model"] for r in payload["runs"]],
                         split.x_eval[0])
    for run_, latency in zip(payload["runs"], measured):
        run_["latency_ms_batch1"] = latency
    return payload


def run(work: Path, epochs: int, seeds=SEEDS) -> dict:
    import tensorflow as tf

    from imgpipe_components.library_internals import \
        skip_tf_keras_in_autograph
    from imgpipe_components.train.settings import TrainConfig
    from imgpipe_components.train.trainer_module import (average_members,
                                                         fit_one,
                                                         member_configs)
    skip_tf_keras_in_autograph()
    split = load_grey_split(work / "grey")
    strategy = tf.distribute.get_strategy()
    logs = Path(tempfile.mkdtemp(prefix="toolbox-logs-"))
    trained: Dict[tuple, tuple] = {}

    def train(config: TrainConfig):
        key = (config.architecture, config.seed)
        if key not in trained:
            trained[key] = fit_one(config, strategy, _train_data(
                split, config.seed), split.x_train.shape[1:], 10,
                str(logs / f"{config.architecture}-{config.seed}"))
        return trained[key]

    runs: List[dict] = []
    for seed in seeds:
        for name in SINGLES + ("ensemble_3",):
            if name == "ensemble_3":
                config = TrainConfig(architecture="residual_cnn",
                                     ensemble=ENSEMBLE, epochs=epochs,
                                     seed=seed, batch_size=BATCH)
                members = member_configs(config)
                fitted = [train(member) for member in members]
                model, _, notes = average_members(
                    members, fitted, strategy,
                    _train_data(split, seed).evaluation)
                seconds = sum(m["training_seconds"] for m in notes["members"])
            else:
                model, _, notes = train(TrainConfig(
                    architecture=name, epochs=epochs, seed=seed,
                    batch_size=BATCH))
                seconds = notes["training_seconds"]
            predicted = np.argmax(model.predict(split.x_eval, verbose=0), -1)
            runs.append({
                "config": name, "seed": seed, "epochs": epochs,
                "eval_accuracy": float(np.mean(predicted == split.y_eval)),
                "training_seconds": seconds,
                "parameters": int(model.count_params()),
                "saved_model": str(work / "saved" / f"{name}-{seed}")})
            runs[-1]["saved_model_mb"] = save_served(
                model, split.x_train.shape[1:], Path(runs[-1]["saved_model"]))
            print(runs[-1], flush=True)
    return {"epochs": epochs, "seeds": list(seeds), "batch_size": BATCH,
            "train_images": int(len(split.y_train)),
            "eval_images": int(len(split.y_eval)),
            "train_originals": int(len(np.unique(split.groups_train))),
            "eval_originals": int(len(np.unique(split.groups_eval))),
            "runs": runs}


def summarise(runs: List[dict]) -> Dict[str, dict]:
    found: Dict[str, dict] = {}
    for run_ in runs:
        found.setdefault(run_["config"], {"runs": []})["runs"].append(run_)
    for name, entry in found.items():
        values = entry["runs"]
        entry.update({key: statistics.mean(r[key] for r in values) for key in
                      ("eval_accuracy", "training_seconds", "saved_model_mb",
                       "latency_ms_batch1", "parameters")})
        entry["accuracy_text"] = mean_std([r["eval_accuracy"]
                                           for r in values])
    return found


def verdicts(summary: Dict[str, dict], reference: str = "residual_cnn"
             ) -> List[str]:
    """Each option against the default, in accuracy and in time: an option
    that is not more accurate, or more accurate only at a cost in time
    the reference does not pay, is said to lose."""
    base = summary[reference]
    lines = []
    for name, entry in summary.items():
        if name == reference:
            continue
        gain = 100 * (entry["eval_accuracy"] - base["eval_accuracy"])
        ratio = entry["training_seconds"] / base["training_seconds"]
        latency = entry["latency_ms_batch1"] / base["latency_ms_batch1"]
        wins = gain > 0 and ratio <= 1
        verdict = ("wins" if wins else "loses on accuracy" if gain <= 0
                   else "more accurate but loses on accuracy per second")
        lines.append(
            f"- **{name} {verdict}** against {reference}: {gain:+.2f} points "
            f"of eval accuracy at {ratio:.2f}x its training time, "
            f"{entry['saved_model_mb'] / base['saved_model_mb']:.2f}x its "
            f"size, {latency:.2f}x its batch-1 latency.")
    return lines


def markdown(payload: dict) -> str:
    summary = summarise(payload["runs"])
    rows = "\n".join(
        f"| {name} | {e['accuracy_text']} | {e['training_seconds']:.0f} | "
        f"{e['parameters']:,.0f} | {e['saved_model_mb']:.2f} | "
        f"{e['latency_ms_batch1']:.2f} |" for name, e in summary.items())
    return (
        "# Training toolbox: ensemble and vision transformer vs the "
        "residual CNN\n\n{HEADER}"
        f"Grey set (benchmarks/grey_digits.py), split by original digit: "
        f"{payload['train_images']:,} train images ({payload['train_originals']}"
        f" originals) and {payload['eval_images']:,} eval images "
        f"({payload['eval_originals']} originals), no variant of an eval "
        f"digit in train. Seeds {', '.join(map(str, payload['seeds']))}; "
        f"{payload['epochs']} epochs per model (each ensemble member "
        f"included), batch {payload['batch_size']}, Adam with the cosine "
        "schedule; training seconds include the per-epoch eval pass, as in "
        "the Trainer. Latency: median of "
        f"{CALLS} batch-1 calls of the reloaded SavedModel's serving "
        "signature, in-process, without the Transform graph, all models "
        "interleaved after training. Load average (1, 5, 15 min) at the "
        f"end: {payload.get('load_average_1_5_15_min', 'not recorded')}.\n\n"
        "| config | eval accuracy (mean ± sd) | training s | parameters | "
        "SavedModel MB | latency ms (batch 1) |\n|---|---|---|---|---|---|\n"
        f"{rows}\n\n## Verdict\n\n" + "\n".join(verdicts(summary)) + "\n\n"
        "Every run: benchmarks/results/toolbox.json.\n"
        "Run: `python -m benchmarks.toolbox_bench`.\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "toolbox-bench")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    parser.add_argument("--latency-only", action="store_true",
                        help="Re-measure the latencies of the SavedModels "
                             "that results/toolbox.json lists, under --work.")
    args = parser.parse_args()
    if args.latency_only:
        payload = json.loads((RESULTS / "toolbox.json").read_text())
        for run_ in payload["runs"]:
            run_.setdefault("saved_model", str(
                args.work / "saved" / f"{run_['config']}-{run_['seed']}"))
        payload = {k: v for k, v in payload.items()
                   if k not in ("machine", "versions")}
    else:
        payload = run(args.work, args.epochs, tuple(args.seeds))
    payload = measure_latencies(payload, args.work)
    # Training seconds vary with other work on the machine: say how busy.
    payload["load_average_1_5_15_min"] = [round(x, 2)
                                          for x in os.getloadavg()]
    print(write_results("toolbox", payload, markdown(payload)))


if __name__ == "__main__":
    main()
