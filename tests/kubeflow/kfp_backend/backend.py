"""The run loop of the simulated backend (see the package docstring)."""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import yaml

from tests.kubeflow.executor_input import (KFP_LAYOUTS, LOGS, kfp_outputs,
                                           run_task)
from tests.kubeflow.kfp_backend import cel
from tests.kubeflow.kfp_backend.cache import (CachedExecution,
                                              ExecutionCache, cache_key,
                                              fingerprint)

EXIT_STRATEGY = "ALL_UPSTREAM_TASKS_COMPLETED"
# Argo node phases of a task, and which of them `depends: X.Succeeded`
# accepts (a cache hit skips only the inner executor: Succeeded).
SUCCEEDED, CACHED, SKIPPED, OMITTED, FAILED = (
    "SUCCEEDED", "CACHED", "SKIPPED", "OMITTED", "FAILED")
PASSES_DEPENDS = (SUCCEEDED, CACHED)
# ML Metadata execution state per phase (an Omitted task has none);
# UpdateDAGExecutionsState counts COMPLETE, CACHED and CANCELED as done.
MLMD_STATE = {SUCCEEDED: "COMPLETE", CACHED: "CACHED", SKIPPED: "CANCELED",
              FAILED: "FAILED"}
DONE_STATES = ("COMPLETE", "CACHED", "CANCELED")
TASK_KEYS = {"componentRef", "dependentTasks", "inputs", "taskInfo",
             "triggerPolicy", "cachingOptions", "retryPolicy"}
PARAMETER_KINDS = {"runtimeValue", "componentInputParameter",
                   "taskOutputParameter", "taskFinalStatus"}


@dataclasses.dataclass
class Run:
    run_id: str
    states: Dict[str, str] = dataclasses.field(default_factory=dict)
    outputs: Dict[str, Dict[str, dict]] = dataclasses.field(
        default_factory=dict)
    parameters: Dict[str, Dict[str, object]] = dataclasses.field(
        default_factory=dict)
    errors: Dict[str, BaseException] = dataclasses.field(default_factory=dict)
    dag_states: Dict[str, str] = dataclasses.field(default_factory=dict)
    executed: List[str] = dataclasses.field(default_factory=list)
    fingerprints: Dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Dag:
    """A DAG being run: its inputs and the run of its tasks."""
    name: str
    parameters: Dict[str, object]
    artifacts: Dict[str, List[dict]]


