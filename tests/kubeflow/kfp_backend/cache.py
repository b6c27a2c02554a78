"""KFP's execution cache (kubeflow/pipelines backend/src/v2/cacheutils/
cache.go GenerateCacheKey and GenerateFingerPrint; driver/cache.go
getFingerPrint; the lookup by fingerprint, pipeline and namespace of
GetExecutionCache)."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import Dict, List, Optional, Tuple


def cache_key(executor_input: dict, output_parameter_types: Dict[str, str],
              command: List[str], args: List[str], image: str,
              pvc_names: List[str]) -> dict:
    """The CacheKey message as protojson writes it."""
    inputs = executor_input["inputs"]
    outputs = executor_input["outputs"]
    key = {
        "inputArtifactNames": {
            name: {"artifactNames": [a["name"] for a in value["artifacts"]]}
            for name, value in inputs.get("artifacts", {}).items()},
        "inputParameterValues": dict(inputs.get("parameterValues", {})),
        "outputArtifactsSpec": {
            name: {k: v for k, v in value["artifacts"][0].items()
                   if k in ("name", "type", "metadata")}
            for name, value in outputs.get("artifacts", {}).items()
            if value.get("artifacts")},
        "outputParametersSpec": {
            name: output_parameter_types[name]
            for name in outputs.get("parameters", {})},
        "containerSpec": {"image": image, "cmdArgs": [*command, *args],
                          "pvcNames": sorted(set(pvc_names))},
    }
    return {name: value for name, value in key.items() if value}


def fingerprint(key: dict) -> str:
    """sha256 of the key's JSON as Go's encoding/json writes it (sorted
    keys, no spaces)."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclasses.dataclass
class CachedExecution:
    execution_id: int
    outputs: Dict[str, dict]                 # key -> RuntimeArtifact
    parameters: Dict[str, object]            # output parameter values


@dataclasses.dataclass
class ExecutionCache:
    """The successful executions of every simulated run, newest first per
    (fingerprint, pipeline, namespace), as KFP's task table keeps them."""
    entries: Dict[Tuple[str, str, str], CachedExecution] = dataclasses.field(
        default_factory=dict)

    def get(self, fingerprint_: str, pipeline: str, namespace: str
            ) -> Optional[CachedExecution]:
        found = self.entries.get((fingerprint_, pipeline, namespace))
        return copy.deepcopy(found)

    def put(self, fingerprint_: str, pipeline: str, namespace: str,
            execution: CachedExecution) -> None:
        self.entries[(fingerprint_, pipeline, namespace)] = copy.deepcopy(
            execution)
