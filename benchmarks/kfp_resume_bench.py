"""What a Kubeflow run costs after a failure, on the simulated KFP backend.

The compiled package of the retraining loop (tests/e2e/test_retraining_loop
_kfp.py's settings) runs on tests/kubeflow/kfp_backend: a first run on one
span, a run on a new span whose Pusher fails, the run after it (served from
KFP's cache up to the Trainer), and a run on unchanged data (ends after
DataCheck). Each run's wall time and the steps whose container ran.

    python -m benchmarks.kfp_resume_bench
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import write_results


def _timed(backend, run_id: str) -> dict:
    start = time.perf_counter()
    run = backend.run(run_id)
    return {"run": run_id, "seconds": round(time.perf_counter() - start, 1),
            "containers": len(run.executed), "executed": run.executed,
            "cached": sorted(t for t, s in run.states.items()
                             if s == "CACHED")}


def main() -> None:
    from imgpipe.digits import write_digits
    from imgpipe.runners.kubeflow.runner import compile_pipeline
    from imgpipe.runners.kubeflow.settings import KubeflowConfig
    from tests.e2e.test_retraining_loop import loop_config, write_span
    from tests.kubeflow.conftest import Compiled
    from tests.kubeflow.kfp_backend import Backend

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = loop_config()
        kubeflow = KubeflowConfig(
            pipeline_root=str(work / "root"), data_root=str(work / "data"),
            model_store=str(work / "serving"), gpu_count=0)
        path = compile_pipeline(config, kubeflow, work / "imgpipe.yaml")
        spec = next(yaml.safe_load_all(path.read_text()))
        backend = Backend(Compiled(path, spec, {}, config, kubeflow),
                          work / "root")
        digits = write_digits(work / "digits")
        serving = work / "serving" / config.model_name

        write_span(digits, work / "data" / "span-1", slice(0, 20))
        runs = [_timed(backend, "first")]
        write_span(digits, work / "data" / "span-2", slice(20, 80))
        staging = serving / ".staging-2"     # the Pusher cannot write
        staging.symlink_to(work / "nowhere")
        runs.append(_timed(backend, "pusher-fails"))
        staging.unlink()
        runs.append(_timed(backend, "after-the-failure"))
        runs.append(_timed(backend, "unchanged"))

    rows = "\n".join(f"| {r['run']} | {r['seconds']} | {r['containers']} | "
                     f"{len(r['cached'])} |" for r in runs)
    markdown = ("# A Kubeflow run after a failed Pusher (simulated backend)"
                "\n\n{HEADER}| run | wall s | containers run | steps from "
                "KFP's cache |\n|---|---|---|---|\n" + rows + "\n")
    print(markdown.replace("{HEADER}", ""))
    write_results("kfp_resume", {"runs": runs}, markdown)


if __name__ == "__main__":
    main()
