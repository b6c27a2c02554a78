"""DataCheck and RecordCompletedRun, run through the container entrypoint as
a KFP pod runs them: the same data, settings and stable version as the last
completed run -> `changed` 0 (the rest of the DAG is skipped); a new file, a
new run parameter or a rollback -> 1."""
from __future__ import annotations

import os
from pathlib import Path

from tests.ingest import builders
from tests.kubeflow.executor_input import (artifact, executor_input,
                                           output_types, run_task)


def parameters(compiled, tmp_path: Path, **overrides) -> dict:
    """The task's constants from the spec, local paths where it reads."""
    declared = compiled.spec["root"]["dag"]["tasks"]["DataCheck"]["inputs"][
        "parameters"]
    values = {name: spec["runtimeValue"]["constant"]
              for name, spec in declared.items() if "runtimeValue" in spec}
    values.update(data_root=str(tmp_path / "data"), run_parameters="{}",
                  model_store=str(tmp_path / "serving" / "digits"),
                  record=str(tmp_path / "root" / "record.json"))
    values.update(overrides)
    return values


def check(compiled, tmp_path: Path, name: str, **overrides) -> dict:
    titles = output_types(compiled, "DataCheck")
    invocation = executor_input(
        inputs={}, outputs={"report": artifact(tmp_path / name,
                                               titles["report"])},
        parameters=parameters(compiled, tmp_path, **overrides),
        output_file=tmp_path / f"{name}.json")
    output = run_task(compiled, "DataCheck", invocation)
    return output["artifacts"]["report"]["artifacts"][0]["metadata"]


def complete(compiled, tmp_path: Path, report: dict) -> None:
    """RecordCompletedRun after a Pusher that pushed version 1."""
    titles = output_types(compiled, "DataCheck")
    invocation = executor_input(
        inputs={"data_check": artifact(tmp_path / "check", titles["report"],
                                       metadata=report),
                "pushed_model": artifact(tmp_path / "pushed",
                                         metadata={"pushed": 1})},
        outputs={}, parameters={
            "record": str(tmp_path / "root" / "record.json"),
            "model_store": str(tmp_path / "serving" / "digits")},
        output_file=tmp_path / "record-out.json")
    run_task(compiled, "RecordCompletedRun", invocation)


def test_only_something_new_runs_the_pipeline(compiled, tmp_path):
    builders.class_tree(tmp_path / "data", {"a": 3, "b": 3})
    first = check(compiled, tmp_path, "c1")
    assert first["changed"] == 1                 # no completed run yet
    complete(compiled, tmp_path, first)

    assert check(compiled, tmp_path, "c2")["changed"] == 0
    assert check(compiled, tmp_path, "c3", run_parameters='{"epochs": 3}'
                 )["changed"] == 1              # a new run parameter

    # A version becomes (or after a rollback, stops being) the stable one:
    # the next run is judged against another model in service.
    from tests.unit.test_baseline_strategy import label, push
    store = tmp_path / "serving" / "digits"
    push(store, 1, "/m/1")
    label(store, stable=1, canary=1)
    assert check(compiled, tmp_path, "c5")["changed"] == 1

    image = next((tmp_path / "data" / "a").iterdir())
    os.utime(image, ns=(1, 1))                   # the file was replaced
    assert check(compiled, tmp_path, "c4")["changed"] == 1
