"""`imgpipe ui`: start-up until it answers, and page times for 100 runs.

The folder: five runs made by the real pipeline on 60 digits per class at
16x16 (cold, fully cached, retrained and promoted, stopped by the data
gate, failed in the Trainer: tests/ui/run_history.py), then copied into
100 runs with the ml_metadata API: each copy is a new pipeline_run
context whose executions repeat a real run's (same node contexts, same
artifacts, same states and durations), so the UI reads 100 runs exactly
as it reads real ones, failures and their logs included.

Measured from a client (httpx) against the real `imgpipe ui` console
script: start-up = process start until GET / answers 200 (and until the
JSON feed answers); each page cold (the first request after start-up:
ML Metadata snapshot, artifact JSON and template compilation), after the
store changed (the snapshot is read again, as while a run is going), and
warm. Writes benchmarks/results/ui.md and .json.

    python -m benchmarks.ui_bench [--runs 100] [--repeats 5] [--source DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import httpx

from benchmarks.common import write_results

TARGET_START_S, TARGET_PAGE_S = 3.0, 1.0


def build_source(work: Path) -> Path:
    """The five real runs (minutes: one cold pipeline run among them)."""
    import imgpipe_components  # noqa: F401 - process set-up first
    from imgpipe.config import (EdgeConfig, EvalConfig, PipelineConfig,
                                TrainConfig, TransformConfig)
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline
    from tests.conftest import write_digit_subset
    from tests.ui import run_history

    config = PipelineConfig(transform=TransformConfig(image_size=16),
                            train=TrainConfig(epochs=3),
                            edge=EdgeConfig(enabled=True),
                            evaluation=EvalConfig(min_accuracy=0.5))
    data = write_digit_subset(work / "data" / "digits", 60)
    output = work / "output"
    layout = LocalLayout(data, output)
    run_pipeline(config, layout)
    run_pipeline(config, layout)
    history = run_history.History(output, config, data, {})
    run_history.retrain(history)
    run_history.promote_canary(history)
    run_history.stop_at_gate_and_fail(history, work)
    return output


def multiply_runs(metadata_path: Path, total: int) -> int:
    """Adds pipeline_run contexts until there are `total`, each repeating
    a real run's executions; returns how many were added."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(metadata_path)
    store = metadata_store.MetadataStore(config)
    real = sorted(store.get_contexts_by_type("pipeline_run"),
                  key=lambda c: c.id)
    parents = {run.id: store.get_parent_contexts_by_context(run.id)
               for run in real}
    templates = [(run, sorted(store.get_executions_by_context(run.id),
                              key=lambda e: e.id)) for run in real]
    step_ms = 60_000
    added = 0
    for index in range(total - len(real)):
        run, executions = templates[index % len(templates)]
        shift = (index + 1) * step_ms * len(templates)
        copy = pb.Context(type_id=run.type_id,
                          name=f"{run.name}-copy-{index:03d}")
        [copy_id] = store.put_contexts([copy])
        copy.id = copy_id
        store.put_parent_contexts([pb.ParentContext(child_id=copy_id,
                                                    parent_id=p.id)
                                   for p in parents[run.id]])
        for execution in executions:
            _repeat(store, execution, copy, shift)
        added += 1
    return added


def _repeat(store, execution, run_context, shift_ms: int) -> None:
    from ml_metadata.proto import metadata_store_pb2 as pb

    events = store.get_events_by_execution_ids([execution.id])
    artifacts = {a.id: a for a in store.get_artifacts_by_id(
        [e.artifact_id for e in events])}
    contexts = [c for c in store.get_contexts_by_execution(execution.id)
                if c.type_id != run_context.type_id]
    repeated = pb.Execution()
    repeated.CopyFrom(execution)
    repeated.ClearField("id")
    repeated.ClearField("name")
    repeated.ClearField("create_time_since_epoch")
    repeated.ClearField("last_update_time_since_epoch")
    pairs = []
    for event in events:
        again = pb.Event(type=event.type, path=event.path)
        pairs.append((artifacts[event.artifact_id], again))
    store.put_execution(repeated, pairs, contexts + [run_context])


@contextlib.contextmanager
def started_ui(output: Path, port: int, ready: str = "/static/ui.css"):
    """`imgpipe ui` as a user starts it; yields the seconds from process
    start until GET `ready` answered 200."""
    command = [str(Path(sys.executable).with_name("imgpipe")), "ui",
               "--output", str(output), "--port", str(port)]
    url = f"http://127.0.0.1:{port}{ready}"
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=10) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command} exited "
                                       f"{process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        break
                time.sleep(0.02)
        yield time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=30)


def startup_times(output: Path, port: int, repeats: int) -> dict:
    """Until the server answers at all, and until the runs page (which
    reads ML Metadata) answers."""
    found: Dict[str, List[float]] = {"serving": [], "runs_page": []}
    for ready, key in (("/static/ui.css", "serving"), ("/", "runs_page")):
        for _ in range(repeats):
            with started_ui(output, port, ready) as seconds:
                found[key].append(seconds)
    return found


