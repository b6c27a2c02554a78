"""The Markdown report of benchmarks/accuracy_bench.py."""
from __future__ import annotations

import statistics
from typing import List, Optional


def _mean(values: List[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def _fmt(value, digits=1) -> str:
    return "not reached" if value is None else f"{value:.{digits}f}"


def verdicts(runs: list, cached_s: float, mnist: Optional[dict]) -> dict:
    plain_wall = _mean([r["plain"]["wall_s"] for r in runs])
    pipe_wall = _mean([r["pipeline"]["wall_s"] for r in runs])
    digits_wall = _mean([r["digits"]["wall_s"] for r in runs])
    return {
        "wall_ratio": pipe_wall / plain_wall,
        "plain_accuracy": _mean([r["plain"]["accuracy"] for r in runs]),
        "pipeline_accuracy": _mean([r["pipeline"]["accuracy"] for r in runs]),
        "digits_accuracy": [r["digits"]["accuracy"] for r in runs],
        "digits_wall_s": digits_wall, "cached_s": cached_s,
        "mnist_ratio": digits_wall / mnist["wall_s"] if mnist else None}


def report(runs: list, cached_s: float, mnist: Optional[dict],
           grey_images: int) -> str:
    v = verdicts(runs, cached_s, mnist)
    rows = "\n".join(
        f"| {r['seed']} | {name} | {r[key]['wall_s']:.1f} | "
        f"{r[key]['accuracy']:.4f} | "
        f"{_fmt(r[key].get('fit_s_to_plain_accuracy'))} | "
        f"{r[key]['epoch_elapsed_s'][-1]:.1f} | "
        f"{len(r[key]['epoch_elapsed_s'])} | {r[key]['peak_rss_mib']} |"
        for r in runs for key, name in (("plain", "plain seed CNN script"),
                                        ("pipeline", "`imgpipe run`, cold")))
    digits_rows = "\n".join(
        f"| {r['seed']} | {r['digits']['wall_s']:.1f} | "
        f"{r['digits']['accuracy']:.4f} | {r['digits']['peak_rss_mib']} |"
        for r in runs)
    settings = "\n".join(f"- {line}" for line in runs[0]["pipeline"]
                         ["settings"]) or "- (not captured)"
    digit_settings = "\n".join(f"- {line}" for line in runs[0]["digits"]
                               ["settings"]) or "- (not captured)"
    mnist_text = ("not run" if mnist is None else
                  (f"measured {mnist['measured']} (reused), "
                   if "measured" in mnist else "") +
                  f"{mnist['wall_s']:.1f} s wall, eval accuracy "
                  f"{mnist['accuracy']:.4f} (its TFMA "
                  f"SparseCategoricalAccuracy), peak RSS "
                  f"{mnist['peak_rss_mib']} MiB, Beam args as shipped "
                  f"{mnist['beam_pipeline_args']}")
    ratio = "-" if v["mnist_ratio"] is None else f"{v['mnist_ratio']:.2f}"
    return f"""# Accuracy per second: default `imgpipe run` vs plain scripts

{{HEADER}}No GPU was lent to this session: every figure is CPU-only. Each
run is a separate process, timed from start to exit (imports included),
on a machine shared with other engineers' test runs (load varies: see the
spread between seeds).

## {grey_images:,} grey 28x28 images (benchmarks/grey_digits.py)

The digits upscaled to 28x28 plus 5 distinct augmented variants each, as
a class-folder tree. Both contenders use the pipeline's split (hash of
`image_id`, 80/20). Caveat: variants of one original fall independently
into train and eval, so absolute accuracies are optimistic for both.

Settings `imgpipe run` chose (printed at its start):
{settings}

| seed | run | wall s | eval accuracy | fit s to reach the plain script's accuracy | fit s, all epochs | epochs | peak RSS MiB |
|---|---|---|---|---|---|---|---|
{rows}

- wall time, pipeline / plain script (mean of seeds): **{v['wall_ratio']:.2f}**
  (target <= 2)
- eval accuracy, mean of seeds: pipeline **{v['pipeline_accuracy']:.4f}**
  vs plain **{v['plain_accuracy']:.4f}** (target: pipeline >= plain)

"fit s" is training time from the per-epoch history (the pipeline's
Trainer: `elapsed_seconds` in history.json; the script: a callback), each
epoch's eval accuracy measured on the eval split as it goes.

## The embedded digits (1,797 images, 8x8)

Settings `imgpipe run` chose:
{digit_settings}

| seed | cold wall s | eval accuracy (TFMA) | peak RSS MiB |
|---|---|---|---|
{digits_rows}

- fully cached re-run: **{cached_s:.1f} s** (target < 10)
- TFX's MNIST example pipeline (8 components, its native-Keras module,
  the digits upscaled to 28x28): {mnist_text}
- `imgpipe run` cold (mean {v['digits_wall_s']:.1f} s) / TFX MNIST
  example: **{ratio}** (target <= 0.5)
"""
