"""Two runs side by side: their metrics, per-class precision and recall,
confusion matrices, and the data each one saw (volume, span, drift).

What the runs' artifacts hold and nothing more: a run that stopped before
the Evaluator has data figures but no metrics, and the page says so.
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional

from imgpipe.ui.evaluation import PENDING, Details, EvaluationReader
from imgpipe.ui.files import OutputFolder
from imgpipe.ui.runs import Run

# How long a page waits for the TFMA worker before it shows what it has.
WAIT_S = 0.25
METRICS = (("sparse_categorical_accuracy", "accuracy"),
           ("macro_precision", "macro precision"),
           ("macro_recall", "macro recall"),
           ("macro_f1_score", "macro F1"),
           ("example_count", "eval examples"))


def comparison(folder: OutputFolder, reader: EvaluationReader,
               left: Run, right: Run) -> dict:
    uris = [_evaluation_uri(run) for run in (left, right)]
    reader.prefetch(uri for uri in uris if uri)
    found = [reader.details(uri, WAIT_S) if uri else None for uri in uris]
    pending = any(d == PENDING for d in found)
    details = [None if d == PENDING else d for d in found]
    names = _class_names(left) or _class_names(right)
    return {"metrics": _metric_rows(details, left, right),
            "per_class": _per_class_rows(details, names),
            "matrices": [_matrix(d, names) for d in details],
            "data": _data_rows(folder, left, right), "pending": pending,
            "missing": [run.run_id for run, d in zip((left, right), found)
                        if d is None]}


def _evaluation_uri(run: Run) -> Optional[str]:
    artifact = run.output("Evaluator", "evaluation")
    return artifact.uri if artifact else None


def _class_names(run: Run) -> List[str]:
    examples = run.output("ImageExampleGen", "examples")
    try:
        return json.loads(examples.properties.get("class_names", "[]")) \
            if examples else []
    except ValueError:
        return []


def _delta(a, b) -> Optional[float]:
    return b - a if isinstance(a, (int, float)) and \
        isinstance(b, (int, float)) else None


def _metric_rows(details, left: Run, right: Run) -> List[dict]:
    """TFMA's overall metrics; the accuracy from the model report until
    they are read."""
    rows = []
    for key, label in METRICS:
        a, b = (d.overall.get(key) if d else None for d in details)
        if key == METRICS[0][0]:
            a = left.facts.accuracy if a is None else a
            b = right.facts.accuracy if b is None else b
        if a is not None or b is not None:
            rows.append({"label": label, "a": a, "b": b,
                         "delta": _delta(a, b), "count": key ==
                         "example_count"})
    rows.append({"label": "blessed", "a": left.facts.blessed,
                 "b": right.facts.blessed, "delta": None, "flag": True})
    return rows


def _per_class_rows(details, names: List[str]) -> List[dict]:
    by_class: Dict[int, dict] = {}
    for side, found in zip("ab", details):
        for row in (found.per_class if found else []):
            entry = by_class.setdefault(row["class_id"], {
                "name": _name(names, row["class_id"])})
            entry[f"precision_{side}"] = row.get("precision")
            entry[f"recall_{side}"] = row.get("recall")
            entry[f"count_{side}"] = row.get("count")
    for entry in by_class.values():
        entry["recall_delta"] = _delta(entry.get("recall_a"),
                                       entry.get("recall_b"))
    return [by_class[k] for k in sorted(by_class)]


def _name(names: List[str], class_id: int) -> str:
    return names[class_id] if class_id < len(names) else str(class_id)


def _matrix(found: Optional[Details], names: List[str]) -> Optional[dict]:
    if found is None or not found.confusion:
        return None
    rows = found.confusion
    largest = max((max(r) for r in rows if r), default=0.0) or 1.0
    return {"names": [_name(names, i) for i in range(len(rows))],
            "rows": [[(int(v), round(v / largest, 3)) for v in r]
                     for r in rows]}


def _gate(folder: OutputFolder, run: Run) -> dict:
    report = run.output("DataGate", "report")
    found = folder.read_json(report.uri, "report.json") if report else None
    return found if isinstance(found, dict) else {}


def _examples(run: Run) -> dict:
    examples = run.output("ImageExampleGen", "examples")
    return examples.properties if examples else {}


def _data_rows(folder: OutputFolder, left: Run, right: Run) -> List[dict]:
    gates = [_gate(folder, run) for run in (left, right)]
    examples = [_examples(run) for run in (left, right)]
    rows = [{"label": "images checked", "a": left.facts.images,
             "b": right.facts.images},
            {"label": "quarantined", "a": left.facts.quarantined,
             "b": right.facts.quarantined},
            {"label": "span", "a": examples[0].get("span"),
             "b": examples[1].get("span")},
            {"label": "input files", "a": _files(examples[0]),
             "b": _files(examples[1])}]
    for column in sorted(set(gates[0].get("drift", {})) |
                         set(gates[1].get("drift", {}))):
        rows.append({"label": f"{column} vs previous span",
                     "a": gates[0].get("drift", {}).get(column),
                     "b": gates[1].get("drift", {}).get(column)})
    if not any(g.get("drift") for g in gates):
        rows.append({"label": "drift", "a": "no previous span",
                     "b": "no previous span"})
    for row in rows:
        row["delta"] = _delta(row["a"], row["b"])
    return rows


def _files(properties: dict) -> Optional[str]:
    """num_files from ExampleGen's input fingerprint ("num_files:600,...")."""
    fingerprint = str(properties.get("input_fingerprint", ""))
    for part in fingerprint.split(","):
        key, _, value = part.partition(":")
        if key == "num_files":
            return value
    return None
