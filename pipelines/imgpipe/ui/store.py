"""ML Metadata, read in bulk: every run, its executions, their artifacts.

The runs page needs the whole history at once and the pipeline graph comes
from lineage, so the store is read with a few bulk calls (one per run to
list its executions, one per node context to place them, then all their
events and artifacts at once) instead of several calls per execution. The
snapshot is kept until the SQLite file changes, and then only the runs
that can have changed are read again (new runs and the newest one), which
is what happens on every poll while a run is going. The connection is
read-only (runners/local/run_record.open_store): the UI never writes ML
Metadata and never creates a store where there is none.
"""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from ml_metadata.proto import metadata_store_pb2

from imgpipe.runners.local import run_record

_STATES = metadata_store_pb2.Execution.State
_EVENTS = metadata_store_pb2.Event
_INPUTS = (_EVENTS.INPUT, _EVENTS.DECLARED_INPUT)
_OUTPUTS = (_EVENTS.OUTPUT, _EVENTS.DECLARED_OUTPUT)
# Resolver nodes record what they resolved as INTERNAL_OUTPUT.
_RESOLVED = (_EVENTS.INTERNAL_OUTPUT,)
_FINAL = {"COMPLETE", "CACHED", "FAILED", "CANCELED"}
_FEW = 60           # executions placed one by one rather than per node


@dataclasses.dataclass(frozen=True)
class Artifact:
    id: int
    type_name: str
    uri: str
    properties: Dict[str, object]       # custom properties, plain values


@dataclasses.dataclass(frozen=True)
class Execution:
    id: int
    node_id: str
    state: str                          # COMPLETE, CACHED, FAILED, RUNNING...
    created_ms: int
    updated_ms: int
    properties: Dict[str, object]       # the exec properties as recorded
    inputs: Dict[str, List[Artifact]]
    outputs: Dict[str, List[Artifact]]
    resolved: Dict[str, List[Artifact]]  # a resolver's picks


@dataclasses.dataclass(frozen=True)
class RunRecord:
    run_id: str                         # the pipeline_run context's name
    context_id: int
    pipeline: str
    created_ms: int
    executions: List[Execution]         # in the order they started


@dataclasses.dataclass(frozen=True)
class Snapshot:
    runs: List[RunRecord]               # oldest first
    nodes: List[str]                    # every node seen, first seen first
    edges: Set[Tuple[str, str]]         # (producer, consumer) from lineage


def plain(value: metadata_store_pb2.Value) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in (
        "int_value", "double_value", "string_value", "bool_value") else None


def _properties(message) -> Dict[str, object]:
    return {key: plain(value) for key, value in sorted(
        message.custom_properties.items())}


def _node_names(store, executions: List) -> Dict[int, str]:
    """{execution id: node id}; node contexts are named "<pipeline>.<node
    id>". Many executions (a first read): one call per node context; a
    few (a run going on): one call per execution."""
    by_execution: Dict[int, str] = {}
    if len(executions) > _FEW:
        for context in store.get_contexts_by_type("node"):
            node = context.name.partition(".")[2] or context.name
            for execution in store.get_executions_by_context(context.id):
                by_execution[execution.id] = node
        return by_execution
    node_type = store.get_context_type("node").id
    for execution in executions:
        for context in store.get_contexts_by_execution(execution.id):
            if context.type_id == node_type:
                by_execution[execution.id] = (context.name.partition(".")[2]
                                              or context.name)
    return by_execution


def _finished(run: RunRecord) -> bool:
    return all(e.state in _FINAL for e in run.executions)


def read_snapshot(metadata_path: str,
                  previous: Optional[Snapshot] = None) -> Snapshot:
    """Every run; with `previous`, the finished runs it holds are kept
    and only new runs and the newest one are read (a run that ended stays
    as it was: only the newest run of a folder can still grow)."""
    store = run_record.open_store(metadata_path)
    contexts = sorted(store.get_contexts_by_type("pipeline_run"),
                      key=lambda c: c.id)
    newest = contexts[-1].id if contexts else None
    kept = {run.context_id: run for run in (previous.runs if previous
                                            else [])
            if run.context_id != newest and _finished(run)}
    members = {c.id: store.get_executions_by_context(c.id)
               for c in contexts if c.id not in kept}
    fresh = [e for group in members.values() for e in group]
    records = _records(store, fresh)
    pipelines = {c.id: c.name for c in store.get_contexts_by_type("pipeline")}
    runs = []
    for context in contexts:
        if context.id in kept:
            runs.append(kept[context.id])
            continue
        parents = store.get_parent_contexts_by_context(context.id)
        runs.append(RunRecord(
            context.name, context.id,
            next((pipelines[p.id] for p in parents if p.id in pipelines), ""),
            context.create_time_since_epoch,
            [records[e.id] for e in sorted(members[context.id],
                                           key=lambda e: e.id)]))
    edges = set(previous.edges) if previous and kept else set()
    edges |= _edges([run for run in runs if run.context_id not in kept])
    return Snapshot(runs, _nodes_in_order(runs), edges)