def timed_get(client: httpx.Client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def until_complete(client: httpx.Client, url: str) -> float:
    """Seconds until the comparison holds its confusion matrices (the TFMA
    worker has read both evaluations)."""
    began = time.perf_counter()
    while 'class="confusion"' not in client.get(url).text:
        time.sleep(0.1)
    return time.perf_counter() - began


def page_times(output: Path, port: int, pages: Dict[str, str],
               repeats: int) -> Dict[str, Dict[str, List[float]]]:
    """Per page: cold (first request of a fresh server), changed (after
    the store's file changed), warm; `repeats` fresh servers."""
    found: Dict[str, Dict[str, List[float]]] = {
        name: {"cold": [], "changed": [], "warm": []} for name in pages}
    found["compare"]["complete"] = []
    metadata = output / "metadata.sqlite"
    for _ in range(repeats):
        with started_ui(output, port), httpx.Client(timeout=60) as client:
            base = f"http://127.0.0.1:{port}"
            for name, path in pages.items():
                found[name]["cold"].append(timed_get(client, base + path))
            found["compare"]["complete"].append(
                until_complete(client, base + pages["compare"]))
            for name, path in pages.items():
                os.utime(metadata)
                found[name]["changed"].append(timed_get(client,
                                                        base + path))
                found[name]["warm"].append(min(
                    timed_get(client, base + path) for _ in range(5)))
    return found


def chosen_pages(output: Path) -> Dict[str, str]:
    """The pages measured: the runs list, a retrained run's page, the
    comparison of two evaluated runs, the model store, the live feed."""
    from urllib.parse import quote

    from imgpipe.ui.files import OutputFolder
    from imgpipe.ui.pages import distinct_evaluations, evaluated
    from imgpipe.ui.runs import list_runs
    from imgpipe.ui.store import SnapshotCache

    folder = OutputFolder(output)
    runs = list_runs(folder, SnapshotCache(folder.metadata_path).get())
    pair = distinct_evaluations(evaluated(runs))[:2]
    run = next(r for r in runs if r.executed > 1 and r.facts.pushed_here)
    return {"runs": "/", "run": f"/runs/{quote(run.run_id)}",
            "compare": f"/compare?a={quote(pair[1].run_id)}"
                       f"&b={quote(pair[0].run_id)}",
            "models": "/models", "live feed": "/api/live"}


def _row(name: str, values: List[float], target: float) -> str:
    mean = statistics.mean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    verdict = ("-" if target == float("inf") else
               f"< {target:g} s: " + ("yes" if max(values) < target
                                       else "NO"))
    return (f"| {name} | {mean:.3f} ± {spread:.3f} | {min(values):.3f} | "
            f"{max(values):.3f} | {verdict} |")


def report(runs: int, start: dict, pages: dict, repeats: int,
           load: List[float], made: str) -> str:
    lines = ["# imgpipe ui: start-up and page times", "", "{HEADER}",
             f"An output folder with {runs} runs (5 real runs of the "
             f"pipeline, {made}, repeated in ML Metadata: see the "
             f"benchmark's docstring); {repeats} fresh servers per figure; "
             "seconds, "
             "from an HTTP client on the same machine. One-minute load "
             f"average {load[0]:.1f} before, {load[1]:.1f} after (other "
             "work shared the machine's CPUs).", "",
             "| what | mean ± sd | min | max | target |",
             "|---|---|---|---|---|",
             _row("start-up until it answers", start["serving"],
                  TARGET_START_S),
             _row("start-up until the runs page answers",
                  start["runs_page"], TARGET_START_S)]
    for name, kinds in pages.items():
        for kind, label in (("cold", "first request"),
                            ("changed", "after the store changed"),
                            ("warm", "warm")):
            lines.append(_row(f"{name}: {label}", kinds[kind],
                              TARGET_PAGE_S))
        if "complete" in kinds:
            lines.append(_row(f"{name}: until the TFMA figures are in",
                              kinds["complete"], float("inf")))
    lines += ["", "First request: the first page a fresh server renders "
              "(ML Metadata read in bulk, artifact JSON read, templates "
              "compiled). After the store changed: the snapshot is read "
              "again, as on every request while a run is going. The "
              "comparison's per-class figures and confusion matrices come "
              "from a worker process that imports TFMA after start-up "
              "(pipelines/imgpipe/ui/evaluation.py): until it has read "
              "them the page answers with the rest and reloads itself; "
              "'until the TFMA figures are in' is that wait, counted from "
              "the first request; the later figures are taken after it.",
              ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--source", type=Path, help="An output folder to "
                        "copy (default: five real runs made here).")
    args = parser.parse_args()
    from tests.ui.browser import free_port

    with tempfile.TemporaryDirectory(prefix="ui-bench-") as work:
        work = Path(work)
        source = args.source or build_source(work / "source")
        output = work / "output"
        shutil.copytree(source, output, ignore=shutil.ignore_patterns(
            ".imgpipe-run.*"))
        multiply_runs(output / "metadata.sqlite", args.runs)
        pages = chosen_pages(output)
        port = free_port()
        load = [os.getloadavg()[0]]
        start = startup_times(output, port, args.repeats)
        times = page_times(output, port, pages, args.repeats)
        load.append(os.getloadavg()[0])
    made = (f"copied from {args.source}" if args.source
            else "made here by build_source")
    payload = {"runs": args.runs, "repeats": args.repeats,
               "five_real_runs": made,
               "load_average_1min": load,
               "pages": pages, "startup_s": start, "page_s": times,
               "targets_s": {"startup": TARGET_START_S,
                             "page": TARGET_PAGE_S}}
    path = write_results("ui", payload, report(args.runs, start, times,
                                               args.repeats, load, made))
    print(path.read_text())


if __name__ == "__main__":
    main()
