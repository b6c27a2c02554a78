"""What a Kubeflow run decides at its start and how it ended: plain Python
over the record and the run's notes (run_record.py), tested without KFP.

At the start (DataCheck) the last record says whether there is anything new:
the same data, definition and `stable` version as a run that went through or
was stopped by the data gate end the run early; a run that failed is tried
again. At the end (the exit handler) the final status and the notes say
which of four outcomes the run had.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional

SUCCESS = "success"         # went through the Pusher (pushed or refused)
SKIPPED = "skipped"         # ended after DataCheck: nothing new
GATE_STOP = "gate_stop"     # the DataGate stopped it
FAILED = "failed"           # a step failed

CHANGED = "changed"             # DataCheck's report: 1 = the run goes on
FINGERPRINT = "fingerprint"
STABLE = "stable_version"
GATE_ERROR = "DataValidationError"
DATA_CHECK = "DataCheck"
PUSHER = "Pusher"


@dataclasses.dataclass(frozen=True)
class Decision:
    run: bool
    reason: str


def decide(record: Optional[dict], fingerprint: str,
           stable: str) -> Decision:
    """Whether the run goes on, given the last record."""
    if not record:
        return Decision(True, "no completed run is recorded: the pipeline runs")
    last = record.get("run", "?")
    if record.get(FINGERPRINT) != fingerprint or record.get(STABLE) != stable:
        return Decision(True, "the data, the pipeline definition or the "
                        f"stable model changed since run {last}")
    outcome = record.get("outcome", SUCCESS)
    if outcome == FAILED:
        return Decision(True, f"run {last} failed at "
                        f"{record.get('failed_step', '?')}: trying again")
    if outcome == GATE_STOP:
        return Decision(False, f"still stopped by the data gate (run {last});"
                        f" its report: {record.get('report') or '?'}")
    return Decision(False, f"no new data since run {last}")


def failed_step(notes: Dict[str, dict]) -> Optional[str]:
    failed = [task for task, note in notes.items()
              if note.get("state") == "FAILED"]
    return min(failed, key=lambda t: notes[t].get("at", "")) if failed else None


def outcome(state: str, notes: Dict[str, dict]) -> dict:
    """The record of a run from the final state of its DAG, as KFP gives it
    (open-source: COMPLETE, FAILED or RUNNING for a DAG ended by a false
    condition; Vertex: SUCCEEDED...), and the notes its steps wrote."""
    check = notes.get(DATA_CHECK, {}).get("outputs", {}).get("report", {})
    common = {FINGERPRINT: check.get(FINGERPRINT), STABLE: check.get(STABLE)}
    failed = failed_step(notes)
    if failed is not None:
        note = notes[failed]
        if note.get("error_type") == GATE_ERROR:
            return {**common, "outcome": GATE_STOP, "failed_step": failed,
                    "reason": note.get("error", ""),
                    "report": note.get("report")}
        return {**common, "outcome": FAILED, "failed_step": failed,
                "reason": note.get("error", "")}
    if check and not int(check.get(CHANGED, 1)):
        return {**common, "outcome": SKIPPED,
                "reason": check.get("reason", "")}
    push = notes.get(PUSHER)
    if push is not None and push.get("state") == "COMPLETE":
        metadata = push.get("outputs", {}).get("pushed_model", {})
        return {**common, "outcome": SUCCESS,
                "pushed": bool(metadata.get("pushed")),
                "pushed_version": metadata.get("pushed_version"),
                "reason": metadata.get("promotion", "")}
    return {**common, "outcome": FAILED, "failed_step": None,
            "reason": f"the run ended {state} before the Pusher and no "
                      "step reported an error (a pod killed or evicted?)"}


def summary(record: dict) -> str:
    """One line for the log, the KFP UI and the webhook."""
    kind = record["outcome"]
    run = record.get("run", "?")
    if kind == SUCCESS:
        pushed = (f"version {record.get('pushed_version')} pushed"
                  if record.get("pushed") else "the model was not pushed")
        return f"Run {run} completed: {pushed}."
    if kind == SKIPPED:
        return f"Run {run} ended after DataCheck: {record.get('reason')}."
    if kind == GATE_STOP:
        return (f"Run {run} was stopped by the data gate; report: "
                f"{record.get('report') or '?'}.")
    step = record.get("failed_step") or "an unknown step"
    first = (record.get("reason") or "").splitlines()[:1]
    return f"Run {run} failed at {step}: {first[0] if first else '?'}"
