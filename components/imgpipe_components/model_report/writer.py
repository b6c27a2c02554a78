"""Builds report.html and decision.json from the Evaluator's outputs."""
from __future__ import annotations

import json
import os
from typing import List, Optional

from imgpipe_components import class_names
from imgpipe_components.model_report.decision import build_decision, threshold_check
from imgpipe_components.model_report.html import build_report_html, confusion_matrix_png
from imgpipe_components.evaluate import results as tfma_reader
from imgpipe_components.model_report import extra_sections
from imgpipe_components.storage import artifact_files

REPORT, DECISION = "report.html", "decision.json"


def _overall_name(overall: dict, name: str) -> str:
    """Macro-averaged metrics may be keyed with their aggregation."""
    if name in overall:
        return name
    for key in overall:
        if key.startswith(name) or key.endswith(name):
            return key
    return name


def _class_names(model_uri: Optional[str], examples_uri: Optional[str]
                 ) -> List[str]:
    """The names the examples (or the model) carry; [] when neither is
    given, and the report then shows class ids."""
    from imgpipe_components.image_example_gen.executor import read_labels
    if examples_uri:
        return read_labels(examples_uri)
    if model_uri:
        names = artifact_files.read_bytes(os.path.join(
            model_uri, "Format-Serving", "assets.extra", class_names.MODEL_FILE))
        return class_names.from_text(names.decode()) if names else []
    return []


def write_report(evaluation_uri: str, blessed: bool, model_run_uri: str,
                 output_uri: str, model_uri: Optional[str] = None,
                 examples_uri: Optional[str] = None,
                 edge_uri: Optional[str] = None) -> dict:
    import tensorflow as tf
    candidate, baseline = tfma_reader.load_results(evaluation_uri)
    overall = tfma_reader.overall_metrics(candidate, baseline)
    checks = []
    for name, (lower, drop) in tfma_reader.gated_thresholds(candidate).items():
        values = overall.get(_overall_name(overall, name), {})
        checks.append(threshold_check(name, values.get("candidate"),
                                      values.get("baseline"), lower, drop))
    decision = build_decision(blessed, checks, baseline is not None)
    matrix = tfma_reader.confusion_matrix(candidate)
    names = _class_names(model_uri, examples_uri)
    per_class = tfma_reader.per_class_from_matrix(matrix, names)
    confusion = (confusion_matrix_png(
        matrix, [row["class_name"] for row in per_class]) if matrix else None)
    curves = artifact_files.read_bytes(
        os.path.join(model_run_uri, "training_curves.png"))
    history = json.loads(artifact_files.read_bytes(
        os.path.join(model_run_uri, "history.json")) or b"{}")
    page = build_report_html(decision, overall, per_class, confusion, curves,
                             extra_sections.ensemble_members(history)
                             + extra_sections.gradcam(model_uri, examples_uri)
                             + extra_sections.edge_table(edge_uri))
    tf.io.gfile.makedirs(output_uri)
    with tf.io.gfile.GFile(os.path.join(output_uri, REPORT), "w") as f:
        f.write(page)
    with tf.io.gfile.GFile(os.path.join(output_uri, DECISION), "w") as f:
        json.dump(decision, f, indent=2)
    return decision
