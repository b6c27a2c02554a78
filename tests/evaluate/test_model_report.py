"""The ModelReport artifact of the shared pipeline run."""
from __future__ import annotations

import json
from pathlib import Path


def _report_dir(summary) -> Path:
    for node in summary.nodes:
        if node.node_id == "ModelReport" and node.outputs.get("report"):
            return Path(node.outputs["report"][0].uri)
    raise AssertionError(f"no ModelReport output in {summary.nodes}")


def test_first_run_writes_report_and_decision(pipeline_run):
    first = pipeline_run.first
    folder = _report_dir(first)
    page = (folder / "report.html").read_text()
    assert 'alt="Confusion matrix" src="data:image/png;base64,' in page
    assert 'alt="Training curves" src="data:image/png;base64,' in page
    for class_id in range(10):                      # one row per class
        assert f"<tr><td>{class_id}</td>" in page
    decision = json.loads((folder / "decision.json").read_text())
    assert decision["blessed"] is first.blessed is True
    assert decision["has_baseline"] is False
    gated = {c["metric"]: c for c in decision["checks"]}
    accuracy = gated["sparse_categorical_accuracy"]
    assert accuracy["lower_bound"] == 0.5
    assert accuracy["candidate"] == first.accuracy
    assert first.report_uri == str(folder)
