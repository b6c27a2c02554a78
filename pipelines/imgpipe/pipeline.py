"""The one pipeline factory, shared by every orchestrator.

`create_pipeline(config, locations)` returns the same TFX pipeline for the
local LocalDagRunner and for Kubeflow Pipelines. `config` says how to train
(imgpipe.config), `locations` where the run reads and writes, built by the
runner; the factory only builds the graph and reads nothing.
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Callable, Optional

# Imported module by module: `tfx.v1` also imports the Google Cloud AI
# Platform extensions, slow to import, that this pipeline never uses.
from tfx.components import (Evaluator, ExampleValidator, SchemaGen,
                            StatisticsGen, Trainer, Transform, Tuner)
from tfx.components.schema_gen.import_schema_gen.component import \
    ImportSchemaGen
from tfx.dsl.experimental.conditionals.conditional import Cond
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import pusher_pb2

from imgpipe import code_fingerprint
from imgpipe_components.augment.component import Augment
from imgpipe_components.data_check.outcome import CHANGED
from imgpipe.wiring import data_check, definition_of
from imgpipe_components.data_gate.component import DataGate
from imgpipe_components.edge_export.component import EdgeExport
from imgpipe_components.evaluate.baseline_strategy import baseline_resolver
from imgpipe_components.evaluate.eval_config import build_eval_config
from imgpipe_components.image_example_gen.component import image_example_gen
from imgpipe_components.model_report.component import ModelReport
from imgpipe_components.push.component import ServingPusher
from imgpipe.config import PipelineConfig
from imgpipe.locations import Locations
from imgpipe.pretraining import pretraining_nodes
from imgpipe_components.settings_codec import to_dict, to_json

PREPROCESSING_FN = "imgpipe_components.transform.preprocessing.preprocessing_fn"
RUN_FN = "imgpipe_components.train.trainer_module.run_fn"
TUNER_FN = "imgpipe_components.tune.tuner_module.tuner_fn"


@dataclasses.dataclass(frozen=True)
class OrchestratorOverrides:
    """What a cluster orchestrator replaces; unset fields keep the local run.

    `train_config` may be a TFX RuntimeParameter (the TrainConfig as JSON),
    which Kubeflow exposes as a run parameter. `extra_nodes` receives the
    pipeline's nodes by id and returns nodes to append (e.g. reports for the
    KFP UI). `end_early_when_unchanged` puts DataCheck first and the rest
    under its condition (components/imgpipe_components/data_check: for orchestrators without
    TFX's cache, i.e. Kubeflow). `baseline_model(candidate_channel, model_store)` builds the node
    whose `model` output the Evaluator compares against: the model in
    service either way; locally a resolver over ML Metadata
    (components/imgpipe_components/evaluate/baseline_strategy.py), on open-source KFP, which
    cannot run resolvers, a step reading the model store
    (components/imgpipe_components/served_baseline).
    """
    train_config: Any = None
    baseline_model: Callable[[Any, str], Any] = baseline_resolver
    end_early_when_unchanged: bool = False
    extra_nodes: Optional[Callable[[dict], list]] = None


def trainer_custom_config(config: PipelineConfig) -> dict:
    """The Trainer's and Tuner's custom_config: the TrainConfig's fields
    (a Kubeflow run parameter replaces it with the same as JSON)."""
    return to_dict(config.train)


def create_pipeline(config: PipelineConfig, locations: Locations,
                    metadata_connection_config: Optional[object] = None,
                    overrides: Optional[OrchestratorOverrides] = None
                    ) -> Pipeline:
    overrides = overrides or OrchestratorOverrides()
    gate = (data_check(config, locations, overrides.train_config)
            if overrides.end_early_when_unchanged else None)
    with (Cond(gate.outputs["report"].future()[0].custom_property(
            CHANGED) == 1) if gate else contextlib.nullcontext()):
        components = _training_nodes(config, locations, overrides)
        if overrides.extra_nodes is not None:
            components += overrides.extra_nodes({c.id: c for c in components})
    code_fingerprint.stamp(components)
    if gate:
        gate.exec_properties["definition"] = definition_of(components)
        components.insert(0, gate)
    return Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=locations.pipeline_root,
        components=components,
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_pipeline_args))


def _training_nodes(config: PipelineConfig, locations: Locations,
                    overrides: OrchestratorOverrides) -> list:
    """Ingest to push, in order; the Pusher last."""
    example_gen = image_example_gen(
        locations.data_root, config.data_gate.max_pixels, config.ingest)
    statistics = StatisticsGen(
        examples=example_gen.outputs["examples"])
    # A curated schema, when given, replaces inference (docs/ingestion.md).
    schema = (ImportSchemaGen(schema_file=config.data_gate.accepted_schema)
              if config.data_gate.accepted_schema else SchemaGen(
                  statistics=statistics.outputs["statistics"],
                  infer_feature_shape=True))
    example_validator = ExampleValidator(
        statistics=statistics.outputs["statistics"],
        schema=schema.outputs["schema"])
    data_gate = DataGate(
        examples=example_gen.outputs["examples"],
        anomalies=example_validator.outputs["anomalies"],
        gate_config=to_json(config.data_gate))
    augment = Augment(
        examples=example_gen.outputs["examples"],
        data_gate_report=data_gate.outputs["report"],
        augment_config=to_json(config.augment),
        seed=config.train.seed)
    transform = Transform(
        examples=augment.outputs["augmented_examples"],
        schema=schema.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        # Pre/post-transform TFDV statistics of 1024 pixel features per image
        # cost more than the transform itself; StatisticsGen covers the raw data.
        disable_statistics=True,
        # Only the graph: the Trainer and Tuner apply it to the raw examples
        # (components/imgpipe_components/train/datasets.py), as serving
        # does. Materialised float pixels are 5x the 28x28 grey PNGs (far
        # more for JPEG photos); writing them costs half of Transform's time,
        # more than decoding once in the Trainer.
        materialize=False,
        custom_config=to_dict(config.transform))
    train_config = (trainer_custom_config(config)
                    if overrides.train_config is None
                    else overrides.train_config)
    tuner = (Tuner(tuner_fn=TUNER_FN,
                   examples=augment.outputs["augmented_examples"],
                   transform_graph=transform.outputs["transform_graph"],
                   schema=schema.outputs["schema"],
                   custom_config=train_config)
             if config.train.tune else None)
    pretraining = pretraining_nodes(config, locations, transform,
                                    train_config)
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=augment.outputs["augmented_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        hyperparameters=(tuner.outputs["best_hyperparameters"]
                         if tuner else None),
        base_model=pretraining[-1].outputs["model"] if pretraining else None,
        custom_config=train_config)
    baseline = overrides.baseline_model(trainer.outputs["model"],
                                        locations.serving_dir)
    # Everything after the gate reads Augment's output, which leaves out the
    # images the gate excluded (its eval split is the real images only).
    examples = augment.outputs["augmented_examples"]
    evaluator = Evaluator(
        examples=examples,
        example_splits=["eval"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=build_eval_config(config.evaluation))
    edge = (EdgeExport(
        model=trainer.outputs["model"],
        examples=examples,
        edge_config=to_json(config.edge))
        if config.edge.enabled else None)
    model_report = ModelReport(
        evaluation=evaluator.outputs["evaluation"],
        blessing=evaluator.outputs["blessing"],
        model_run=trainer.outputs["model_run"],
        model=trainer.outputs["model"],
        examples=examples,
        edge_models=edge.outputs["edge_models"] if edge else None)
    # The report is an input of the push: it lands in the version's
    # assets.extra/ before the version becomes visible.
    pusher = ServingPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        model_report=model_report.outputs["report"],
        evaluation=evaluator.outputs["evaluation"],
        push_config=to_json(config.push),
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(
                base_directory=locations.serving_dir)),
    ).with_id("Pusher")

    return [example_gen, statistics, schema, example_validator, data_gate,
            augment, transform, *([tuner] if tuner else []), *pretraining,
            trainer,
            baseline, evaluator, *([edge] if edge else []), model_report,
            pusher]
