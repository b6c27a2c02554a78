"""The compiled spec on the simulated KFP backend (tests/kubeflow/
kfp_backend), on runs that stop early: a data root ExampleGen rejects at
once, and records written as a run would have left them. The full loop
(training, pushing, the cache after a failed Pusher, a data-gate stop) is
tests/e2e/test_retraining_loop_kfp.py."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from imgpipe_components.data_check import run_record
from tests.kubeflow.conftest import compile_to
from tests.kubeflow.kfp_backend import Backend
from tests.kubeflow.webhook import receiver

CONTAINERS_OF_A_SKIP = ["DataCheck", "RecordRun"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A package with local paths and a webhook; a data root holding no
    class folder, which ExampleGen refuses in its first second."""
    work = tmp_path_factory.mktemp("kfp-backend")
    (work / "data").mkdir()
    (work / "data" / "README.txt").write_text("no images yet\n")
    with receiver() as (url, received):
        compiled = compile_to(
            work / "imgpipe.yaml", pipeline_root=str(work / "root"),
            data_root=str(work / "data"), model_store=str(work / "serving"),
            gpu_count=0, beam_pipeline_args=(), webhook=url)
        yield compiled, work, received


def record(work, namespace: str) -> dict:
    return run_record.read_json(str(
        work / "root" / ".last_completed_run" / namespace / "imgpipe.json"))[0]


def summary(work, run_id: str) -> str:
    return (work / "root" / "imgpipe" / run_id / "RecordRun" /
            "summary").read_text()


def test_a_crash_is_recorded_reported_and_retried(setup):
    compiled, work, received = setup
    backend = Backend(compiled, work / "root", namespace="dev")
    first = backend.run("crash-1")
    assert first.states["ImageExampleGen"] == "FAILED"
    assert first.states["Trainer"] == "OMITTED"
    assert first.dag_states["tfx-dag"] == "FAILED"
    assert record(work, "dev")["outcome"] == "failed"
    assert record(work, "dev")["failed_step"] == "ImageExampleGen"
    assert "failed at ImageExampleGen" in summary(work, "crash-1")
    assert "holds no class folders" in summary(work, "crash-1")
    assert received[-1]["run"] == "crash-1"
    assert received[-1]["outcome"] == "failed"

    again = backend.run("crash-2")      # same data: a crash is retried
    assert again.executed == ["DataCheck", "ImageExampleGen", "RecordRun"]
    # ExampleGen's cache key is the data's fingerprint, not DataCheck's
    # report (a new artifact every run); a failed execution is not cached.
    assert (again.fingerprints["ImageExampleGen"]
            == first.fingerprints["ImageExampleGen"])
    assert (again.outputs["DataCheck"]["report"]["name"]
            != first.outputs["DataCheck"]["report"]["name"])
    assert record(work, "dev")["run"] == "crash-2"


def _left_by_the_gate(backend: Backend, work, run_id: str) -> dict:
    """The record a run stopped by the data gate leaves, for the data
    DataCheck sees now."""
    check = backend.run(f"{run_id}-check")
    report = check.outputs["DataCheck"]["report"]["metadata"]
    gated = {"outcome": "gate_stop", "run": run_id,
             "fingerprint": report["fingerprint"],
             "stable_version": report["stable_version"],
             "report": str(work / "stopped" / "report.json")}
    run_record.write_json(check_place(check).record_uri(backend.namespace),
                          gated)
    return gated


def check_place(run) -> run_record.RunPlace:
    return run_record.run_place(run.outputs["DataCheck"]["report"]["uri"],
                                "DataCheck")


def test_after_a_gate_stop_unchanged_data_ends_after_data_check(setup):
    compiled, work, received = setup
    backend = Backend(compiled, work / "root", namespace="gated")
    gated = _left_by_the_gate(backend, work, "gate-1")
    still = backend.run("gate-2")
    assert still.executed == CONTAINERS_OF_A_SKIP
    assert still.states["ImageExampleGen"] == "SKIPPED"
    assert still.states["StatisticsGen"] == "OMITTED"
    # Omitted steps have no execution: KFP leaves the DAG RUNNING, and that
    # is the state the exit handler is given.
    assert still.dag_states["tfx-dag"] == "RUNNING"
    text = summary(work, "gate-2")
    assert "still stopped by the data gate (run gate-1)" in text
    assert "| final_state | RUNNING |" in text
    assert record(work, "gated") == gated        # a skip leaves the record
    assert received[-1]["outcome"] == "skipped"


def test_two_environments_do_not_share_a_record(setup):
    compiled, work, _ = setup
    dev = Backend(compiled, work / "root", namespace="env-dev")
    _left_by_the_gate(dev, work, "dev-1")
    prod = Backend(compiled, work / "root", namespace="env-prod")
    first = prod.run("prod-1")
    assert "ImageExampleGen" in first.executed        # prod has no record
    assert record(work, "env-prod")["run"] == "prod-1"
    assert record(work, "env-dev")["run"] == "dev-1"
    assert dev.run("dev-2").executed == CONTAINERS_OF_A_SKIP


def test_a_pipeline_root_given_at_submit_moves_the_record(setup, tmp_path):
    compiled, work, _ = setup
    Backend(compiled, tmp_path / "other-root", namespace="dev").run("moved")
    assert run_record.read_json(str(
        tmp_path / "other-root" / ".last_completed_run" / "dev" /
        "imgpipe.json"))[0]["run"] == "moved"


def test_without_the_fix_the_exit_handler_dag_cannot_read_run_parameters(
        setup):
    """TFX 1.16's `tfx-dag` as compiled: no inputDefinitions, no inputs."""
    compiled, work, _ = setup
    spec = copy.deepcopy(compiled.spec)
    del spec["components"]["tfx-dag"]["inputDefinitions"]
    del spec["root"]["dag"]["tasks"]["tfx-dag"]["inputs"]
    unfixed = dataclasses.replace(compiled, spec=spec)
    run = Backend(unfixed, work / "root", namespace="unfixed").run("unfixed")
    assert run.states["DataCheck"] == "FAILED"
    assert "parent DAG does not have input parameter" in str(
        run.errors["DataCheck"])
    assert run.states["RecordRun"] == "SUCCEEDED"
    assert "| final_state | FAILED |" in summary(work, "unfixed")


def test_constructs_it_does_not_model_fail_loudly(setup):
    compiled, work, _ = setup
    spec = copy.deepcopy(compiled.spec)
    spec["components"]["tfx-dag"]["dag"]["tasks"]["DataCheck"][
        "parameterIterator"] = {"itemInput": "x"}
    with pytest.raises(NotImplementedError, match="parameterIterator"):
        Backend(dataclasses.replace(compiled, spec=spec),
                work / "root").run("loop")
