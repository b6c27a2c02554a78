"""The Evaluator's baseline locally: the model in service, from ML Metadata.

"The model in service" is the version holding the `stable` label in the
model store (imgpipe_components.model_store.in_service), on every orchestrator. Each
version records the Model artifact it was pushed from, so locally a
resolver picks that very artifact from ML Metadata. Because it returns an
existing artifact, an unchanged label and an unchanged candidate give the
Evaluator the same inputs as last time (a cache hit), and a promotion or a
rollback changes them. It runs after the Trainer: when the stable version
holds the candidate itself (a re-run on unchanged data), there is no
baseline and the absolute thresholds alone decide, as on the first run.

Open-source Kubeflow cannot run Resolver nodes: there the ServedBaselineModel
component (components/imgpipe_components/served_baseline) reads the same label when it runs.
"""
import logging
from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts
from tfx.utils import doc_controls

from imgpipe_components.evaluate.names import BASELINE_RESOLVER_ID

CANDIDATE, MODEL = "candidate", "model"


def served_model_artifact(model_store: str, candidates: List[types.Artifact],
                          models: List[types.Artifact]
                          ) -> List[types.Artifact]:
    """[the Model artifact the stable version was pushed from], or [] when
    there is no stable version, it holds the candidate, or this ML Metadata
    store does not know its artifact."""
    from imgpipe_components.model_store.in_service import servable_stable_version
    from imgpipe_components.model_store.versions import (same_location,
                                                         source_model,
                                                         version_uri)

    version = servable_stable_version(model_store)
    if version is None:
        return []
    source = source_model(version_uri(model_store, version))
    if source is not None and any(same_location(source, artifact.uri)
                                  for artifact in candidates):
        return []
    known = [model for model in models
             if source is not None and same_location(model.uri, source)]
    if not known:
        logging.getLogger(__name__).warning(
            "The stable version %d of %s was pushed from %s, which this ML "
            "Metadata store does not hold: no baseline, absolute thresholds "
            "alone judge the candidate", version, model_store, source)
    return known[-1:]


class ServedModelStrategy(resolver.ResolverStrategy):
    """Inputs `candidate` (the Trainer's model) and `model` (every Model of
    the pipeline); outputs the candidate and the served model, if any."""

    def __init__(self, model_store: str):
        self._model_store = model_store

    @doc_controls.do_not_generate_docs
    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidates = input_dict.get(CANDIDATE, [])
        return {CANDIDATE: candidates,
                MODEL: served_model_artifact(self._model_store, candidates,
                                             input_dict.get(MODEL, []))}


def baseline_resolver(candidate: types.BaseChannel, model_store: str
                      ) -> resolver.Resolver:
    return resolver.Resolver(
        strategy_class=ServedModelStrategy,
        config={"model_store": model_store},
        candidate=candidate,
        model=types.Channel(type=standard_artifacts.Model),
    ).with_id(BASELINE_RESOLVER_ID)
