"""DataCheck, run through the container entrypoint as a KFP pod runs it:
the same data, settings and stable version as the last run that went
through -> `changed` 0 (the rest of the DAG is skipped); a new file, a new
run parameter or a rollback -> 1. Its decision is also published as KFP
output parameters, and the step leaves its note for the exit handler."""
from __future__ import annotations

import json
import os
from pathlib import Path

from imgpipe_components.data_check import run_record
from imgpipe.runners.kubeflow.spec_layout import pipeline_tasks
from tests.ingest import builders
from tests.kubeflow.executor_input import (artifact, executor_input,
                                           output_types, run_task)

RUN_ROOT = ("root", "imgpipe")       # <pipeline root>/<pipeline name>


def parameters(compiled, tmp_path: Path, **overrides) -> dict:
    """The task's constants from the spec, local paths where it reads."""
    declared = pipeline_tasks(compiled.spec)["DataCheck"]["inputs"][
        "parameters"]
    values = {name: spec["runtimeValue"]["constant"]
              for name, spec in declared.items() if "runtimeValue" in spec}
    values.update(data_root=str(tmp_path / "data"), run_parameters="{}",
                  model_store=str(tmp_path / "serving" / "digits"))
    values.update(overrides)
    return values


def check(compiled, tmp_path: Path, run_id: str, **overrides) -> dict:
    """DataCheck in run `run_id`: its ExecutorOutput."""
    titles = output_types(compiled, "DataCheck")
    task_root = tmp_path.joinpath(*RUN_ROOT, run_id, "DataCheck")
    invocation = executor_input(
        inputs={}, outputs={"report": artifact(task_root / "report",
                                               titles["report"])},
        parameters=parameters(compiled, tmp_path, **overrides),
        output_file=task_root / "output_metadata.json")
    return run_task(compiled, "DataCheck", invocation)


def changed(output: dict) -> int:
    return output["artifacts"]["report"]["artifacts"][0]["metadata"][
        "changed"]


def went_through(tmp_path: Path, output: dict, run_id: str) -> None:
    """The record the exit handler leaves after a run that went through."""
    report = output["artifacts"]["report"]["artifacts"][0]["metadata"]
    place = run_record.RunPlace(str(tmp_path / RUN_ROOT[0]), RUN_ROOT[1],
                                run_id)
    run_record.write_json(place.record_uri(run_record.namespace()), {
        "outcome": "success", "run": run_id,
        "fingerprint": report["fingerprint"],
        "stable_version": report["stable_version"]})


def test_only_something_new_runs_the_pipeline(compiled, tmp_path):
    builders.class_tree(tmp_path / "data", {"a": 3, "b": 3})
    first = check(compiled, tmp_path, "r1")
    assert changed(first) == 1                   # no completed run yet
    went_through(tmp_path, first, "r1")

    assert changed(check(compiled, tmp_path, "r2")) == 0
    assert changed(check(compiled, tmp_path, "r3",
                         run_parameters='{"epochs": 3}')) == 1

    # A version becomes (or after a rollback, stops being) the stable one:
    # the next run is judged against another model in service.
    from tests.unit.test_baseline_strategy import label, push
    store = tmp_path / "serving" / "digits"
    push(store, 1, "/m/1")
    label(store, stable=1, canary=1)
    assert changed(check(compiled, tmp_path, "r4")) == 1

    image = next((tmp_path / "data" / "a").iterdir())
    os.utime(image, ns=(1, 1))                   # the file was replaced
    assert changed(check(compiled, tmp_path, "r5")) == 1


def test_the_decision_is_published_as_parameters_and_noted(compiled,
                                                           tmp_path):
    builders.class_tree(tmp_path / "data", {"a": 2})
    output = check(compiled, tmp_path, "r1")
    report = output["artifacts"]["report"]["artifacts"][0]["metadata"]
    assert output["parameterValues"] == {
        "changed": 1, "fingerprint": report["fingerprint"]}
    note = json.loads(tmp_path.joinpath(
        *RUN_ROOT, "r1", "imgpipe-run", "DataCheck.json").read_text())
    assert note["state"] == "COMPLETE"
    assert note["outputs"]["report"]["reason"] == (
        "no completed run is recorded: the pipeline runs")
