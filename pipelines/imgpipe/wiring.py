"""Where create_pipeline and the Kubeflow runner place the steps that are not
on the main line: DataCheck first (orchestrators without TFX's cache; the
Kubeflow runner adds the exit handler that records the run), and the KFP UI
report after the evaluation."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Iterable, List

from tfx.dsl.components.base.base_node import BaseNode

from imgpipe.config import PipelineConfig
from imgpipe.locations import Locations
from imgpipe_components.data_check.component import DATA_CHECK_ID, DataCheck


def data_check(config: PipelineConfig, locations: Locations,
               run_parameters: Any = None) -> BaseNode:
    """The first node; `definition` is filled in once the rest is built.
    `run_parameters`: the Kubeflow run parameters (TFX RuntimeParameters)
    whose values decide whether a run is new."""
    return DataCheck(
        data_root=locations.data_root,
        span_pattern=config.ingest.span_pattern,
        model_store=locations.serving_dir,
        definition="",
        run_parameters=run_parameters if run_parameters is not None else "",
    ).with_id(DATA_CHECK_ID)


def definition_of(components: Iterable[BaseNode]) -> str:
    """A hash of every node's id and fixed exec properties (settings and
    code fingerprints); run parameters are DataCheck's own input."""
    from tfx.orchestration.data_types import RuntimeParameter

    described = [[node.id, {key: str(value) for key, value in sorted(
        node.exec_properties.items())
        if not isinstance(value, RuntimeParameter)}] for node in components]
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()
                          ).hexdigest()[:16]


def ui_report_nodes(nodes: Dict[str, BaseNode]) -> List[BaseNode]:
    """For `OrchestratorOverrides.extra_nodes`: the KFP UI report after the
    evaluation and the model report."""
    from imgpipe_components.ui_report.component import NODE_ID, KfpUiReport

    return [KfpUiReport(
        data_gate_report=nodes["DataGate"].outputs["report"],
        examples=nodes["ImageExampleGen"].outputs["examples"],
        evaluation=nodes["Evaluator"].outputs["evaluation"],
        blessing=nodes["Evaluator"].outputs["blessing"],
        model_report=nodes["ModelReport"].outputs["report"],
        model_run=nodes["Trainer"].outputs["model_run"]).with_id(NODE_ID)]
