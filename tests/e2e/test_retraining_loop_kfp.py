"""The same retraining loop through the compiled Kubeflow spec, on the
simulated KFP backend (tests/kubeflow/kfp_backend: its driver's CEL
conditions, Argo's depends, the execution cache, the exit handler).

span 1 -> trained, pushed, stable; the same data -> ends after DataCheck,
recorded as "no new data"; span 2 -> trained, evaluated against stable,
pushed, promoted per policy; span 3 with the Pusher failing -> recorded as
failed at the Pusher, and the next run serves ExampleGen..Trainer from KFP's
cache and reruns only what follows; a degraded span -> refused; a span the
data gate stops -> recorded with its report, and the same data again ends
after DataCheck, "still stopped by the data gate"; rollback -> the next run
compares against the rolled-back stable. TF Serving's stand-in polls the store's
models.config throughout and serves each `stable` the loop sets.
"""
from __future__ import annotations

import errno
import functools
import json
import shutil
from pathlib import Path

import pytest
import yaml

from imgpipe_components.push import executor as push_executor
from tests.e2e.test_retraining_loop import loop_config, write_span
from tests.kubeflow.conftest import Compiled
from tests.kubeflow.kfp_backend import Backend
from tests.kubeflow.test_serving_store import _stable_version
from tests.serving.helpers import ServerProcess, wait_until

pytestmark = pytest.mark.e2e

NAMESPACE = "team-a"
POLL_S = 1
INGEST_TO_TRAIN = ("ImageExampleGen", "StatisticsGen", "SchemaGen",
                   "ExampleValidator", "DataGate", "Augment", "Transform",
                   "Trainer")


@pytest.fixture(scope="module")
def kfp(tmp_path_factory):
    from imgpipe.digits import write_digits
    from imgpipe.runners.kubeflow.runner import compile_pipeline
    from imgpipe.runners.kubeflow.settings import KubeflowConfig

    work = tmp_path_factory.mktemp("kfp-loop")
    config = loop_config()
    kubeflow = KubeflowConfig(
        pipeline_root=str(work / "root"), data_root=str(work / "data"),
        model_store=str(work / "serving"), gpu_count=0)
    path = work / "imgpipe.yaml"
    compile_pipeline(config, kubeflow, path)
    documents = list(yaml.safe_load_all(path.read_text()))
    compiled = Compiled(path, documents[0],
                        documents[1] if len(documents) > 1 else {},
                        config, kubeflow)
    return compiled, work, write_digits(work / "digits")


def _disk_full(*_, **__):
    raise OSError(errno.ENOSPC, "No space left on device")


def baseline_version(run) -> int:
    model = run.outputs["served_baseline_model"]["model"]
    return int(model["metadata"]["baseline_version"])


def record_of(work: Path) -> dict:
    path = work / "root" / ".last_completed_run" / NAMESPACE / "imgpipe.json"
    return json.loads(path.read_text())


def summary_of(work: Path, run_id: str) -> str:
    return (work / "root" / "imgpipe" / run_id / "RecordRun" /
            "summary").read_text()


def _serves_stable(url: str, png: bytes, version: int) -> None:
    wait_until(lambda: _stable_version(url, png) == str(version),
               POLL_S + 30, f"labels/stable to serve version {version}")


