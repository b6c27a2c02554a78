"""The end-of-run summary: the data (read, quarantined, excluded), accuracy,
the blessing decision and why, the push."""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from imgpipe_components.evaluate.names import BASELINE_RESOLVER_ID
from imgpipe_components.image_example_gen.names import UNLABELLED_EXAMPLE_GEN
from imgpipe.config import PipelineConfig
from imgpipe_components.push.names import PROMOTION_PROPERTY
from imgpipe.runners.local.advice import \
    when_not_blessed as advice_when_not_blessed
from imgpipe.runners.local.data_summary import (DataSummary,
                                                build_data_summary)
from imgpipe.runners.local.run_record import NodeRun


@dataclasses.dataclass(frozen=True)
class RunSummary:
    run_id: str
    nodes: List[NodeRun]
    accuracy: Optional[float]
    baseline_accuracy: Optional[float]
    eval_examples: Optional[int]
    blessed: Optional[bool]
    reasons: List[str]
    pushed_version: Optional[str]
    pushed_path: Optional[str]
    evaluation_uri: Optional[str]
    report_uri: Optional[str] = None    # ModelReport's report.html folder
    promotion: Optional[str] = None     # the Pusher's auto-promote outcome
    baseline_model_uri: Optional[str] = None   # the model in service compared
    advice: str = ""     # what to try when the model was not blessed
    data: Optional[DataSummary] = None  # read, quarantined, excluded
    # models.config's `stable` version after the run: the pushed one when it
    # was the model's first (stable at once) or auto-promoted.
    stable_version: Optional[str] = None

    @property
    def executed(self) -> int:
        return sum(1 for n in self.nodes if n.state == "COMPLETE")

    @property
    def cached(self) -> int:
        return sum(1 for n in self.nodes if n.state == "CACHED")

    @property
    def nothing_retrained(self) -> bool:
        """Every step came from the cache: the data, settings and code are
        those of an earlier run (the baseline resolver always runs)."""
        return all(n.state == "CACHED" for n in self.nodes
                   if n.node_id != BASELINE_RESOLVER_ID)


def _uri(nodes: List[NodeRun], node_id: str, key: str) -> Optional[str]:
    for node in nodes:
        if node.node_id == node_id and node.outputs.get(key):
            return node.outputs[key][0].uri
    return None


def _input_uri(nodes: List[NodeRun], node_id: str, key: str
               ) -> Optional[str]:
    for node in nodes:
        if node.node_id == node_id and node.inputs.get(key):
            return node.inputs[key][0].uri
    return None


def _artifact(nodes: List[NodeRun], node_id: str, key: str):
    for node in nodes:
        if node.node_id == node_id and node.outputs.get(key):
            return node.outputs[key][0]
    return None


def evaluation_figures(evaluation_uri: str):
    """Candidate accuracy, example count, baseline accuracy, and failures."""
    from imgpipe_components.evaluate import results

    figures = results.overall_figures(evaluation_uri)
    return (figures["accuracy"], figures["example_count"],
            figures["baseline_accuracy"],
            results.threshold_failures(evaluation_uri))


def build_summary(config: PipelineConfig, run_id: str,
                  nodes: List[NodeRun]) -> RunSummary:
    evaluation_uri = _uri(nodes, "Evaluator", "evaluation")
    accuracy = count = baseline = None
    reasons: List[str] = []
    if evaluation_uri:
        accuracy, count, baseline, reasons = evaluation_figures(evaluation_uri)
    blessing = _artifact(nodes, "Evaluator", "blessing")
    blessed = (bool(blessing.custom_properties["blessed"].int_value)
               if blessing is not None else None)
    if blessed:
        against = (f"baseline (the model in service) {baseline:.4f}, "
                   f"allowed drop {config.evaluation.max_accuracy_drop}"
                   if baseline is not None
                   else "no baseline: the absolute bounds alone decide")
        reasons = [f"accuracy {accuracy:.4f} >= {config.evaluation.min_accuracy}"
                   f"; {against}"]
    report = _uri(nodes, "ModelReport", "report")
    pushed = _artifact(nodes, "Pusher", "pushed_model")
    pushed_version = pushed_path = None
    if pushed is not None and pushed.custom_properties["pushed"].int_value:
        pushed_version = pushed.custom_properties["pushed_version"].string_value
        pushed_path = pushed.custom_properties[
            "pushed_destination"].string_value
    promotion = (pushed.custom_properties[PROMOTION_PROPERTY].string_value
                 if pushed is not None and
                 PROMOTION_PROPERTY in pushed.custom_properties else None)
    advice = (advice_when_not_blessed(config, accuracy, baseline, count)
              if blessed is False else "")
    return RunSummary(run_id, nodes, accuracy, baseline, count, blessed, reasons,
                      pushed_version, pushed_path, evaluation_uri, report,
                      promotion, _input_uri(nodes, "Evaluator",
                                            "baseline_model"), advice,
                      data=build_data_summary(
                          _uri(nodes, "ImageExampleGen", "examples"),
                          _uri(nodes, "DataGate", "report"),
                          _uri(nodes, UNLABELLED_EXAMPLE_GEN, "examples")),
                      stable_version=_stable_version(pushed_path))


def _stable_version(pushed_path: Optional[str]) -> Optional[str]:
    """The `stable` label beside the pushed version's model folder."""
    from imgpipe_components.model_store import ConfigError, current_labels
    from imgpipe_components.storage import StorageError

    if not pushed_path:
        return None
    try:
        stable = current_labels(pushed_path.rstrip("/").rpartition("/")[0]
                                ).get("stable")
    except (ConfigError, ValueError, OSError, StorageError):
        return None
    return None if stable is None else str(stable)
