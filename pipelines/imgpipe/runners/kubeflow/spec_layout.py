"""Where the tasks of the compiled spec live, and the exit-handler fix.

With an exit handler, TFX 1.16's V2 compiler (tfx/orchestration/kubeflow/
v2/pipeline_builder.py) puts every step into a sub-DAG component,
`tfx-dag`, and the exit task beside it in the root DAG, its trigger
strategy ALL_UPSTREAM_TASKS_COMPLETED so that it runs however `tfx-dag`
ended. It declares the run parameters on the root only: the sub-DAG has no
`inputDefinitions` and its task passes none, so on KFP every inner step
reading `data_root` or `train_config` fails with "parent DAG does not have
input parameter" (kubeflow/pipelines backend/src/v2/driver/resolve.go,
resolveInputParameter, which reads a componentInputParameter from the
parent DAG's own inputs). `pass_run_parameters` declares them on the
sub-DAG and passes them down from the root.
"""
from __future__ import annotations

import copy
from typing import Dict

SUB_DAG = "tfx-dag"     # tfx.orchestration.kubeflow.utils.TFX_DAG_NAME


def executor_tasks(spec: dict) -> Dict[str, dict]:
    """Every task that runs a container, by name: the steps (in `tfx-dag`
    when there is an exit handler) and the root's own container tasks."""
    root = spec["root"]["dag"]["tasks"]
    inner = spec["components"].get(SUB_DAG, {}).get("dag", {}).get(
        "tasks", {})
    return {**inner, **{name: task for name, task in root.items()
                        if name != SUB_DAG}}


def pipeline_tasks(spec: dict) -> Dict[str, dict]:
    """The steps of the pipeline itself (without the exit handler)."""
    sub_dag = spec["components"].get(SUB_DAG)
    return (sub_dag["dag"]["tasks"] if sub_dag
            else spec["root"]["dag"]["tasks"])


def pass_run_parameters(spec: dict) -> None:
    sub_dag = spec["components"].get(SUB_DAG)
    if sub_dag is None:
        return
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    sub_dag["inputDefinitions"] = {"parameters": {
        name: {key: value for key, value in copy.deepcopy(d).items()
               if key != "defaultValue"} for name, d in declared.items()}}
    spec["root"]["dag"]["tasks"][SUB_DAG]["inputs"] = {"parameters": {
        name: {"componentInputParameter": name} for name in declared}}
