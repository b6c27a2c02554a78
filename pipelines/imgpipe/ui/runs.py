"""Runs as the UI shows them: state, steps, and the figures a person asks
about first, from ML Metadata and the small files the steps write.

Everything on the runs list comes from the store snapshot and from JSON
files read once each (the data gate's report.json, the model report's
decision.json), so a hundred runs render without loading TensorFlow;
TFMA's own output is read only for the comparison page (`evaluation.py`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import time
from typing import Dict, List, Optional

from imgpipe.runners.local.run_guard import LOCK_NOTE
from imgpipe.ui.failure import Failure, failure_of
from imgpipe.ui.files import PIPELINE_ROOT, OutputFolder
from imgpipe.ui.store import Execution, RunRecord, Snapshot
from imgpipe_components.evaluate.names import ACCURACY, BASELINE_RESOLVER_ID

GATE = "DataGate"
# Run states, as the pages name them.
RUNNING, INTERRUPTED = "running", "interrupted"
FAILED, STOPPED = "failed", "stopped by the data gate"
UNCHANGED, COMPLETE = "nothing new", "complete"
# Step states.
EXECUTED, CACHED, NOT_RUN = "executed", "cached", "not run"
# The data gate's message (data_gate/gate.py) is the one record of a
# stopped run's counts: TFX removes a failed step's output folder.
_GATE_COUNTS = re.compile(r"over (\d+) images \((\d+) quarantined\)")
_CLOCK_SLACK_S = 1.0     # file times and ML Metadata's clock may differ
_STEP_STATES = {"COMPLETE": EXECUTED, "CACHED": CACHED, "FAILED": "failed",
                "RUNNING": "running", "NEW": "running",
                "CANCELED": "canceled"}


@dataclasses.dataclass(frozen=True)
class Step:
    node_id: str
    state: str                          # executed, cached, failed, running...
    seconds: Optional[float]
    execution: Optional[Execution]      # None: not part of this run


@dataclasses.dataclass(frozen=True)
class Facts:
    images: Optional[int] = None
    quarantined: Optional[int] = None
    accuracy: Optional[float] = None
    baseline_accuracy: Optional[float] = None
    blessed: Optional[bool] = None
    reasons: tuple = ()
    pushed_version: Optional[str] = None
    pushed_here: bool = False           # the Pusher ran in this run
    promotion: Optional[str] = None     # the Pusher's auto-promote outcome


@dataclasses.dataclass(frozen=True)
class Run:
    record: RunRecord
    state: str
    started: float                      # seconds since the epoch
    seconds: float
    steps: List[Step]                   # this run's, in the order they ran
    facts: Facts
    failure: Optional[Failure] = None   # failed or stopped runs

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def executed(self) -> int:
        return sum(step.state == EXECUTED for step in self.steps)

    @property
    def cached(self) -> int:
        return sum(step.state == CACHED for step in self.steps)

    @property
    def current(self) -> Optional[Step]:
        return next((s for s in self.steps if s.state == "running"), None)

    @property
    def failed_step(self) -> Optional[str]:
        return next((s.node_id for s in self.steps if s.state == "failed"),
                    None)

    def step(self, node_id: str) -> Optional[Step]:
        return next((s for s in self.steps if s.node_id == node_id), None)

    def output(self, node_id: str, key: str):
        """The first artifact of a step's output `key`, or None."""
        step = self.step(node_id)
        found = step.execution.outputs.get(key) if step and \
            step.execution else None
        return found[0] if found else None


