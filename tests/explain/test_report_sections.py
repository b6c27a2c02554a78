"""The pipeline's model report carries Grad-CAM examples and the edge table;
the EdgeExport step publishes its TFLite files (session pipeline run, with
the edge option on)."""
from __future__ import annotations

import json
from pathlib import Path


def newest(folder: Path) -> Path:
    return max(folder.iterdir(), key=lambda p: int(p.name))


def test_edge_export_step_publishes_tflite_with_its_contract(pipeline_run):
    edge = newest(Path(pipeline_run.layout.pipeline_root) / "EdgeExport" /
                  "edge_models")
    report = json.loads((edge / "edge_report.json").read_text())
    published = [v["format"] for v in report["variants"] if v["published"]]
    assert published, report
    assert sorted(p.name for p in edge.glob("*.tflite")) == sorted(
        f"model_{f}.tflite" for f in published)
    assert json.loads((edge / "edge_model.json").read_text())[
        "class_names"] == [str(d) for d in range(10)]


def test_the_pushed_report_shows_gradcam_and_the_edge_table(pipeline_run):
    page = (pipeline_run.serving_dir / "1" / "assets.extra" / "model_report"
            / "report.html").read_text()
    assert "<h2>Grad-CAM examples</h2>" in page
    assert 'alt="Grad-CAM examples" src="data:image/png;base64,' in page
    assert "<h2>Edge exports (TensorFlow Lite)</h2>" in page
    for fmt in ("float32", "float16", "int8"):
        assert f"<td>{fmt}</td>" in page
