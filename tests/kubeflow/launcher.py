"""A stand-in for the KFP v2 backend: runs a compiled spec task by task.

What the real backend does, and this does too: tasks in dependency order;
each task's parameters from the spec's constants and the run's parameters
(or their defaults); its input artifacts from the producers' outputs, with
the metadata their executors wrote; its trigger condition evaluated on those
inputs (a task whose condition is false, or whose producer was skipped, is
skipped); output URIs laid out as KFP v2's launcher lays them out,
`<pipeline_root>/<pipeline name>/<run id>/<task>/<output key>`; and the
container's command run with the ExecutorInput (here in-process, through
the same entrypoint: tests/kubeflow/executor_input.py).

What it does not do: KFP's cache (every task that may run, runs) and CEL
beyond the one form TFX's V2 compiler writes for a custom-property
predicate: `inputs.artifacts['K'].artifacts[0].metadata['P'] == V`. Any
other condition fails loudly rather than being guessed.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from tests.kubeflow.executor_input import (KFP_LAYOUTS, LOGS, executor_input,
                                           kfp_outputs, run_task)

CONDITION = re.compile(
    r"\(?inputs\.artifacts\['(?P<key>[^']+)'\]\.artifacts\[0\]\.metadata"
    r"\['(?P<property>[^']+)'\] == (?P<value>[-\d.]+)\)?")


@dataclasses.dataclass
class Run:
    states: Dict[str, str]                  # task -> COMPLETE | SKIPPED
    outputs: Dict[str, Dict[str, dict]]     # task -> key -> RuntimeArtifact


def _order(tasks: Dict[str, dict]) -> List[str]:
    done: List[str] = []
    pending = dict(tasks)
    while pending:
        ready = [name for name, task in pending.items()
                 if set(_upstream(task)) <= set(done)]
        if not ready:
            raise ValueError(f"cycle or missing task among {sorted(pending)}")
        for name in sorted(ready):
            done.append(name)
            del pending[name]
    return done


def _upstream(task: dict) -> List[str]:
    producers = [spec["taskOutputArtifact"]["producerTask"] for spec in
                 task.get("inputs", {}).get("artifacts", {}).values()]
    return sorted(set(producers) | set(task.get("dependentTasks", [])))


def _condition_holds(condition: Optional[str], inputs: Dict[str, dict]) -> bool:
    if not condition:
        return True
    clauses = [c.strip() for c in condition.split("&&")]
    for clause in clauses:
        match = CONDITION.fullmatch(clause)
        if match is None:
            raise NotImplementedError(f"condition not understood: {clause}")
        value = inputs[match["key"]]["metadata"].get(match["property"])
        if value is None or float(value) != float(match["value"]):
            return False
    return True


def _parameters(task: dict, run_parameters: Dict[str, object],
                defaults: Dict[str, object]) -> Dict[str, object]:
    values = {}
    for name, spec in task.get("inputs", {}).get("parameters", {}).items():
        if "runtimeValue" in spec:
            values[name] = spec["runtimeValue"]["constant"]
        else:
            source = spec["componentInputParameter"]
            values[name] = run_parameters.get(source, defaults.get(source))
    return values


def _output_titles(spec: dict, task: dict) -> Dict[str, str]:
    component = spec["components"][task["componentRef"]["name"]]
    definitions = component.get("outputDefinitions", {}).get("artifacts", {})
    return {key: yaml.safe_load(d["artifactType"]["instanceSchema"])["title"]
            for key, d in definitions.items()}


def run_pipeline(compiled, pipeline_root: Path, run_id: str,
                 run_parameters: Dict[str, object]) -> Run:
    spec = compiled.spec
    tasks = spec["root"]["dag"]["tasks"]
    defaults = {name: d.get("defaultValue") for name, d in
                spec["root"]["inputDefinitions"]["parameters"].items()}
    name = spec["pipelineInfo"]["name"]
    run = Run({}, {})
    mlmd_ids = iter(range(1, 1 << 31))
    for task_name in _order(tasks):
        task = tasks[task_name]
        inputs = {}
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            producer = source["taskOutputArtifact"]
            produced = run.outputs.get(producer["producerTask"], {})
            if producer["outputArtifactKey"] in produced:
                inputs[key] = produced[producer["outputArtifactKey"]]
        upstream_ran = all(run.states.get(t) == "COMPLETE"
                           for t in _upstream(task))
        if not upstream_ran or not _condition_holds(
                task.get("triggerPolicy", {}).get("condition"), inputs):
            run.states[task_name] = "SKIPPED"
            continue
        folder = pipeline_root / name / run_id / task_name
        invocation = executor_input(
            {key: {**value, "name": str(next(mlmd_ids))}
             for key, value in inputs.items()}, {},
            _parameters(task, run_parameters, defaults),
            folder / "output_metadata.json")
        invocation["outputs"] = kfp_outputs(
            KFP_LAYOUTS[-1], folder, _output_titles(spec, task),
            folder / "output_metadata.json")
        folder.mkdir(parents=True, exist_ok=True)
        written = run_task(compiled, task["componentRef"]["name"], invocation)
        outputs = {key: value["artifacts"][0] for key, value
                   in invocation["outputs"]["artifacts"].items()
                   if key != LOGS}
        for key, value in outputs.items():
            reported = written.get("artifacts", {}).get(key, {}).get(
                "artifacts", [{}])[0]
            value["metadata"] = {**value.get("metadata", {}),
                                 **reported.get("metadata", {})}
        run.outputs[task_name] = outputs
        run.states[task_name] = "COMPLETE"
    return run