class Backend:
    """One KFP installation: its ML Metadata ids and execution cache span
    every run submitted to it. `before_step(task)` runs before a task's
    container (to break something on purpose)."""

    def __init__(self, compiled, pipeline_root: Path,
                 namespace: str = "kubeflow-user"):
        self.compiled = compiled
        self.pipeline_root = Path(pipeline_root)
        self.namespace = namespace
        self.cache = ExecutionCache()
        self._ids = itertools.count(1)
        self.before_step: Optional[Callable[[str], None]] = None

    @property
    def pipeline_name(self) -> str:
        return self.compiled.spec["pipelineInfo"]["name"]

    def run(self, run_id: str, parameters: Optional[dict] = None) -> Run:
        root = self.compiled.spec["root"]
        declared = root.get("inputDefinitions", {}).get("parameters", {})
        unknown = set(parameters or {}) - set(declared)
        if unknown:
            raise ValueError(f"run parameters {sorted(unknown)} are not "
                             "declared by the pipeline")
        values = {name: d["defaultValue"] for name, d in declared.items()
                  if "defaultValue" in d}
        values.update(parameters or {})
        run = Run(run_id)
        run.dag_states["root"] = self._run_dag(
            _Dag("root", values, {}), root, run)
        return run

    # -- DAGs ----------------------------------------------------------------

    def _run_dag(self, dag: _Dag, component: dict, run: Run) -> str:
        tasks = component["dag"]["tasks"]
        for name, task in tasks.items():
            _check_task(name, task)
        exits = [n for n, t in tasks.items() if _strategy(t) == EXIT_STRATEGY]
        for name in _order({n: t for n, t in tasks.items() if n not in exits}):
            task = tasks[name]
            if all(run.states.get(d) in PASSES_DEPENDS
                   for d in task.get("dependentTasks", [])):
                self._run_task(dag, name, task, run)
            else:
                run.states[name] = OMITTED
        # Exit hooks: after the DAG they depend on, whatever its phase.
        for name in exits:
            self._run_task(dag, name, tasks[name], run)
        states = [MLMD_STATE.get(run.states[n]) for n in tasks]
        if all(state in DONE_STATES for state in states):
            return "COMPLETE"
        return "FAILED" if "FAILED" in states else "RUNNING"

    def _run_task(self, dag: _Dag, name: str, task: dict, run: Run) -> None:
        spec = self.compiled.spec
        component = spec["components"][task["componentRef"]["name"]]
        try:
            parameters = self._parameters(dag, name, task, component, run)
            artifacts = self._artifacts(dag, name, task, run)
        except _ResolveError as error:
            # The driver fails: the task and its DAG fail.
            run.states[name], run.errors[name] = FAILED, error
            return
        condition = task.get("triggerPolicy", {}).get("condition")
        if condition and not cel.condition_holds(condition, parameters,
                                                 artifacts):
            run.states[name] = SKIPPED
            return
        if "dag" in component:
            inner = _Dag(name, parameters, artifacts)
            state = self._run_dag(inner, component, run)
            run.dag_states[name] = state
            # Argo's phase of the DAG template: Succeeded unless a task
            # failed, also when skipped and omitted tasks leave its ML
            # Metadata state RUNNING.
            run.states[name] = FAILED if state == "FAILED" else SUCCEEDED
            return
        self._run_container(name, task, component, parameters, artifacts,
                            run)

    # -- inputs --------------------------------------------------------------

    def _parameters(self, dag: _Dag, name: str, task: dict, component: dict,
                    run: Run) -> Dict[str, object]:
        values = {}
        for key, source in task.get("inputs", {}).get(
                "parameters", {}).items():
            kinds = set(source) & PARAMETER_KINDS
            if len(kinds) != 1 or set(source) - PARAMETER_KINDS:
                raise NotImplementedError(
                    f"{name}.{key}: parameter source {source} not modelled")
            kind = kinds.pop()
            if kind == "runtimeValue":
                values[key] = self._placeholder(
                    source["runtimeValue"]["constant"], name, run)
            elif kind == "componentInputParameter":
                parent = source["componentInputParameter"]
                if parent not in dag.parameters:
                    raise _ResolveError(
                        f"resolving input parameter {key} of {name}: parent "
                        f"DAG does not have input parameter {parent}")
                values[key] = dag.parameters[parent]
            elif kind == "taskOutputParameter":
                producer = source["taskOutputParameter"]
                produced = run.parameters.get(producer["producerTask"], {})
                if producer["outputParameterKey"] not in produced:
                    raise _ResolveError(
                        f"{name}.{key}: {producer['producerTask']} published "
                        f"no parameter {producer['outputParameterKey']}")
                values[key] = produced[producer["outputParameterKey"]]
            else:
                values[key] = self._final_status(name, task, run)
        return _typed(name, values, component.get("inputDefinitions", {}).get(
            "parameters", {}))

    def _placeholder(self, value, task: str, run: Run):
        if not isinstance(value, str) or "{{$" not in value:
            return value
        known = {"{{$.pipeline_job_uuid}}": run.run_id,
                 "{{$.pipeline_job_name}}": run.run_id,
                 "{{$.pipeline_job_resource_name}}": run.run_id,
                 "{{$.pipeline_task_name}}": task}
        if value not in known:
            raise NotImplementedError(f"{task}: placeholder {value}")
        return known[value]

    def _final_status(self, name: str, task: dict, run: Run) -> dict:
        """resolve.go: the first dependent task's MLMD state; the error is
        left empty ("TODO: Implement fields Message and Code")."""
        producer = task["dependentTasks"][0]
        return {"state": run.dag_states.get(producer) or MLMD_STATE.get(
                    run.states.get(producer), "RUNNING"),
                "pipelineTaskName": producer,
                "pipelineJobResourceName": run.run_id, "error": {}}

    def _artifacts(self, dag: _Dag, name: str, task: dict, run: Run
                   ) -> Dict[str, List[dict]]:
        artifacts = {}
        for key, source in task.get("inputs", {}).get(
                "artifacts", {}).items():
            if "taskOutputArtifact" in source:
                producer = source["taskOutputArtifact"]
                produced = run.outputs.get(producer["producerTask"], {})
                if producer["outputArtifactKey"] not in produced:
                    raise _ResolveError(
                        f"{name}.{key}: {producer['producerTask']} published "
                        f"no artifact {producer['outputArtifactKey']}")
                artifacts[key] = [produced[producer["outputArtifactKey"]]]
            elif "componentInputArtifact" in source:
                parent = source["componentInputArtifact"]
                if parent not in dag.artifacts:
                    raise _ResolveError(
                        f"{name}.{key}: parent DAG does not have input "
                        f"artifact {parent}")
                artifacts[key] = dag.artifacts[parent]
            else:
                raise NotImplementedError(
                    f"{name}.{key}: artifact source {source} not modelled")
        return artifacts

    # -- containers ----------------------------------------------------------

    def _run_container(self, name: str, task: dict, component: dict,
                       parameters: dict, artifacts: dict, run: Run) -> None:
        folder = self.pipeline_root / self.pipeline_name / run.run_id / name
        titles = {key: yaml.safe_load(d["artifactType"]["instanceSchema"])[
            "title"] for key, d in component.get("outputDefinitions", {}).get(
                "artifacts", {}).items()}
        output_parameters = component.get("outputDefinitions", {}).get(
            "parameters", {})
        outputs = kfp_outputs(KFP_LAYOUTS[-1], folder, titles,
                              folder / "output_metadata.json")
        outputs["parameters"] = {
            key: {"outputFile": str(folder / "parameters" / key)}
            for key in output_parameters}
        invocation = {"inputs": {
            "parameterValues": parameters,
            "artifacts": {k: {"artifacts": v} for k, v in artifacts.items()}},
            "outputs": outputs}
        container = self.compiled.executor(task["componentRef"]["name"])
        key = fingerprint(cache_key(
            invocation,
            {k: d["parameterType"] for k, d in output_parameters.items()},
            container.get("command", []), container.get("args", []),
            container["image"], []))
        run.fingerprints[name] = key
        if task.get("cachingOptions", {}).get("enableCache"):
            hit = self.cache.get(key, self.pipeline_name, self.namespace)
            if hit is not None:
                run.outputs[name], run.parameters[name] = (hit.outputs,
                                                           hit.parameters)
                run.states[name] = CACHED
                return
        if self.before_step is not None:
            self.before_step(name)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with _pod_namespace(self.namespace):
                written = run_task(self.compiled,
                                   task["componentRef"]["name"], invocation)
        except Exception as error:  # the pod fails; KFP publishes nothing
            run.executed.append(name)
            run.states[name], run.errors[name] = FAILED, error
            return
        run.executed.append(name)
        run.outputs[name] = self._publish(outputs, written)
        missing = set(output_parameters) - set(
            written.get("parameterValues", {}))
        if missing:
            run.states[name] = FAILED
            run.errors[name] = RuntimeError(
                f"failed to read output parameters {sorted(missing)}")
            return
        run.parameters[name] = dict(written.get("parameterValues", {}))
        run.states[name] = SUCCEEDED
        self.cache.put(key, self.pipeline_name, self.namespace,
                       CachedExecution(next(self._ids), run.outputs[name],
                                       run.parameters[name]))

    def _publish(self, outputs: dict, written: dict) -> Dict[str, dict]:
        """Output artifacts as ML Metadata returns them to later tasks:
        named by a new id, no type, the metadata the executor reported."""
        published = {}
        for key, value in outputs["artifacts"].items():
            if key == LOGS:
                continue
            reported = written.get("artifacts", {}).get(key, {}).get(
                "artifacts", [{}])[0]
            published[key] = {"name": str(next(self._ids)),
                              "uri": value["artifacts"][0]["uri"],
                              "metadata": dict(reported.get("metadata", {}))}
        return published


