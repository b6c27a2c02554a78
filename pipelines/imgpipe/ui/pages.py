"""What each page shows, as plain data for its template.

The routes (app.py) stay thin: each page's content is built here from the
runs (runs.py), the artifact files (files.py), the model store
(models.py) and, for the comparison, TFMA's output (evaluation.py).
"""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Dict, List, Optional, Tuple

from imgpipe.ui import graph, models
from imgpipe.ui.evaluation import EvaluationReader
from imgpipe.ui.failure import find_log
from imgpipe.ui.files import OutputFolder
from imgpipe.ui.runs import (RUNNING, Run, find_run, list_runs,
                            run_in_progress)
from imgpipe.ui.store import SnapshotCache

# Steps whose settings are open on the run page: what the chooser picks.
CHOSEN = ("Augment", "Transform", "Trainer")
SKIPPED_PROPERTIES = {"code_fingerprint"}


@dataclasses.dataclass
class Ui:
    """Everything the pages read, for one output folder."""
    folder: OutputFolder
    allow_actions: bool = False
    snapshots: SnapshotCache = None
    evaluations: EvaluationReader = None
    built: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.snapshots = self.snapshots or SnapshotCache(
            self.folder.metadata_path)
        self.evaluations = self.evaluations or EvaluationReader()

    def runs(self) -> List[Run]:
        return list_runs(self.folder, self.snapshots.get(),
                         built=self.built)

    def model_views(self) -> List[models.ModelView]:
        return [models.read_model(self.folder, name)
                for name in models.model_names(self.folder)]


def runs_page(ui: Ui) -> dict:
    runs = ui.runs()
    views = ui.model_views()
    stories = {run.run_id: _story(views, run) for run in runs
               if run.facts.pushed_version}
    live = any(run.state == RUNNING for run in runs)
    note = None if live else run_in_progress(ui.folder)
    return {"runs": runs, "stories": stories, "live": live,
            "starting": note}


def _story(views: List[models.ModelView], run: Run) -> str:
    version = run.facts.pushed_version
    return "; ".join(models.version_story(view, int(version))
                     for view in views if version and version.isdigit()
                     and any(v.number == int(version) for v in view.versions))


def live(ui: Ui) -> dict:
    """The newest run's progress, for the pages' polling script."""
    runs = ui.runs()
    if not runs:
        return {"run_id": None, "state": None}
    run = runs[0]
    current = run.current
    return {"run_id": run.run_id, "state": run.state,
            "seconds": round(run.seconds, 1),
            "executed": run.executed, "cached": run.cached,
            "current": current.node_id if current else None,
            "current_seconds": round(current.seconds or 0.0, 1)
            if current else None,
            "steps": [{"node": s.node_id, "state": s.state,
                       "seconds": round(s.seconds or 0.0, 1)}
                      for s in run.steps]}


def run_page(ui: Ui, run_id: str) -> Optional[dict]:
    runs = ui.runs()
    run = find_run(runs, run_id)
    if run is None:
        return None
    snapshot = ui.snapshots.get()
    steps = {s.node_id: (s.state, _step_detail(s.state, s.seconds))
             for s in run.steps}
    log = (run.failure.log if run.failure else
           find_log(ui.folder.logs_dir, run.run_id, run.started))
    return {"run": run, "graph": graph.render(snapshot.nodes, snapshot.edges,
                                              steps),
            "links": artifact_links(ui.folder, run),
            "outputs": {s.node_id: _outputs(ui.folder, s) for s in run.steps},
            "not_run": [n for n in snapshot.nodes if n not in steps],
            "log_url": ui.folder.url(log) if log else None,
            "log": log, "settings": settings(run),
            "edge": _edge_report(ui.folder, run),
            "quarantine": _quarantine(ui.folder, run),
            "others": [r for r in runs if r.run_id != run_id][:30]}


def _step_detail(state: str, seconds: Optional[float]) -> str:
    return state if seconds is None else f"{state} · {seconds:.1f} s"


def _outputs(folder: OutputFolder, step
             ) -> List[Tuple[str, str, Optional[str]]]:
    """(key, artifact path, UI address if served) of a step's outputs."""
    if step.execution is None:
        return []
    return [(key, artifact.uri, folder.url(folder.local(artifact.uri)))
            for key, artifacts in sorted(step.execution.outputs.items())
            for artifact in artifacts]


def _link(folder: OutputFolder, run: Run, node: str, key: str, name: str,
          fragment: str = "") -> Optional[str]:
    artifact = run.output(node, key)
    path = folder.local(artifact.uri, name) if artifact else None
    return folder.url(path, fragment) if path else None