def test_the_loop_through_the_compiled_spec(kfp):
    from imgpipe_components.model_store import current_labels, promote, rollback

    compiled, work, digits = kfp
    data, serving = work / "data", work / "serving" / "digits"
    backend = Backend(compiled, work / "root", namespace=NAMESPACE)

    write_span(digits, data / "span-1", slice(0, 20))
    first = backend.run("run-1")
    assert first.dag_states["tfx-dag"] == "COMPLETE"
    assert set(first.states.values()) == {"SUCCEEDED"}
    assert baseline_version(first) == 0          # nothing in service yet
    assert current_labels(serving) == {"stable": 1, "canary": 1}
    assert record_of(work)["outcome"] == "success"
    assert record_of(work)["pushed_version"] in (1, "1")

    # TF Serving's stand-in, polling the store's models.config as the
    # cluster's server does (tests/kubeflow/test_serving_store.py): every
    # label the loop sets below must reach labels/stable within a poll.
    png = next(next(digits.iterdir()).iterdir()).read_bytes()
    with ServerProcess(work / "serve.log", "--model-dir", serving,
                       "--model-config", serving.parent / "models.config",
                       "--poll-seconds", POLL_S) as server:
        server.wait_started()
        serves_stable = functools.partial(_serves_stable, server.url, png)
        serves_stable(1)

        # Unchanged data: the run ends after DataCheck and says so.
        again = backend.run("run-2")
        assert again.executed == ["DataCheck", "RecordRun"]
        assert again.states["ImageExampleGen"] == "SKIPPED"
        assert again.states["Trainer"] == "OMITTED"
        assert again.dag_states["tfx-dag"] == "RUNNING"  # as KFP has it
        assert "no new data since run run-1" in summary_of(work, "run-2")
        assert record_of(work)["run"] == "run-1"         # a skip leaves it

        write_span(digits, data / "span-2", slice(20, 80))
        second = backend.run("run-3")
        assert second.states["Trainer"] == "SUCCEEDED"
        assert baseline_version(second) == 1
        pushed = second.outputs["Pusher"]["pushed_model"]["metadata"]
        assert pushed["pushed_version"] == "2"
        if current_labels(serving)["stable"] != 2:  # the policy said no
            assert "Not promoting" in pushed["promotion"]
            promote(serving, force=True, reason="loop test: promote span 2")
        assert current_labels(serving)["stable"] == 2
        serves_stable(2)

        # The disk fills while the Pusher copies version 3: the run is
        # recorded as failed at the Pusher; the next one resumes.
        write_span(digits, data / "span-3", slice(20, 80))
        with pytest.MonkeyPatch.context() as disk:
            disk.setattr(push_executor, "_build_version", _disk_full)
            broken = backend.run("run-4")
        assert broken.states["Pusher"] == "FAILED"
        assert broken.dag_states["tfx-dag"] == "FAILED"
        assert record_of(work)["outcome"] == "failed"
        assert record_of(work)["failed_step"] == "Pusher"
        assert "Run run-4 failed at Pusher: Could not write version 3" in (
            summary_of(work, "run-4"))
        resumed = backend.run("run-5")
        assert {resumed.states[step] for step in INGEST_TO_TRAIN} == {
            "CACHED"}
        assert not set(INGEST_TO_TRAIN) & set(resumed.executed)
        assert resumed.states["Pusher"] == "SUCCEEDED"
        assert resumed.outputs["Trainer"] == broken.outputs["Trainer"]
        assert record_of(work)["outcome"] == "success"
        serves_stable(current_labels(serving)["stable"])   # per the policy

        write_span(digits, data / "span-4", slice(20, 80),
                   shuffle_labels=True)
        degraded = backend.run("run-6")
        assert baseline_version(degraded) == current_labels(serving)["stable"]
        assert degraded.outputs["Pusher"]["pushed_model"]["metadata"][
            "pushed"] == 0
        stable_before = current_labels(serving)["stable"]

        # The data gate stops a span of duplicates: recorded with its
        # report; the same data again ends after DataCheck.
        leaky = write_span(digits, data / "span-5", slice(0, 20))
        for image in sorted((leaky / "4").iterdir()):
            shutil.copy(image, image.with_name(f"copy-{image.name}"))
        gated = backend.run("run-7")
        assert gated.states["DataGate"] == "FAILED"
        record = record_of(work)
        assert record["outcome"] == "gate_stop" and record["run"] == "run-7"
        assert Path(record["report"]).is_file()
        assert "stopped by the data gate" in summary_of(work, "run-7")
        still = backend.run("run-8")
        assert still.executed == ["DataCheck", "RecordRun"]
        assert "still stopped by the data gate (run run-7)" in summary_of(
            work, "run-8")
        shutil.rmtree(leaky)

        rollback(serving, reason="loop test")
        after = backend.run("run-9")
        assert after.states["Evaluator"] == "SUCCEEDED"  # the label moved
        assert baseline_version(after) == current_labels(serving)["stable"]
        assert current_labels(serving)["stable"] < stable_before
        serves_stable(current_labels(serving)["stable"])
