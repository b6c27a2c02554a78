"""Trigger conditions as KFP's driver evaluates them: CEL over the
ExecutorInput (kubeflow/pipelines backend/src/v2/expression/expression.go,
Condition). Fields are the proto's (snake_case), numbers structpb doubles.
"""
from __future__ import annotations

import celpy

_ENVIRONMENT = celpy.Environment()


def executor_input_fields(parameters: dict, artifacts: dict) -> dict:
    """The CEL activation of an ExecutorInput: `inputs.parameter_values`
    and `inputs.artifacts[K].artifacts[i].{name,uri,metadata}`."""
    return {"inputs": celpy.json_to_cel({
        "parameter_values": {k: _number_as_double(v)
                             for k, v in parameters.items()},
        "artifacts": {k: {"artifacts": [
            {"name": a["name"], "uri": a["uri"],
             "metadata": {mk: _number_as_double(mv) for mk, mv
                          in a.get("metadata", {}).items()}}
            for a in artifact_list]} for k, artifact_list in artifacts.items()},
    })}


def _number_as_double(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value)


def condition_holds(condition: str, parameters: dict, artifacts: dict) -> bool:
    program = _ENVIRONMENT.program(_ENVIRONMENT.compile(condition))
    result = program.evaluate(executor_input_fields(parameters, artifacts))
    if not isinstance(result, celpy.celtypes.BoolType):
        raise ValueError(f"condition {condition!r} gave {result!r}, not a "
                         "bool (KFP: 'return type is not bool')")
    return bool(result)
