"""Compiles `create_pipeline(config)` into a Kubeflow Pipelines 2.x spec.

The same pipeline factory as the local runner, compiled with TFX's
KubeflowV2DagRunner into the bare PipelineSpec (schema 2.1, `.yaml`) that
open-source KFP accepts, then completed where TFX 1.16 leaves gaps for it:

- runtime parameters get their defaults in the spec (TFX writes them only
  into the Vertex job wrapper, which the `.yaml` output drops);
- the pipeline root becomes the spec's default (same reason);
- the exit handler (RecordRun) gets the run parameters passed into TFX's
  `tfx-dag` sub-DAG (spec_layout.py);
- the steps under DataCheck's condition see its decision as parameters by
  value, not as its report artifact, whose new id every run would change
  every step's KFP cache key; ExampleGen's key is the data fingerprint
  (cache_keys.py);
- every step gets CPU and memory requests and a retry policy, the GPU
  steps their own image if one is set, and an appended `platforms:
  kubernetes:` document gives every pod its time limit (and, opted in, its
  security context), the GPU steps their node selector and tolerations,
  and the model-store steps their volume (platform.py);
- the Resolver node, which open-source KFP cannot run, is replaced by
  `ServedBaselineModel`, and containers start through
  `imgpipe.runners.kubeflow.entrypoint` (see there why), each told the
  outputs its component declares (the launcher adds its own).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Tuple

import yaml

from imgpipe.config import PipelineConfig
from imgpipe.runners.kubeflow import cache_keys, platform, spec_layout
from imgpipe.runners.kubeflow.settings import KubeflowConfig

ENTRYPOINT = ("python", "-m", "imgpipe.runners.kubeflow.entrypoint")
DATA_ROOT_PARAMETER = "data_root"
TRAIN_CONFIG_PARAMETER = "train_config"
# Only ExampleGen's driver resolves these, and open-source KFP does not run
# it. ({SPAN} is resolved by our executor too: components/imgpipe_components/image_example_gen/
# spans.py.)
DRIVER_ONLY_PATTERNS = ("{VERSION}", "{YYYY}", "{MM}", "{DD}")


class KubeflowCompileError(ValueError):
    """The pipeline cannot run on Kubeflow as configured."""


def serving_dir(config: PipelineConfig, kubeflow: KubeflowConfig) -> str:
    return f"{kubeflow.model_store.rstrip('/')}/{config.model_name}"


def runtime_parameters(config: PipelineConfig, kubeflow: KubeflowConfig):
    """Name -> TFX RuntimeParameter for what a run may change.

    Epochs cannot be a parameter of its own: the stock Trainer takes its
    settings as one JSON string (custom_config) and TrainArgs is a proto,
    which the V2 runner compiles as a constant. The whole training config is
    therefore the parameter; `imgpipe kubeflow submit --epochs` edits it.
    """
    from tfx.orchestration.data_types import RuntimeParameter

    from imgpipe.pipeline import trainer_custom_config

    return {
        DATA_ROOT_PARAMETER: RuntimeParameter(
            name=DATA_ROOT_PARAMETER, ptype=str, default=kubeflow.data_root),
        TRAIN_CONFIG_PARAMETER: RuntimeParameter(
            name=TRAIN_CONFIG_PARAMETER, ptype=str,
            default=json.dumps(trainer_custom_config(config), sort_keys=True)),
    }


def build_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig):
    """The TFX pipeline, with Kubeflow's overrides and per-component
    resources."""
    from imgpipe.locations import Locations
    from imgpipe.pipeline import OrchestratorOverrides, create_pipeline
    from imgpipe.wiring import ui_report_nodes
    from imgpipe_components.served_baseline.component import served_baseline

    parameters = runtime_parameters(config, kubeflow)
    store = serving_dir(config, kubeflow)
    pipeline = create_pipeline(
        dataclasses.replace(
            config, beam_pipeline_args=tuple(kubeflow.beam_pipeline_args)),
        Locations(data_root=parameters[DATA_ROOT_PARAMETER],
                  pipeline_root=kubeflow.pipeline_root, serving_dir=store),
        overrides=OrchestratorOverrides(
            train_config=parameters[TRAIN_CONFIG_PARAMETER],
            baseline_model=served_baseline, end_early_when_unchanged=True,
            extra_nodes=ui_report_nodes))
    _check_no_driver_patterns(pipeline)
    return pipeline


def _check_no_driver_patterns(pipeline) -> None:
    from tfx.components import FileBasedExampleGen

    for component in pipeline.components:
        if not isinstance(component, FileBasedExampleGen):
            continue
        input_config = json.loads(component.exec_properties["input_config"])
        for split in input_config.get("splits", []):
            used = [p for p in DRIVER_ONLY_PATTERNS if p in split["pattern"]]
            if used:
                raise KubeflowCompileError(
                    f"{component.id}: input pattern {split['pattern']!r} uses "
                    f"{', '.join(used)}, which only ExampleGen's driver "
                    "resolves, and open-source KFP does not run that driver. "
                    f"Use {{SPAN}} folders or point the '{DATA_ROOT_PARAMETER}'"
                    " run parameter at the folder to ingest.")


def compile_spec(config: PipelineConfig, kubeflow: KubeflowConfig
                 ) -> Tuple[dict, dict]:
    """(pipeline spec, platform spec) as dictionaries."""
    from tfx.orchestration.kubeflow.v2.kubeflow_v2_dag_runner import (
        KubeflowV2DagRunner, KubeflowV2DagRunnerConfig)

    from imgpipe.runners.kubeflow.entrypoint import (EXTRA_ARTIFACT_TYPES,
                                                     declare_outputs)
    from imgpipe_components import library_internals

    pipeline = build_pipeline(config, kubeflow)
    runner = KubeflowV2DagRunner(config=KubeflowV2DagRunnerConfig(
        default_image=kubeflow.image, default_commands=list(ENTRYPOINT),
        use_pipeline_spec_2_1=True))
    runner.set_exit_handler(record_run(config, kubeflow))
    # The standard types TFX's V2 compiler does not list, under the titles
    # the entrypoint maps back at run time.
    with library_internals.artifact_titles_at_compile(EXTRA_ARTIFACT_TYPES):
        job = runner.run(pipeline, write_out=False)
    spec = job["pipelineSpec"]
    spec["defaultPipelineRoot"] = kubeflow.pipeline_root
    _add_parameter_defaults(spec, runtime_parameters(config, kubeflow))
    spec_layout.pass_run_parameters(spec)
    platform.add_resources(spec, kubeflow)
    platform.set_images(spec, kubeflow)
    platform.add_retries(spec, kubeflow)
    cache_keys.condition_on_parameters(spec)
    declare_outputs(spec)
    _never_cache_run_time_reads(spec)
    return spec, platform.platform_spec(spec, kubeflow)


def record_run(config: PipelineConfig, kubeflow: KubeflowConfig):
    """The exit handler: records and reports how every run ended."""
    from tfx.orchestration.kubeflow.decorators import FinalStatusStr

    from imgpipe_components.data_check.component import RECORD_ID, RecordRun

    return RecordRun(final_status=FinalStatusStr(),
                     model_store=serving_dir(config, kubeflow),
                     webhook=kubeflow.webhook).with_id(RECORD_ID)


def _add_parameter_defaults(spec: dict, parameters: dict) -> None:
    declared = spec["root"]["inputDefinitions"]["parameters"]
    for name, parameter in parameters.items():
        declared[name]["defaultValue"] = parameter.default


def _never_cache_run_time_reads(spec: dict) -> None:
    """KFP's cache key is a task's inputs; what two steps read when they run
    is not among them: the files behind the data root and the last run's
    record (DataCheck), and which version holds the `stable` label now.
    Cached, DataCheck would answer from an old run and the baseline ignore
    promotions and rollbacks. (ExampleGen reads the files too, but its key
    holds DataCheck's fingerprint of them: cache_keys.py.) The unlabelled
    images' ExampleGen, there only when pretraining, is never cached."""
    from imgpipe_components.data_check.component import DATA_CHECK_ID
    from imgpipe_components.image_example_gen.names import \
        UNLABELLED_EXAMPLE_GEN
    from imgpipe_components.served_baseline.component import NODE_ID
    tasks = spec_layout.pipeline_tasks(spec)
    for task_id in (DATA_CHECK_ID, UNLABELLED_EXAMPLE_GEN, NODE_ID):
        if task_id in tasks:
            tasks[task_id]["cachingOptions"] = {"enableCache": False}


def _check_output_name(output: Path) -> None:
    if output.suffix not in (".yaml", ".yml"):
        raise KubeflowCompileError(
            f"{output}: the output must end in .yaml (KFP 2.x reads the bare "
            "pipeline spec from YAML; TFX's .json is the Vertex job wrapper).")


def write_spec(spec: dict, platform: dict, output: Path) -> Path:
    """One YAML file: the pipeline spec, then the platform document if any."""
    _check_output_name(output)
    documents: List[dict] = [spec] + ([platform] if platform else [])
    header = (f"# PIPELINE DEFINITION\n# Name: {spec['pipelineInfo']['name']}\n"
              f"# Compiled by imgpipe from TFX ({spec.get('sdkVersion')}).\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + yaml.safe_dump_all(documents, sort_keys=True))
    return output


def compile_pipeline(config: PipelineConfig, kubeflow: KubeflowConfig,
                     output: Path) -> Path:
    _check_output_name(output)  # before the minute of imports and compiling
    spec, platform = compile_spec(config, kubeflow)
    return write_spec(spec, platform, output)
