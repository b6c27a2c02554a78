"""ServedBaselineModel: the Evaluator's baseline on Kubeflow Pipelines.

The baseline is the model in service on every orchestrator: the version
holding the `stable` label in the model store (imgpipe_components.model_store.
in_service). Locally a resolver finds that version's Model artifact in ML
Metadata (components/imgpipe_components/evaluate/baseline_strategy.py); open-source KFP 2.x
cannot run TFX Resolver nodes (its workflow compiler answers "resolver not
implemented yet"), so on Kubeflow this step reads the label when it runs
and copies that version as its `model` output. The compiled spec never
serves it from KFP's cache: the label is not among its inputs
(pipelines/imgpipe/runners/kubeflow/runner.py).

With no stable version (the first run, or a stable folder that is gone) the
candidate itself becomes the baseline: the "not worse than the baseline"
check compares a model with itself and passes, and the absolute thresholds
alone decide, as the resolver-less local first run does.
"""
# No `from __future__ import annotations`: TFX reads the component's type
# hints as objects.
from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model

NODE_ID = "served_baseline_model"
SOURCE_PROPERTY = "baseline_source"
VERSION_PROPERTY = "baseline_version"    # 0: no stable version, the candidate


@component
def ServedBaselineModel(candidate: InputArtifact[Model],
                        model: OutputArtifact[Model],
                        model_store: Parameter[str]) -> None:
    from absl import logging
    from tfx.utils import io_utils, path_utils

    from imgpipe_components.model_store.in_service import servable_stable_version
    from imgpipe_components.model_store.versions import version_uri

    version = servable_stable_version(model_store)
    if version is None:
        source = path_utils.serving_model_path(
            candidate.uri, path_utils.is_old_model_artifact(candidate))
        note = "candidate (no stable version in the model store yet)"
    else:
        source = note = version_uri(model_store, version)
    logging.info("Baseline for the Evaluator: %s", note)
    model.set_string_custom_property(SOURCE_PROPERTY, note)
    model.set_int_custom_property(VERSION_PROPERTY, version or 0)
    # The Evaluator reads a Model artifact's SavedModel from this layout.
    io_utils.copy_dir(source, path_utils.serving_model_dir(model.uri))


def served_baseline(candidate_channel, model_store: str):
    """OrchestratorOverrides.baseline_model for Kubeflow."""
    return ServedBaselineModel(candidate=candidate_channel,
                               model_store=model_store).with_id(NODE_ID)