@contextlib.contextmanager
def _pod_namespace(namespace: str) -> Iterator[None]:
    """The namespace the step's pod sees (its service account's file in a
    cluster; imgpipe_components.data_check.run_record.namespace)."""
    from imgpipe_components.data_check.run_record import NAMESPACE_ENV

    previous = os.environ.get(NAMESPACE_ENV)
    os.environ[NAMESPACE_ENV] = namespace
    try:
        yield
    finally:
        if previous is None:
            del os.environ[NAMESPACE_ENV]
        else:
            os.environ[NAMESPACE_ENV] = previous


class _ResolveError(Exception):
    """The driver cannot resolve a task's inputs: the task fails."""


def _strategy(task: dict) -> str:
    return task.get("triggerPolicy", {}).get("strategy", "")


def _check_task(name: str, task: dict) -> None:
    unknown = set(task) - TASK_KEYS
    if unknown:
        raise NotImplementedError(f"{name}: {sorted(unknown)} not modelled "
                                  "(iterators, importers...)")
    if _strategy(task) not in ("", EXIT_STRATEGY):
        raise NotImplementedError(f"{name}: strategy {_strategy(task)}")


def _order(tasks: Dict[str, dict]) -> List[str]:
    done: List[str] = []
    pending = dict(tasks)
    while pending:
        ready = sorted(n for n, t in pending.items()
                       if set(t.get("dependentTasks", [])) <= set(done))
        if not ready:
            raise ValueError(f"cycle or missing task among {sorted(pending)}")
        done += ready
        for name in ready:
            del pending[name]
    return done


def _typed(task: str, values: dict, declared: dict) -> dict:
    """resolve.go handleParamTypeValidationAndConversion: a missing
    non-optional parameter takes its default or fails; anything given to a
    STRING parameter becomes text (structs as JSON)."""
    for key, definition in declared.items():
        if key not in values:
            if "defaultValue" in definition:
                continue   # the component resolves its own default
            if not definition.get("isOptional"):
                raise _ResolveError(f"{task}: neither value nor default "
                                    f"value provided for {key!r}")
            continue
        if definition["parameterType"] == "STRING" and not isinstance(
                values[key], str):
            values[key] = json.dumps(values[key], separators=(",", ":"))
    return values