def _records(store, executions: List) -> Dict[int, "Execution"]:
    """Executions with their events' artifacts, read in bulk."""
    if not executions:
        return {}
    node_of = _node_names(store, executions)
    events = store.get_events_by_execution_ids([e.id for e in executions])
    types = {t.id: t.name for t in store.get_artifact_types()}
    artifacts = {a.id: Artifact(a.id, types.get(a.type_id, ""), a.uri,
                                _properties(a))
                 for a in store.get_artifacts_by_id(
                     list({e.artifact_id for e in events}))}
    by_execution: Dict[int, List] = {}
    for event in events:
        by_execution.setdefault(event.execution_id, []).append(event)
    return {e.id: _execution(e, node_of, by_execution.get(e.id, []),
                             artifacts) for e in executions}


def _execution(execution, node_of, events, artifacts) -> Execution:
    sides: Dict[tuple, Dict[str, List[Artifact]]] = {
        _INPUTS: {}, _OUTPUTS: {}, _RESOLVED: {}}
    for event in events:
        side = next((s for kinds, s in sides.items() if event.type in kinds),
                    None)
        if side is None or event.artifact_id not in artifacts:
            continue
        key = event.path.steps[0].key if event.path.steps else "output"
        side.setdefault(key, []).append(artifacts[event.artifact_id])
    return Execution(
        execution.id, node_of.get(execution.id, str(execution.id)),
        _STATES.Name(execution.last_known_state),
        execution.create_time_since_epoch,
        execution.last_update_time_since_epoch, _properties(execution),
        sides[_INPUTS], sides[_OUTPUTS], sides[_RESOLVED])


def _nodes_in_order(runs: List[RunRecord]) -> List[str]:
    seen: Dict[str, None] = {}
    for run in runs:
        for execution in run.executions:
            seen.setdefault(execution.node_id)
    return list(seen)


def _producers(run: RunRecord, side: str) -> Dict[int, Set[str]]:
    found: Dict[int, Set[str]] = {}
    for execution in run.executions:
        for artifacts in getattr(execution, side).values():
            for artifact in artifacts:
                found.setdefault(artifact.id, set()).add(execution.node_id)
    return found


def _edges(runs: List[RunRecord]) -> Set[Tuple[str, str]]:
    """Node -> node wherever, within one run, a step took as input an
    artifact another step output; an artifact no step of the run output
    (the served baseline) comes from the resolver that picked it, and a
    resolver depends on the steps that output what it picked."""
    edges: Set[Tuple[str, str]] = set()
    for run in runs:
        made, picked = _producers(run, "outputs"), _producers(run, "resolved")
        for execution in run.executions:
            sources = [made.get(a.id) or picked.get(a.id, set())
                       for group in execution.inputs.values() for a in group]
            sources += [made.get(a.id, set())
                        for group in execution.resolved.values()
                        for a in group]
            for producers in sources:
                edges.update((producer, execution.node_id)
                             for producer in producers
                             if producer != execution.node_id)
    return edges


def _signature(metadata_path: str) -> Optional[Tuple]:
    """Changes whenever SQLite commits (the file or its journal)."""
    parts = []
    for suffix in ("", "-wal", "-journal"):
        try:
            stat = os.stat(metadata_path + suffix)
        except FileNotFoundError:
            if not suffix:
                return None
            continue
        parts.append((suffix, stat.st_mtime_ns, stat.st_size))
    return tuple(parts)


class SnapshotCache:
    """The latest snapshot of one store, re-read only when it changed."""

    def __init__(self, metadata_path: Path):
        self.path = str(metadata_path)
        self._lock = threading.Lock()
        self._key: Optional[Tuple] = None
        self._snapshot: Optional[Snapshot] = None

    def get(self) -> Optional[Snapshot]:
        """None when there is no store yet (no run has started)."""
        key = _signature(self.path)
        if key is None:
            return None
        with self._lock:
            if key != self._key:
                self._snapshot, self._key = read_snapshot(
                    self.path, self._snapshot), key
            return self._snapshot
