"""Runs one compiled component the way a KFP 2.x pod does, in this process.

The KFP launcher starts the container command with the executor's args,
`{{$}}` replaced by the ExecutorInput JSON (inputs, output URIs, the output
metadata file). Here the command is `imgpipe.runners.kubeflow.entrypoint`, called
in-process with the args from the compiled spec; URIs are local folders.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Dict, Optional

import yaml


def artifact(uri: Path, title: Optional[str] = None,
             metadata: Optional[dict] = None) -> dict:
    """A RuntimeArtifact; `title=None` leaves the type empty, as the KFP
    backend does for inputs it reads back from ML Metadata."""
    artifact_type = ({"instanceSchema": yaml.safe_dump({"title": title})}
                     if title else {})
    return {"name": f"artifacts/{uri.name}", "uri": str(uri),
            "type": artifact_type, "metadata": metadata or {}}


def executor_input(inputs: Dict[str, dict], outputs: Dict[str, dict],
                   parameters: Dict[str, object], output_file: Path) -> dict:
    return {"inputs": {"artifacts": {k: {"artifacts": [v]}
                                     for k, v in inputs.items()},
                       "parameterValues": parameters},
            "outputs": {"artifacts": {k: {"artifacts": [v]}
                                      for k, v in outputs.items()},
                        "outputFile": str(output_file)}}


def output_types(compiled, task: str) -> Dict[str, str]:
    """Output name -> title, as the launcher passes them to the executor."""
    definitions = compiled.spec["components"][task]["outputDefinitions"]
    return {name: yaml.safe_load(spec["artifactType"]["instanceSchema"])["title"]
            for name, spec in definitions["artifacts"].items()}


def run_task(compiled, task: str, invocation: dict) -> dict:
    """Runs the task's container args through our entrypoint; returns the
    ExecutorOutput the launcher would read back."""
    from imgpipe.runners.kubeflow import entrypoint as kubeflow_entrypoint

    args = [json.dumps(invocation) if arg == "{{$}}" else arg
            for arg in compiled.executor(task)["args"]]
    kubeflow_entrypoint.run(["kubeflow_entrypoint"] + args)
    return json.loads(Path(invocation["outputs"]["outputFile"]).read_text())


# How each KFP backend shapes an executor input's outputs, read in
# kubeflow/pipelines: backend/src/v2/driver/driver.go (provisionOutputs)
# and backend/src/v2/component/launcher_v2.go (qualifyExecutorLogsForRetry,
# run before the `{{$}}` placeholder is filled).
@dataclasses.dataclass(frozen=True)
class KfpLayout:
    release: str
    # `executor-logs`, typed system.Artifact, beside the declared outputs:
    # 2.5.0+ with PUBLISH_LOGS=true (its manifests' default).
    executor_logs: bool
    # RuntimeArtifact.name is the output key; outputFile is
    # <local task root>/output_metadata.json, the task root being the
    # artifacts' parent: 2.15.0+. Before: no name, and
    # /tmp/kfp_outputs/output_metadata.json.
    task_root_layout: bool
    # The logs URI gets "-<retry index>" (executor-logs-0...): 2.16.1+.
    retry_suffix: bool


KFP_LAYOUTS = (KfpLayout("2.4.1", False, False, False),
               KfpLayout("2.5.0", True, False, False),
               KfpLayout("2.14.3", True, False, False),
               KfpLayout("2.15.0", True, True, False),
               KfpLayout("2.16.1", True, True, True))
SYSTEM_ARTIFACT = {"schemaTitle": "system.Artifact"}
LOGS = "executor-logs"


def kfp_outputs(layout: KfpLayout, task_root: Path, titles: Dict[str, str],
                legacy_output_file: Path, retry_index: int = 0) -> dict:
    """ExecutorInput.outputs as that backend builds them, under `task_root`
    (<pipeline root>/<task>/<uuid>; local here, so its local path is
    itself). `legacy_output_file` stands for /tmp/kfp_outputs/... ."""
    types = {name: {"instanceSchema": yaml.safe_dump({"title": title})}
             for name, title in titles.items()}
    if layout.executor_logs:
        types[LOGS] = dict(SYSTEM_ARTIFACT)
    artifacts = {}
    for name, artifact_type in types.items():
        uri = str(task_root / name)
        if name == LOGS and layout.retry_suffix:
            uri += f"-{retry_index}"
        runtime = {"uri": uri, "type": artifact_type}
        if layout.task_root_layout:
            runtime = {"name": name, **runtime}
        artifacts[name] = {"artifacts": [runtime]}
    output_file = (task_root / "output_metadata.json"
                   if layout.task_root_layout else legacy_output_file)
    return {"artifacts": artifacts, "outputFile": str(output_file)}


def kfp_input(uri: Path, mlmd_id: int, metadata: Optional[dict] = None
              ) -> dict:
    """An input read back from ML Metadata (backend/src/v2/metadata/
    converter.go, toRuntimeArtifact): named by its id, no type."""
    return {"name": str(mlmd_id), "uri": str(uri), "metadata": metadata or {}}
