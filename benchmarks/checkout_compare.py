"""Cold and cached `imgpipe run` of two checkouts, back to back.

For a change that should not cost time (a refactor, a move of files): each
checkout's own `imgpipe` (its `.venv`) runs the embedded digits the way a
user does, `imgpipe run --output FRESH` and then the same command again
(fully cached), and the two checkouts alternate run by run so that load on
a noisy machine falls on both. Reports each run and the after/before ratio
of the medians.

    python -m benchmarks.checkout_compare --before ../old --after . \
        [--repeats 2] [--name layout_move]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_results


def timed_run(checkout: Path, output: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(checkout / ".venv" / "bin" / "imgpipe"), "run",
                    "--output", str(output)], cwd=checkout, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def commit_of(checkout: Path) -> str:
    return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short",
                           "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def measure(checkouts: dict, repeats: int, work: Path) -> dict:
    runs = {name: {"cold": [], "cached": []} for name in checkouts}
    for index in range(repeats):
        for name, checkout in checkouts.items():
            output = work / f"{name}-{index}"
            runs[name]["cold"].append(round(timed_run(checkout, output), 1))
            runs[name]["cached"].append(round(timed_run(checkout, output), 1))
            print(name, index, runs[name]["cold"][-1],
                  runs[name]["cached"][-1], flush=True)
    return runs


def markdown(payload: dict) -> str:
    lines = [f"# Cold and cached `imgpipe run`: {payload['name']}", "",
             "{HEADER}" f"{payload['repeats']} alternating runs per checkout "
             "(before, after, before, ...), each a cold run in a fresh output "
             "folder, then the same command again (cached).", "",
             "| run | before | after | after / before (medians) |",
             "|---|---|---|---|"]
    for kind in ("cold", "cached"):
        before = payload["runs"]["before"][kind]
        after = payload["runs"]["after"][kind]
        ratio = statistics.median(after) / statistics.median(before)
        lines.append(f"| {kind} | {', '.join(f'{s:.1f} s' for s in before)} "
                     f"| {', '.join(f'{s:.1f} s' for s in after)} "
                     f"| {ratio:.2f} |")
    lines += ["", f"before: `{payload['commits']['before']}`, after: "
              f"`{payload['commits']['after']}`."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path("."))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--name", default="checkout_compare")
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    with tempfile.TemporaryDirectory() as work:
        runs = measure(checkouts, args.repeats, Path(work))
    payload = {"name": args.name, "repeats": args.repeats, "runs": runs,
               "commits": {name: commit_of(path)
                           for name, path in checkouts.items()}}
    print(write_results(args.name, payload, markdown(payload)))


if __name__ == "__main__":
    main()
