"""Wall time, per-component time and peak memory of the pipeline.

- cold `imgpipe run` on the embedded digits (fresh output folder), the
  re-run after the first blessing (the Evaluator meets its baseline), and
  a fully cached re-run, each as a user runs it (a new process);
- the floor: `benchmarks/plain_keras.py`, same model, epochs and images;
- cost growth: cold runs on k times the data (k-1 augmented copies of each
  image written as extra files).

    python -m benchmarks.pipeline_bench [--repeats 3] [--sizes 1 4 16]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_results

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")
ROOT = Path(__file__).resolve().parent.parent


def measured(command: list) -> dict:
    """Wall seconds and peak RSS of `command`, in a fresh watcher process
    (RUSAGE_CHILDREN is a high-water mark over all waited-for children)."""
    watcher = ("import json, resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "print(json.dumps({'rc': p.returncode, 'seconds': "
               "time.perf_counter() - t, 'peak_rss_mib': resource.getrusage("
               "resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 'stdout': "
               "p.stdout[-2000:], 'stderr': p.stderr[-2000:], "
               "'stderr_head': p.stderr[:4000]}))")
    out = subprocess.run([sys.executable, "-c", watcher, *command],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{command} failed:\n{result['stderr']}")
    return result


def component_seconds(output: Path) -> dict:
    from imgpipe.runners.local import run_record
    store = run_record.open_store(str(output / "metadata.sqlite"))
    run = run_record.latest_run(store, "imgpipe")
    return {n.node_id: round(n.seconds, 2) for n in
            run_record.node_runs(store, run)}


def scaled_data(source: Path, factor: int, target: Path) -> Path:
    """`factor` x the images: each original plus factor-1 augmented copies."""
    from imgpipe_components.augment import ops
    from imgpipe_components.augment.settings import AugmentConfig
    config = AugmentConfig()
    shutil.copytree(source, target)
    for image in sorted(target.glob("*/*.png")):
        data = image.read_bytes()
        for copy in range(1, factor):
            params = ops.sample_params(config, ops.rng_for(image.name, copy, 7))
            image.with_name(f"{image.stem}-x{copy}.png").write_bytes(
                ops.augment_png(data, params))
    return target


def pipeline_runs(data: Path, work: Path, repeats: int) -> list:
    runs = []
    for index in range(repeats):
        output = work / f"run{index}"
        cold = measured([IMGPIPE, "run", "--data", str(data), "--output",
                         str(output)])
        cold_components = component_seconds(output)
        rerun = measured([IMGPIPE, "run", "--data", str(data), "--output",
                          str(output)])
        cached = measured([IMGPIPE, "run", "--data", str(data), "--output",
                           str(output)])
        runs.append({"cold_s": cold["seconds"],
                     "cold_peak_rss_mib": cold["peak_rss_mib"],
                     "components_s": cold_components,
                     "rerun_after_blessing_s": rerun["seconds"],
                     "rerun_components_s": component_seconds(output),
                     "fully_cached_s": cached["seconds"]})
        shutil.rmtree(output / "pipeline_root", ignore_errors=True)
    return runs


def growth_runs(digits: Path, work: Path, sizes: list) -> list:
    """One cold run per data size, default settings (the chooser's)."""
    growth = []
    for factor in sizes:
        data = digits if factor == 1 else scaled_data(
            digits, factor, work / f"digits-x{factor}")
        started = time.perf_counter()
        result = measured([IMGPIPE, "run", "--data", str(data), "--output",
                           str(work / f"growth-x{factor}")])
        growth.append({"factor": factor, "images": 1797 * factor,
                       "cold_s": result["seconds"],
                       "peak_rss_mib": result["peak_rss_mib"],
                       "components_s": component_seconds(
                           work / f"growth-x{factor}"),
                       "settings": [line.strip() for line in
                                    result["stderr_head"].splitlines()
                                    if " = " in line],
                       "measured_in_s": time.perf_counter() - started})
    return growth


def growth_report(growth: list) -> None:
    rows = "\n".join(
        f"| {g['factor']}x | {g['images']} | {g['cold_s']:.1f} | "
        f"{g['peak_rss_mib']:.0f} | "
        f"{g['peak_rss_mib'] / growth[0]['peak_rss_mib']:.2f} | "
        f"{g['components_s'].get('Trainer', 0):.1f} | "
        f"{'; '.join(s.split(':')[0] for s in g['settings'])} |"
        for g in growth)
    markdown = f"""# Peak memory as the data grows

{{HEADER}}One cold `imgpipe run` per size (a new process; peak RSS of the
process tree from getrusage). k x data = each digit plus k-1 augmented
copies as extra files. Default settings, so the chooser picks the model
per size (listed). Target: peak RSS at 16x within 1.2x of 1x.

| data | images | cold s | peak RSS MiB | vs 1x | Trainer s | settings |
|---|---|---|---|---|---|---|
{rows}
"""
    path = write_results("growth", {"growth": growth}, markdown)
    print(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--growth-only", action="store_true",
                        help="Only the cost growth (peak memory) runs.")
    args = parser.parse_args()
    from imgpipe.digits import write_digits

    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    digits = write_digits(work / "digits")
    if args.growth_only:
        growth_report(growth_runs(digits, work, args.sizes))
        return
    runs = pipeline_runs(digits, work, args.repeats)
    plain, plain_walls = [], []
    for _ in range(args.repeats):
        result = measured([sys.executable, "-m", "benchmarks.plain_keras",
                           str(digits)])
        plain.append(json.loads(result["stdout"].strip().splitlines()[-1]))
        plain_walls.append(result["seconds"])
    growth = growth_runs(digits, work, args.sizes)
    report(runs, plain, plain_walls, growth)
    growth_report(growth)


def report(runs, plain, plain_walls, growth) -> None:
    def med(key):
        return statistics.median(r[key] for r in runs)
    components = sorted(runs[0]["components_s"])
    per_component = "\n".join(
        f"| {c} | " + " | ".join(f"{r['components_s'].get(c, 0):.1f}"
                                 for r in runs) + " |" for c in components)
    ratio = med("cold_s") / statistics.median(plain_walls)
    def marginal(index):   # seconds per 1,000 extra images vs the size before
        if index == 0:
            return "-"
        before, after = growth[index - 1], growth[index]
        seconds = after["cold_s"] - before["cold_s"]
        return f"{1000 * seconds / (after['images'] - before['images']):.1f}"
    growth_rows = "\n".join(
        f"| {g['factor']}x | {g['images']} | {g['cold_s']:.1f} | "
        f"{marginal(i)} | {g['peak_rss_mib']:.0f} | "
        f"{g['components_s'].get('Transform', 0):.1f} | "
        f"{g['components_s'].get('Trainer', 0):.1f} |"
        for i, g in enumerate(growth))
    markdown = f"""# Pipeline wall time, caching and cost growth

{{HEADER}}Each figure is a separate `imgpipe run` process, as a user runs it
(imports included); {len(runs)} runs each, median shown first.

| measure | median | runs |
|---|---|---|
| cold `imgpipe run` (s) | {med('cold_s'):.1f} | {', '.join(f"{r['cold_s']:.1f}" for r in runs)} |
| re-run after the first blessing (s) | {med('rerun_after_blessing_s'):.1f} | {', '.join(f"{r['rerun_after_blessing_s']:.1f}" for r in runs)} |
| fully cached re-run (s) | {med('fully_cached_s'):.1f} | {', '.join(f"{r['fully_cached_s']:.1f}" for r in runs)} |
| plain Keras script, same model/epochs/images (s) | {statistics.median(plain_walls):.1f} | {', '.join(f"{w:.1f}" for w in plain_walls)} |
| **pipeline cold / plain script** | **{ratio:.2f}** | |
| cold peak RSS (MiB) | {med('cold_peak_rss_mib'):.0f} | |

Plain script accuracy on its own random 20 % hold-out:
{', '.join(f"{p['accuracy']:.4f}" for p in plain)}; fit
{', '.join(f"{p['fit_seconds']:.1f}" for p in plain)} s.

Seconds per component in the cold runs (from ML Metadata):

| component | {' | '.join(f'run {i + 1}' for i in range(len(runs)))} |
|---|{'---|' * len(runs)}
{per_component}

Cost growth (one cold run per size; k x data = each image plus k-1
augmented copies as extra files). Linear growth beyond the fixed overhead
shows as a constant "s per 1k extra images":

| data | images | cold s | s per 1k extra images | peak RSS MiB | Transform s | Trainer s |
|---|---|---|---|---|---|---|
{growth_rows}
"""
    path = write_results("pipeline", {"runs": runs, "plain": plain,
                                      "plain_walls_s": plain_walls,
                                      "growth": growth}, markdown)
    print(path.read_text())


if __name__ == "__main__":
    main()
