"""How create_pipeline places DataCheck and RecordCompletedRun."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from imgpipe.components.data_check.component import (DATA_CHECK_ID,
                                                     RECORD_ID, DataCheck,
                                                     RecordCompletedRun)
from imgpipe.components.data_check.fingerprint import record_uri


def data_check(config, locations, run_parameters: Any = None):
    """The first node; `definition` is filled in once the rest is built."""
    return DataCheck(
        data_root=locations.data_root,
        span_pattern=config.ingest.span_pattern,
        model_store=locations.serving_dir,
        record=record_uri(locations.pipeline_root, config.pipeline_name),
        definition="",
        run_parameters=run_parameters if run_parameters is not None else "",
    ).with_id(DATA_CHECK_ID)


def record_completed_run(config, locations, gate, pusher):
    return RecordCompletedRun(
        data_check=gate.outputs["report"],
        pushed_model=pusher.outputs["pushed_model"],
        record=record_uri(locations.pipeline_root, config.pipeline_name),
        model_store=locations.serving_dir,
    ).with_id(RECORD_ID)


def definition_of(components) -> str:
    """A hash of every node's id and fixed exec properties (settings and
    code fingerprints); run parameters are DataCheck's own input."""
    from tfx.orchestration.data_types import RuntimeParameter

    described = [[node.id, {key: str(value) for key, value in sorted(
        node.exec_properties.items())
        if not isinstance(value, RuntimeParameter)}] for node in components]
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()
                          ).hexdigest()[:16]
