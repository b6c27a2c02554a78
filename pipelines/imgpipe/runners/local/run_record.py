"""What a pipeline run did, read back from ML Metadata.

The summary a user sees is built from the store, not from in-memory state,
so it is the same record that lineage, caching and the next run rely on.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

_STATES = metadata_store_pb2.Execution.State


@dataclasses.dataclass(frozen=True)
class NodeRun:
    node_id: str
    state: str              # COMPLETE, CACHED, FAILED, RUNNING...
    seconds: float
    outputs: Dict[str, List[metadata_store_pb2.Artifact]]
    inputs: Dict[str, List[metadata_store_pb2.Artifact]] = \
        dataclasses.field(default_factory=dict)


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
    return metadata_store.MetadataStore(config)


def latest_run(store: metadata_store.MetadataStore,
               pipeline_name: str) -> Optional[str]:
    runs = [c for c in store.get_contexts_by_type("pipeline_run")
            if _belongs_to(store, c, pipeline_name)]
    return max(runs, key=lambda c: c.id).name if runs else None


def _belongs_to(store, run_context, pipeline_name: str) -> bool:
    parents = store.get_parent_contexts_by_context(run_context.id)
    return any(p.name == pipeline_name for p in parents) or not parents


def node_runs(store: metadata_store.MetadataStore,
              run_id: str) -> List[NodeRun]:
    """Every execution of one pipeline run, in execution order."""
    context = store.get_context_by_type_and_name("pipeline_run", run_id)
    executions = sorted(store.get_executions_by_context(context.id),
                        key=lambda e: e.id)
    node_type = store.get_context_type("node").id
    runs = []
    for execution in executions:
        runs.append(NodeRun(
            node_id=_node_of(store, execution, node_type),
            state=_STATES.Name(execution.last_known_state),
            seconds=(execution.last_update_time_since_epoch -
                     execution.create_time_since_epoch) / 1000.0,
            outputs=_artifacts(store, execution.id, _OUTPUT_EVENTS),
            inputs=_artifacts(store, execution.id, _INPUT_EVENTS)))
    return runs


def _node_of(store, execution, node_type: int) -> str:
    """Node contexts are named "<pipeline>.<node id>"."""
    for context in store.get_contexts_by_execution(execution.id):
        if context.type_id == node_type:
            return context.name.split(".", 1)[-1]
    return str(execution.id)


_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT,
                  metadata_store_pb2.Event.DECLARED_OUTPUT)
_INPUT_EVENTS = (metadata_store_pb2.Event.INPUT,
                 metadata_store_pb2.Event.DECLARED_INPUT)


def _artifacts(store, execution_id: int, kinds) -> Dict[str, List]:
    """{event key: artifacts} of an execution's events of `kinds`."""
    events = store.get_events_by_execution_ids([execution_id])
    wanted = [e for e in events if e.type in kinds]
    artifacts = {a.id: a for a in store.get_artifacts_by_id(
        [e.artifact_id for e in wanted])}
    outputs: Dict[str, List] = {}
    for event in wanted:
        key = event.path.steps[0].key if event.path.steps else "output"
        outputs.setdefault(key, []).append(artifacts[event.artifact_id])
    return outputs
