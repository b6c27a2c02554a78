"""Baseline resolution: the latest blessed model that is not the candidate.

TFX's LatestBlessedModelStrategy runs before the Trainer, so on a re-run
with unchanged data it returns the candidate itself: the Evaluator then
re-evaluates the model against itself (tens of seconds) and the cache never
fully holds. Resolving after the Trainer and skipping the candidate gives
the model in service as the baseline when a new model was trained, and the
same inputs as the previous run (so a cache hit) when nothing changed.
"""
from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts
from tfx.utils import doc_controls

CANDIDATE, MODEL, BLESSING = "candidate", "model", "model_blessing"


def latest_blessed_other_than(candidates: List[types.Artifact],
                              models: List[types.Artifact],
                              blessings: List[types.Artifact]):
    """(model, blessing) lists; empty when no other model was blessed."""
    candidate_ids = {artifact.id for artifact in candidates}
    blessed = {b.get_int_custom_property("current_model_id"): b
               for b in blessings if b.get_int_custom_property("blessed") == 1}
    for model in sorted(models, key=lambda a: a.id, reverse=True):
        if model.id not in candidate_ids and model.id in blessed:
            return [model], [blessed[model.id]]
    return [], []


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Inputs `candidate` (the Trainer's model), `model` and
    `model_blessing` (every Model / ModelBlessing of the pipeline)."""

    @doc_controls.do_not_generate_docs
    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        model, blessing = latest_blessed_other_than(
            input_dict.get(CANDIDATE, []), input_dict.get(MODEL, []),
            input_dict.get(BLESSING, []))
        return {CANDIDATE: input_dict.get(CANDIDATE, []), MODEL: model,
                BLESSING: blessing}


def baseline_resolver(candidate: types.BaseChannel) -> resolver.Resolver:
    return resolver.Resolver(
        strategy_class=LatestBlessedOtherModelStrategy,
        candidate=candidate,
        model=types.Channel(type=standard_artifacts.Model),
        model_blessing=types.Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
