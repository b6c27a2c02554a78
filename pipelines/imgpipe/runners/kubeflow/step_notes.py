"""What each step leaves for the exit handler, and the output parameters
KFP reads from a step.

A step's note (`<run root>/imgpipe-run/<task>.json`, see
imgpipe_components.data_check.run_record) says COMPLETE with its outputs'
metadata, or FAILED with the error: KFP publishes no output of a failed
step and passes the exit handler an empty error, so this is where the
record finds the failing step, its reason and, for a data-gate stop, the
report. A step served from KFP's cache runs no container and writes no
note; it succeeded in an earlier run.

Output parameters: KFP conditions and cache keys see parameters by value
and artifacts by identity (a new id every run). The runner declares output
parameters copied from a property of an output artifact (DataCheck's
`changed` and `fingerprint`); they are written into the ExecutorOutput,
which KFP's launcher reads first (kubeflow/pipelines backend/src/v2/
component/launcher_v2.go, collectOutputParameters).
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Dict, List, Optional

from absl import logging

from imgpipe_components.data_check import run_record


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="milliseconds")


def _note_uri(step: str, executor_input: dict) -> Optional[str]:
    for outputs in executor_input.get("outputs", {}).get(
            "artifacts", {}).values():
        for artifact in outputs.get("artifacts", []):
            try:
                return run_record.run_place(artifact["uri"], step).note_uri(
                    step)
            except (KeyError, ValueError):
                continue
    return None


def failed(step: Optional[str], executor_input: dict,
           error: BaseException) -> None:
    """Notes the failure; a note that cannot be written is logged, so that
    the step's own error is what KFP shows."""
    uri = step and _note_uri(step, executor_input)
    if not uri:
        return
    try:
        run_record.write_json(uri, {
            "state": "FAILED", "at": _now(), "error": str(error),
            "error_type": type(error).__name__,
            "report": getattr(error, "report", None)})
    except Exception as note_error:  # noqa: BLE001 (any storage failure)
        logging.warning("Could not write %s: %s", uri, note_error)


def completed(step: Optional[str], executor_input: dict,
              output_parameters: Dict[str, List[str]]) -> None:
    """Adds the output parameters to the ExecutorOutput and writes the
    note."""
    output_file = Path(executor_input["outputs"]["outputFile"])
    written = (json.loads(output_file.read_text())
               if output_file.exists() else {})
    metadata = {key: (value.get("artifacts") or [{}])[0].get("metadata", {})
                for key, value in written.get("artifacts", {}).items()}
    if output_parameters:
        values = written.setdefault("parameterValues", {})
        for name, (artifact, prop) in output_parameters.items():
            if prop not in metadata.get(artifact, {}):
                raise RuntimeError(
                    f"{step}: output parameter {name} needs property {prop} "
                    f"of output {artifact}, which the executor did not set")
            values[name] = metadata[artifact][prop]
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(json.dumps(written))
    uri = step and _note_uri(step, executor_input)
    if uri:
        run_record.write_json(uri, {"state": "COMPLETE", "at": _now(),
                                    "outputs": metadata})