def run_in_progress(folder: OutputFolder) -> Optional[dict]:
    """The note of the run holding the folder's lock (run_guard), if its
    process is alive, with `since`: when it took the lock (the note's
    file time); None when no run is going on."""
    path = folder.root / LOCK_NOTE
    try:
        note = json.loads(path.read_text())
        note["since"] = path.stat().st_mtime
    except (OSError, ValueError, TypeError):
        return None
    if note.get("host") == socket.gethostname():
        try:
            os.kill(int(note["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):
            return None      # the run was killed: its note stayed behind
    return note


def _is_the_live_run(record: RunRecord, note: Optional[dict]) -> bool:
    """The newest run belongs to the lock's holder only if it began after
    the lock was taken: before its first step a starting run has no
    record yet, and the newest one is the previous, finished run."""
    return note is not None and \
        record.created_ms / 1000.0 >= note["since"] - _CLOCK_SLACK_S


def list_runs(folder: OutputFolder, snapshot: Optional[Snapshot],
              now: Optional[float] = None,
              built: Optional[dict] = None) -> List[Run]:
    """Every run, newest first. `built` keeps runs that ended between
    calls (a finished run only changes if its executions do), so a page
    builds only the run going on."""
    if snapshot is None or not snapshot.runs:
        return []
    now = time.time() if now is None else now
    note = run_in_progress(folder)
    latest = snapshot.runs[-1]
    built = {} if built is None else built
    runs = []
    for record in reversed(snapshot.runs):
        running = record is latest and _is_the_live_run(record, note)
        key = (record.context_id, tuple((e.id, e.state, e.updated_ms)
                                        for e in record.executions))
        run = built.get(key) if not running else None
        if run is None:
            run = build_run(folder, record, running, now)
            # A failure's log record lands just after ML Metadata's: a run
            # whose message is not there yet is built again next time.
            if not running and not (run.failure and not run.failure.chain):
                built[key] = run
        runs.append(run)
    return runs


def find_run(runs: List[Run], run_id: str) -> Optional[Run]:
    return next((run for run in runs if run.run_id == run_id), None)


def build_run(folder: OutputFolder, record: RunRecord, live: bool,
              now: float) -> Run:
    steps = [_step(execution, live, now) for execution in record.executions]
    started = record.created_ms / 1000.0
    ended = max((e.updated_ms for e in record.executions),
                default=record.created_ms) / 1000.0
    state = _state(steps, live)
    facts = _facts(folder, record)
    failure = None
    if state in (FAILED, STOPPED):
        failed = next((s.node_id for s in steps if s.state == "failed"), None)
        failure = failure_of(folder.logs_dir, record.run_id, started, failed)
        counts = _GATE_COUNTS.search(failure.chain[0]) if failure.chain \
            else None
        if counts and facts.images is None:
            facts = dataclasses.replace(facts, images=int(counts.group(1)),
                                        quarantined=int(counts.group(2)))
    return Run(record, state, started,
               (now if state == RUNNING else ended) - started, steps,
               facts, failure)


def _step(execution: Execution, live: bool, now: float) -> Step:
    state = _STEP_STATES.get(execution.state, execution.state.lower())
    if state == "running":
        seconds = now - execution.created_ms / 1000.0 if live else None
        state = "running" if live else INTERRUPTED
    else:
        seconds = (execution.updated_ms - execution.created_ms) / 1000.0
    return Step(execution.node_id, state, seconds, execution)


def _state(steps: List[Step], live: bool) -> str:
    if live:
        return RUNNING
    states = {step.state for step in steps}
    if "failed" in states:
        gate = any(s.node_id == GATE and s.state == "failed" for s in steps)
        return STOPPED if gate else FAILED
    if INTERRUPTED in states or "canceled" in states:
        return INTERRUPTED
    if all(s.state == CACHED for s in steps
           if s.node_id != BASELINE_RESOLVER_ID):
        return UNCHANGED
    return COMPLETE


def _first(execution_outputs: Dict[str, list], key: str):
    found = execution_outputs.get(key)
    return found[0] if found else None


def _facts(folder: OutputFolder, record: RunRecord) -> Facts:
    outputs = {e.node_id: e for e in record.executions}
    values: dict = {}
    gate = outputs.get(GATE)
    gate_report = _gate_report(folder, gate) if gate else None
    if isinstance(gate_report, dict):
        values.update(images=gate_report.get("images"),
                      quarantined=gate_report.get("quarantined"))
    elif "ImageExampleGen" in outputs:
        examples = _first(outputs["ImageExampleGen"].outputs, "examples")
        if examples is not None:
            values["quarantined"] = examples.properties.get(
                "quarantined_count")
    values.update(_evaluation(folder, outputs))
    values.update(_push(outputs.get("Pusher")))
    return Facts(**values)


def _gate_report(folder: OutputFolder, gate: Execution):
    """The gate's report.json: in its artifact, or, for a gate that stopped
    the run (a failed execution records no outputs and its folder is
    removed), where the gate wrote it instead, by the execution's id."""
    from imgpipe_components.data_gate.report_location import (REPORT_FILE,
                                                              report_folder)
    report = _first(gate.outputs, "report")
    if report is not None:
        return folder.read_json(report.uri, REPORT_FILE)
    planned = folder.root / PIPELINE_ROOT / GATE / "report" / str(gate.id)
    return folder.read_json(report_folder(str(planned), passed=False),
                            REPORT_FILE)


def _evaluation(folder: OutputFolder, outputs: Dict[str, Execution]) -> dict:
    values: dict = {}
    evaluator = outputs.get("Evaluator")
    blessing = _first(evaluator.outputs, "blessing") if evaluator else None
    if blessing is not None and "blessed" in blessing.properties:
        values["blessed"] = bool(blessing.properties["blessed"])
    reporter = outputs.get("ModelReport")
    report = _first(reporter.outputs, "report") if reporter else None
    decision = folder.read_json(report.uri, "decision.json") if report \
        else None
    if isinstance(decision, dict):
        for check in decision.get("checks", []):
            if check.get("metric") == ACCURACY:
                values["accuracy"] = check.get("candidate")
                values["baseline_accuracy"] = check.get("baseline")
        values["reasons"] = tuple(decision.get("reasons", ()))
    return values


def _push(pusher: Optional[Execution]) -> dict:
    pushed = _first(pusher.outputs, "pushed_model") if pusher else None
    if pushed is None:
        return {}
    values = {"promotion": pushed.properties.get("promotion") or None}
    if pushed.properties.get("pushed"):
        values.update(pushed_version=str(pushed.properties.get(
            "pushed_version", "")), pushed_here=pusher.state == "COMPLETE")
    return values
