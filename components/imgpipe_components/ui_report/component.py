"""What a Kubeflow run shows in the KFP UI.

The KFP 2.x UI renders artifacts by type: `system.Markdown` and
`system.HTML` (the file at the artifact's URI), `system.Metrics` (scalar
metadata) and `system.ClassificationMetrics` (a confusion matrix in the
metadata). TFX's own artifacts (Examples, ModelEvaluation...) appear only as
URIs and properties. `KfpUiReport` runs after the Evaluator and the
ModelReport and turns the data gate's report.json, TFMA's output, the model
report (a ModelEvaluation folder holding report.html) and the Trainer's
curves and TensorBoard logs into those types.

The formatting functions are plain Python over plain data, so they are
tested without a cluster.
"""
# No `from __future__ import annotations`: TFX reads the component's type
# hints as objects.
import html
import json
import os
from typing import Dict

from tfx.dsl.component.experimental.annotations import (InputArtifact,
                                                        OutputArtifact)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.artifact import Artifact
from tfx.types.standard_artifacts import (Examples, ExampleValidationMetrics,
                                          ModelBlessing, ModelEvaluation,
                                          ModelRun)

from imgpipe_components.evaluate.results import (evaluation_metrics,
                                                 kfp_confusion_matrix)
from imgpipe_components.storage import artifact_files

NODE_ID = "KfpUiReport"


class KfpMarkdown(Artifact):
    TYPE_NAME = "system.Markdown"


class KfpHtml(Artifact):
    TYPE_NAME = "system.HTML"


class KfpMetrics(Artifact):
    TYPE_NAME = "system.Metrics"


class KfpClassificationMetrics(Artifact):
    TYPE_NAME = "system.ClassificationMetrics"


def gate_markdown(report: dict) -> str:
    verdict = "passed" if not (report["critical_failures"] or
                               report["schema_anomalies"]) else "FAILED"
    lines = [f"### Data gate: {verdict}",
             f"{report['images']} images checked, {report['quarantined']} "
             f"quarantined at ingestion, {len(report.get('excluded', []))} "
             "excluded by the gate (excluded.jsonl beside report.json).", ""]
    findings = report["critical_failures"] + report["warnings"]
    if findings:
        lines += ["| check | column | severity | images | e.g. |",
                  "|---|---|---|---|---|"]
        lines += [f"| {f['expectation']} | {f['column']} | {f['severity']} | "
                  f"{f['unexpected_count']} | "
                  f"{', '.join(f['example_ids'][:3]) or '-'} |"
                  for f in findings]
    lines += [f"- TFDV anomaly: {a}" for a in report["schema_anomalies"]]
    lines.append(f"\nFull Great Expectations Data Docs: `{report['data_docs']}`")
    return "\n".join(lines)


def gate_html(report: dict) -> str:
    """A self-contained page (the UI shows one file, so no linked assets)."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in (
            f["severity"], f["expectation"], f["column"],
            f["unexpected_count"], ", ".join(f["example_ids"][:5]) or "-"))
        + "</tr>"
        for f in report["critical_failures"] + report["warnings"])
    rows = rows or "<tr><td colspan=5>every check passed</td></tr>"
    anomalies = "".join(f"<li>{html.escape(a)}</li>"
                        for a in report["schema_anomalies"]) or "<li>none</li>"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;"
        "padding:4px 8px}table{border-collapse:collapse}</style></head><body>"
        f"<h2>Data gate</h2><p>{report['images']} images checked, "
        f"{report['quarantined']} quarantined, "
        f"{len(report.get('excluded', []))} excluded (excluded.jsonl beside "
        "report.json).</p>"
        "<table><tr><th>severity</th><th>check</th><th>column</th>"
        f"<th>images</th><th>e.g.</th></tr>{rows}</table>"
        f"<h3>TFDV schema anomalies</h3><ul>{anomalies}</ul>"
        f"<p>Full Data Docs: <code>{html.escape(report['data_docs'])}"
        "</code></p></body></html>")


def evaluation_markdown(metrics: Dict[str, float], blessed: bool) -> str:
    overall = {k: v for k, v in metrics.items() if "[" not in k}
    lines = [f"### Evaluation: {'BLESSED' if blessed else 'not blessed'}",
             "| metric | candidate |", "|---|---|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in sorted(
        overall.items())]
    return "\n".join(lines)


def _write_training_page(model_run_uri: str, output_uri: str) -> str:
    """The training page; returns the TensorBoard log folder."""
    from imgpipe_components.ui_report.pages import (TENSORBOARD_FOLDER,
                                                   training_html)
    history = json.loads(artifact_files.read_bytes(os.path.join(
        model_run_uri, "history.json")) or b"{}")
    logdir = os.path.join(model_run_uri, TENSORBOARD_FOLDER)
    curves = artifact_files.read_bytes(
        os.path.join(model_run_uri, "training_curves.png"))
    artifact_files.write_text(output_uri,
                              training_html(history, curves, logdir))
    return logdir


@component
def KfpUiReport(data_gate_report: InputArtifact[ExampleValidationMetrics],
                examples: InputArtifact[Examples],
                evaluation: InputArtifact[ModelEvaluation],
                blessing: InputArtifact[ModelBlessing],
                model_report: InputArtifact[ModelEvaluation],
                model_run: InputArtifact[ModelRun],
                summary: OutputArtifact[KfpMarkdown],
                data_gate: OutputArtifact[KfpHtml],
                metrics: OutputArtifact[KfpMetrics],
                confusion: OutputArtifact[KfpClassificationMetrics],
                report: OutputArtifact[KfpHtml],
                training: OutputArtifact[KfpHtml]) -> None:
    from imgpipe_components.data_gate.report_location import REPORT_FILE
    from imgpipe_components.image_example_gen.executor import read_labels
    from imgpipe_components.model_report.writer import REPORT
    from imgpipe_components.ui_report.pages import tensorboard_markdown

    gate = json.loads(artifact_files.read_text(
        os.path.join(data_gate_report.uri, REPORT_FILE)))
    class_names = read_labels(examples.uri)
    scalars = evaluation_metrics(evaluation.uri, class_names)
    blessed = bool(blessing.get_int_custom_property("blessed"))
    logdir = _write_training_page(model_run.uri, training.uri)
    artifact_files.write_text(summary.uri, gate_markdown(gate) + "\n\n" +
                              evaluation_markdown(scalars, blessed) +
                              "\n\n" + tensorboard_markdown(logdir))
    artifact_files.write_text(data_gate.uri, gate_html(gate))
    # The model report is a folder (a ModelEvaluation, which the UI cannot
    # show); its page is self-contained, so the file itself is the output.
    page = artifact_files.read_bytes(os.path.join(model_report.uri, REPORT))
    artifact_files.write_text(
        report.uri, (page or b"<p>No model report.</p>").decode())
    for name, value in scalars.items():
        metrics.set_float_custom_property(name, value)
    metrics.set_float_custom_property("blessed", float(blessed))
    for key, value in kfp_confusion_matrix(evaluation.uri, class_names).items():
        confusion.set_json_value_custom_property(key, value)
