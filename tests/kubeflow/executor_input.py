"""Runs one compiled component the way a KFP 2.x pod does, in this process.

The KFP launcher starts the container command with the executor's args,
`{{$}}` replaced by the ExecutorInput JSON (inputs, output URIs, the output
metadata file). Here the command is `imgpipe.runners.kubeflow.entrypoint`, called
in-process with the args from the compiled spec; URIs are local folders.
"""
from __future__ import annotations

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