def artifact_links(folder: OutputFolder, run: Run) -> List[Tuple[str, str]]:
    """(label, address) of the files a person opens, those that exist."""
    wanted = [
        ("Data Docs", "DataGate", "report", "data_docs/index.html", ""),
        ("Data gate report", "DataGate", "report", "report.json", ""),
        ("Quarantine list", "ImageExampleGen", "examples",
         "quarantine.jsonl", ""),
        ("Training curves", "Trainer", "model_run", "training_curves.png",
         ""),
        ("Training history", "Trainer", "model_run", "history.json", ""),
        # Only in runs that pretrain (docs/pretraining.md).
        ("Unlabelled quarantine list", "UnlabelledExampleGen", "examples",
         "quarantine.jsonl", ""),
        ("Pretraining curves", "Pretrainer", "model_run",
         "training_curves.png", ""),
        ("Model report", "ModelReport", "report", "report.html", ""),
        ("Grad-CAM examples", "ModelReport", "report", "report.html",
         ":~:text=Grad-CAM%20examples"),
        ("Edge export report", "EdgeExport", "edge_models",
         "edge_report.json", "")]
    links = []
    quarantined = run.facts.quarantined
    for label, node, key, name, fragment in wanted:
        url = _link(folder, run, node, key, name, fragment)
        if url and label == "Quarantine list" and quarantined is not None:
            label = f"{label} ({quarantined})"
        if url:
            links.append((label, url))
    return links


def _edge_report(folder: OutputFolder, run: Run) -> Optional[dict]:
    artifact = run.output("EdgeExport", "edge_models")
    report = folder.read_json(artifact.uri, "edge_report.json") \
        if artifact else None
    return report if isinstance(report, dict) else None


def _quarantine(folder: OutputFolder, run: Run) -> Optional[List[dict]]:
    artifact = run.output("ImageExampleGen", "examples")
    return folder.read_lines(artifact.uri, "quarantine.jsonl") \
        if artifact else None


def _flatten(value, prefix: str = "") -> List[Tuple[str, str]]:
    """Exec properties as key/value rows: JSON text (TFX stores settings as
    JSON, sometimes JSON inside JSON) opened up, one row per setting."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        rows = []
        for key, inner in sorted(value.items()):
            if key in ("@type",):
                continue
            wrapper = key in ("value", "custom_config") and \
                isinstance(inner, (dict, str))
            rows += _flatten(inner, prefix if wrapper else
                             f"{prefix}.{key}" if prefix else key)
        return rows
    shown = value if isinstance(value, str) else json.dumps(value)
    return [(prefix or "value", shown)]


def settings(run: Run) -> List[Tuple[str, bool, List[Tuple[str, str]]]]:
    """(step, open by default, rows) for each step that recorded any."""
    found = []
    for step in run.steps:
        if step.execution is None:
            continue
        rows = []
        for key, value in step.execution.properties.items():
            if key not in SKIPPED_PROPERTIES:
                rows += _flatten(value, key)
        if rows:
            found.append((step.node_id, step.node_id in CHOSEN, rows))
    return found


def when(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def local_time(iso_time: str) -> str:
    """An ISO 8601 time with its offset (the promotion history's UTC) in
    this machine's time, as the runs are shown."""
    import datetime
    try:
        moment = datetime.datetime.fromisoformat(iso_time)
    except ValueError:
        return iso_time
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def models_page(ui: Ui, message: Optional[str] = None,
                error: Optional[str] = None) -> dict:
    return {"views": ui.model_views(), "allow_actions": ui.allow_actions,
            "message": message, "error": error}


def evaluated(runs: List[Run]) -> List[Run]:
    return [run for run in runs if run.output("Evaluator", "evaluation")]


def compare_page(ui: Ui, a: Optional[str], b: Optional[str]) -> dict:
    from imgpipe.ui.compare import comparison
    runs = ui.runs()
    choices = evaluated(runs)
    unique = distinct_evaluations(choices)
    if not a and not b and len(unique) >= 2:
        b, a = unique[0].run_id, unique[1].run_id     # newer on the right
    left, right = find_run(runs, a or ""), find_run(runs, b or "")
    context: Dict[str, object] = {"runs": runs, "a": a, "b": b,
                                  "left": left, "right": right}
    if left and right:
        context.update(comparison(ui.folder, ui.evaluations, left, right))
    return context


def distinct_evaluations(runs: List[Run]) -> List[Run]:
    """One run per evaluation, newest first: the run that made it (a run
    whose Evaluator was cached repeats an earlier run's)."""
    chosen: Dict[str, Run] = {}
    for run in runs:
        uri = run.output("Evaluator", "evaluation").uri
        if uri not in chosen or run.step("Evaluator").state == "executed":
            chosen[uri] = run
    return sorted(chosen.values(), key=lambda run: -run.started)
