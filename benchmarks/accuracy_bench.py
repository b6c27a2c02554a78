"""Accuracy per second: the default `imgpipe run` against plain scripts.

- a larger grey set (benchmarks/grey_digits.py: 10,782 images, 28x28):
  the default cold `imgpipe run` (a new process, fresh output folder) vs
  the seed tutorial's plain CNN script (benchmarks/seed_cnn.py) on the same
  images and the pipeline's own hash split, one run each per seed;
- the embedded digits: the default cold `imgpipe run` per seed, a fully
  cached re-run, and TFX's own MNIST example pipeline as shipped
  (benchmarks/tfx_mnist.py, the digits upscaled to 28x28), once.

Per run: wall seconds, peak RSS, eval accuracy, and from the per-epoch
history the training seconds each needed to reach the plain script's final
eval accuracy.

    python -m benchmarks.accuracy_bench [--seeds 3] [--reuse-tfx-mnist]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from benchmarks.common import RESULTS, write_results
from benchmarks.grey_digits import write_grey_digits
from benchmarks.pipeline_bench import IMGPIPE, measured

ACCURACY_LINE = re.compile(r"Eval accuracy: ([0-9.]+)")
BLESSED_LINE = re.compile(r"Model (blessed|not blessed)")
# The console wraps the advice paragraph; it ends where the report line is.
ADVICE = re.compile(r"^(Not served: .*?)(?=^Model report:|\Z)", re.M | re.S)


def advice_in(console_text: str) -> str:
    found = ADVICE.search(console_text)
    return " ".join(found.group(1).split()) if found else ""


def seconds_to_reach(elapsed: list, accuracies: list, target: float):
    """Training seconds at the first epoch whose eval accuracy >= target."""
    for seconds, accuracy in zip(elapsed, accuracies):
        if accuracy >= target - 1e-9:
            return round(seconds, 1)
    return None


def pipeline_run(data: Path, output: Path, seed: int, *options: str
                 ) -> dict:
    """A cold `imgpipe run` with the chooser's defaults (and `options`)."""
    result = measured([IMGPIPE, "run", "--data", str(data), "--output",
                       str(output), "--seed", str(seed), *options])
    history = json.loads(next((output / "pipeline_root" / "Trainer" /
                               "model_run").glob("*/history.json")).read_text())
    found = ACCURACY_LINE.search(result["stderr"] + result["stdout"])
    verdict = BLESSED_LINE.search(result["stderr"] + result["stdout"])
    return {"seed": seed, "wall_s": round(result["seconds"], 1),
            "blessed": bool(verdict) and verdict.group(1) == "blessed",
            "advice": advice_in(result["stderr"] + result["stdout"]),
            "peak_rss_mib": round(result["peak_rss_mib"]),
            "accuracy": float(found.group(1)) if found else
            history["val_accuracy"][-1],
            "settings": [line.strip() for line in
                         result["stderr_head"].splitlines()
                         if " = " in line and ":" in line],
            "epoch_elapsed_s": history["elapsed_seconds"],
            "epoch_eval_accuracy": history["val_accuracy"]}


def plain_run(data: Path, seed: int, *options: str) -> dict:
    """The seed tutorial's CNN script on the pipeline's split."""
    result = measured([sys.executable, "-m", "benchmarks.seed_cnn",
                       str(data), "--seed", str(seed), *options])
    plain = json.loads(result["stdout"].strip().splitlines()[-1])
    return {"seed": seed, "wall_s": round(result["seconds"], 1),
            "peak_rss_mib": round(result["peak_rss_mib"]),
            "accuracy": plain["accuracy"],
            "epoch_elapsed_s": plain["epoch_elapsed_s"],
            "epoch_eval_accuracy": plain["epoch_eval_accuracy"]}


def tfx_mnist_run(work: Path) -> dict:
    measured([sys.executable, "-m", "benchmarks.tfx_mnist", "write",
              str(work)])
    result = measured([sys.executable, "-m", "benchmarks.tfx_mnist", "run",
                       str(work)])
    found = json.loads(result["stdout"].strip().splitlines()[-1])
    return {"wall_s": round(result["seconds"], 1),
            "peak_rss_mib": round(result["peak_rss_mib"]),
            "accuracy": found["accuracy"],
            "beam_pipeline_args": found["beam_pipeline_args"]}


def earlier_tfx_mnist():
    """The TFX MNIST figure of the previous report, with its date: it does
    not depend on imgpipe's code, and takes ~4 minutes to measure again."""
    path = RESULTS / "accuracy.json"
    if not path.exists():
        return None
    earlier = json.loads(path.read_text())
    if not earlier.get("tfx_mnist"):
        return None
    return {**earlier["tfx_mnist"],
            "measured": earlier["tfx_mnist"].get(
                "measured", earlier["machine"]["date"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--reuse-tfx-mnist", action="store_true",
                        help="Take TFX's MNIST figure from the last report.")
    args = parser.parse_args()
    from imgpipe.digits import write_digits

    work = Path(tempfile.mkdtemp(prefix="accuracy-bench-"))
    grey = write_grey_digits(work / "grey")
    digits = write_digits(work / "digits")
    runs = []
    for seed in range(1, args.seeds + 1):
        plain = plain_run(grey, seed)
        pipeline = pipeline_run(grey, work / f"grey-{seed}", seed)
        digits_run = pipeline_run(digits, work / f"digits-{seed}", seed)
        for run in (plain, pipeline):
            run["fit_s_to_plain_accuracy"] = seconds_to_reach(
                run["epoch_elapsed_s"], run["epoch_eval_accuracy"],
                plain["accuracy"])
        runs.append({"seed": seed, "plain": plain, "pipeline": pipeline,
                     "digits": digits_run})
        print(json.dumps(runs[-1])[:400], flush=True)
    cached = measured([IMGPIPE, "run", "--data", str(digits), "--output",
                       str(work / "digits-1"), "--seed", "1"])
    mnist = (earlier_tfx_mnist() if args.reuse_tfx_mnist
             else tfx_mnist_run(work / "tfx-mnist"))
    from benchmarks.accuracy_report import report
    path = write_results("accuracy", {
        "grey_images": sum(1 for _ in grey.glob("*/*.png")), "runs": runs,
        "digits_cached_s": round(cached["seconds"], 1),
        "tfx_mnist": mnist}, report(runs, round(cached["seconds"], 1), mnist,
                                    sum(1 for _ in grey.glob("*/*.png"))))
    print(path.read_text())


if __name__ == "__main__":
    main()
