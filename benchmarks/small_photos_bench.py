"""A user's own few hundred photos: the default `imgpipe run` against the
seed tutorial's plain CIFAR CNN on the same split.

Per seed, a new photo set (benchmarks/photo_sets.py: four classes, one of
them small and named with a space, PNG and JPEG of 40 to 300 px, some grey,
stray files), then:
- the default cold `imgpipe run` (the chooser's settings, the default
  `min_accuracy`): eval accuracy, whether it was blessed, wall seconds;
- the same run with the settings the chooser gave photos before it had a
  photo regime (96 px, no augmented copies, 10 epochs, the small CNN);
- the plain CNN script (benchmarks/seed_cnn.py, 32x32 colour as CIFAR, 10
  epochs) on the pipeline's own hash split.

    python -m benchmarks.small_photos_bench [--seeds 3] [--per-class 100]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from benchmarks.accuracy_bench import pipeline_run, plain_run
from benchmarks.common import mean_std, write_results
from benchmarks.photo_sets import write_set

FORMER_DEFAULTS = ("--image-size", "96", "--copies", "0", "--epochs", "10",
                   "--architecture", "small_cnn")


def markdown(payload: dict) -> str:
    runs = payload["runs"]
    lines = ["# Small colour photo sets: default `imgpipe run` vs the plain "
             "CIFAR CNN", "", "{HEADER}"
             f"{payload['images']} photos per set (four classes, one a "
             "quarter the size of the others), a new set per seed; the "
             "plain script trains on the pipeline's own train split and is "
             "scored on its eval split.", "",
             "| seed | default run | blessed | wall | former defaults | wall "
             "| plain CNN | wall |", "|---|---|---|---|---|---|---|---|"]
    for run in runs:
        pipeline, former, plain = run["pipeline"], run["former"], run["plain"]
        lines.append(f"| {run['seed']} | {pipeline['accuracy']:.4f} | "
                     f"{'yes' if pipeline['blessed'] else 'no'} | "
                     f"{pipeline['wall_s']:.0f} s | {former['accuracy']:.4f} "
                     f"| {former['wall_s']:.0f} s | {plain['accuracy']:.4f} "
                     f"| {plain['wall_s']:.0f} s |")
    pipeline = [r["pipeline"]["accuracy"] for r in runs]
    former = [r["former"]["accuracy"] for r in runs]
    plain = [r["plain"]["accuracy"] for r in runs]
    lines += ["", f"Mean accuracy: default run {mean_std(pipeline)}, former "
              f"defaults {mean_std(former)}, plain CNN {mean_std(plain)}; "
              "the default run beats the plain CNN in "
              f"{sum(a > b for a, b in zip(pipeline, plain))} of {len(runs)}"
              f" seeds and is blessed in "
              f"{sum(r['pipeline']['blessed'] for r in runs)}.", "",
              "Settings the chooser picked (seed 1):", ""]
    lines += [f"- {line}" for line in runs[0]["pipeline"]["settings"]]
    advice = runs[0]["pipeline"]["advice"]
    if advice:
        lines += ["", "What the run said when not blessed (seed 1):", "",
                  f"> {advice}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="small-photos-"))
    runs = []
    for seed in range(1, args.seeds + 1):
        photos = write_set(work / f"photos-{seed}", seed, args.per_class)
        runs.append({"seed": seed,
                     "pipeline": pipeline_run(photos, work / f"out-{seed}",
                                              seed),
                     "former": pipeline_run(photos, work / f"former-{seed}",
                                            seed, *FORMER_DEFAULTS),
                     "plain": plain_run(photos, seed, "--size", "32",
                                        "--channels", "3")})
        print(json.dumps(runs[-1])[:300], flush=True)
    images = sum(1 for p in (work / "photos-1").glob("*/*")
                 if p.suffix.lower() in {".png", ".jpg"})
    payload = {"images": images, "runs": runs,
               "mean_pipeline": statistics.mean(
                   r["pipeline"]["accuracy"] for r in runs),
               "mean_plain": statistics.mean(r["plain"]["accuracy"]
                                             for r in runs)}
    print(write_results("small_photos", payload, markdown(payload)))


if __name__ == "__main__":
    main()
