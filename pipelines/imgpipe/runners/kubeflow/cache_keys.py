"""KFP cache keys that stay the same when the data does.

KFP's cache key for a task is a hash of its executor input: the input
artifacts by *name* (their ML Metadata ids), the input parameter values,
the output specs without URIs, the image and the command (kubeflow/pipelines
backend/src/v2/cacheutils/cache.go, GenerateCacheKey; driver/cache.go,
getFingerPrint). TFX's V2 compiler gives every step under a `Cond` the
condition's artifact as an input (`_DataCheck.report`) so that its trigger
condition can read the artifact's metadata; DataCheck runs in every run, so
that artifact's id, and with it every step's key, is new each time and no
step is ever served from the cache: after a failed Pusher the next run
ingested and trained again.

Here DataCheck also publishes `changed` and `fingerprint` as output
parameters (written by the entrypoint from its report's properties:
step_notes.py), and each conditional step reads `changed` as an input
parameter instead of the artifact; the condition compares that value. A
parameter enters the key by value, which is the same in every run that goes
on. ExampleGen, whose output is what the files under the data root hold,
also takes DataCheck's fingerprint of those files, the definition and the
run parameters, and is cached on it: unchanged data yields the same
ExampleGen artifacts, hence the same ids downstream and cache hits down to
the Trainer.
"""
from __future__ import annotations

import json

from imgpipe.runners.kubeflow import spec_layout
from imgpipe.runners.kubeflow.entrypoint import (CONDITION_INPUT_PREFIX,
                                                 OUTPUT_PARAMETERS_FLAG)
from imgpipe_components.data_check.component import DATA_CHECK_ID
from imgpipe_components.data_check.outcome import CHANGED, FINGERPRINT

EXAMPLE_GEN_ID = "ImageExampleGen"
REPORT = "report"
# TFX names a condition's input `_<producer>.<output key>`.
CONDITION_ARTIFACT = f"_{DATA_CHECK_ID}.{REPORT}"
CONDITION_READ = (f"inputs.artifacts['{CONDITION_ARTIFACT}'].artifacts[0]"
                  f".metadata['{CHANGED}']")
CHANGED_INPUT = f"{CONDITION_INPUT_PREFIX}data_check_changed"
FINGERPRINT_INPUT = f"{CONDITION_INPUT_PREFIX}data_fingerprint"
OUTPUT_PARAMETERS = {CHANGED: "NUMBER_INTEGER", FINGERPRINT: "STRING"}


def condition_on_parameters(spec: dict) -> None:
    _publish_parameters(spec)
    for name, task in spec_layout.pipeline_tasks(spec).items():
        artifacts = task.get("inputs", {}).get("artifacts", {})
        if CONDITION_ARTIFACT not in artifacts:
            continue
        condition = task.get("triggerPolicy", {}).get("condition", "")
        if CONDITION_READ not in condition:
            raise ValueError(f"{name}: condition {condition!r} does not read "
                             f"{CONDITION_READ}; the spec changed shape")
        del artifacts[CONDITION_ARTIFACT]
        if not artifacts:
            del task["inputs"]["artifacts"]
        task["triggerPolicy"]["condition"] = condition.replace(
            CONDITION_READ, f"inputs.parameter_values['{CHANGED_INPUT}']")
        inputs = {CHANGED_INPUT: CHANGED}
        if name == EXAMPLE_GEN_ID:
            inputs[FINGERPRINT_INPUT] = FINGERPRINT
            task["cachingOptions"] = {"enableCache": True}
        _take_parameters(spec, task, inputs)


def _publish_parameters(spec: dict) -> None:
    component = spec["components"][DATA_CHECK_ID]
    component.setdefault("outputDefinitions", {})["parameters"] = {
        name: {"parameterType": kind}
        for name, kind in OUTPUT_PARAMETERS.items()}
    executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
    executor["container"]["args"].append(
        f"{OUTPUT_PARAMETERS_FLAG}=" + json.dumps(
            {name: [REPORT, name] for name in OUTPUT_PARAMETERS}))


def _take_parameters(spec: dict, task: dict, inputs: dict) -> None:
    """The task reads DataCheck's output parameters (`inputs`: input name ->
    output name); its component declares them in place of the artifact."""
    parameters = task["inputs"].setdefault("parameters", {})
    component = spec["components"][task["componentRef"]["name"]]
    definitions = component.setdefault("inputDefinitions", {})
    definitions.get("artifacts", {}).pop(CONDITION_ARTIFACT, None)
    if "artifacts" in definitions and not definitions["artifacts"]:
        del definitions["artifacts"]
    for input_name, output_name in inputs.items():
        parameters[input_name] = {"taskOutputParameter": {
            "producerTask": DATA_CHECK_ID, "outputParameterKey": output_name}}
        definitions.setdefault("parameters", {})[input_name] = {
            "parameterType": OUTPUT_PARAMETERS[output_name]}
