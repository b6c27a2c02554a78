"""ServedBaselineModel: the Evaluator's baseline on Kubeflow Pipelines.

Locally the baseline comes from TFX's LatestBlessedModel Resolver, which
queries ML Metadata. Open-source KFP 2.x cannot run TFX Resolver nodes (its
workflow compiler answers "resolver not implemented yet"), so on Kubeflow the
baseline is read from the model store instead: the newest numbered version
the Pusher wrote there that does not hold the candidate itself (the Pusher
records each version's source model). Every pushed version was blessed, so
this is the model the local resolver picks (the latest blessed model other
than the candidate) unless a version was deleted by hand.

With an empty store (the first run) the candidate itself becomes the
baseline: the "not worse than the baseline" check then compares a model with
itself and passes, and the absolute accuracy bound alone decides, exactly as
the Resolver-less local first run does.
"""
# No `from __future__ import annotations`: TFX reads the component's type
# hints as objects.
import os

from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model

NODE_ID = "served_baseline_model"
SOURCE_PROPERTY = "baseline_source"


@component
def ServedBaselineModel(candidate: InputArtifact[Model],
                        model: OutputArtifact[Model],
                        model_store: Parameter[str]) -> None:
    from tfx.utils import io_utils, path_utils

    source = newest_version_dir(model_store, exclude_model_uri=candidate.uri)
    if source is None:
        source = path_utils.serving_model_path(
            candidate.uri, path_utils.is_old_model_artifact(candidate))
        model.set_string_custom_property(
            SOURCE_PROPERTY, "candidate (no model in the store yet)")
    else:
        model.set_string_custom_property(SOURCE_PROPERTY, source)
    # The Evaluator reads a Model artifact's SavedModel from this layout.
    io_utils.copy_dir(source, path_utils.serving_model_dir(model.uri))


def newest_version_dir(model_store: str, exclude_model_uri: str = ""):
    """`<store>/<highest version>` not holding `exclude_model_uri`, or None."""
    from imgpipe.model_store.versions import list_versions, version_holding

    excluded = version_holding(model_store, exclude_model_uri)
    versions = [v for v in list_versions(model_store, complete_only=True)
                if v != excluded]
    return os.path.join(model_store, str(versions[-1])) if versions else None


def served_baseline(model_store: str):
    """The factory `create_pipeline` calls with the candidate's channel."""
    def build(candidate_channel):
        return ServedBaselineModel(
            candidate=candidate_channel,
            model_store=model_store).with_id(NODE_ID)
    return build
