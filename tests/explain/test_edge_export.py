"""TFLite exports of the session's pushed model, gated on eval accuracy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imgpipe_components.edge_export.export import (METADATA, REPORT, EdgeExportError,
                                           export_version)

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


def examples_of(pipeline_run) -> Path:
    root = Path(pipeline_run.layout.pipeline_root) / "ImageExampleGen" / \
        "examples"
    return max(root.iterdir(), key=lambda p: int(p.name))


@pytest.fixture(scope="module")
def exported(pipeline_run, tmp_path_factory):
    output = tmp_path_factory.mktemp("edge")
    result = subprocess.run(
        [IMGPIPE, "export-edge", "--model-dir", str(pipeline_run.serving_dir),
         "--examples", str(examples_of(pipeline_run)), "--export-dir",
         str(output)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return output, json.loads((output / REPORT).read_text()), result.stdout


def test_three_formats_shrink_and_keep_their_accuracy(exported):
    output, report, stdout = exported
    sizes = {v["format"]: v["size_bytes"] for v in report["variants"]}
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["int8"] < 0.6 * sizes["float16"]
    for variant in report["variants"]:
        assert variant["accuracy_drop"] == pytest.approx(
            report["saved_model_accuracy"] - variant["accuracy"])
        assert variant["published"] == (variant["accuracy_drop"] <= 0.01)
        assert (output / f"model_{variant['format']}.tflite").exists() == \
            variant["published"]
    assert report["eval_images"] > 100 and report["representative_images"] > 50
    assert "published" in stdout


def test_a_variant_over_the_allowed_drop_is_not_published(pipeline_run,
                                                          tmp_path):
    # No export can gain 1.5 points over a model at its own accuracy + 1.
    report = export_version(pipeline_run.serving_dir / "1",
                            examples_of(pipeline_run), tmp_path,
                            formats=["float16"], max_accuracy_drop=-1.5)
    (variant,) = report["variants"]
    assert not variant["published"] and "accuracy drop" in variant["reason"]
    assert not list(tmp_path.glob("*.tflite"))


def test_predict_with_tflite_agrees_with_the_saved_model(exported,
                                                         pipeline_run,
                                                         digits_subset):
    output, _, _ = exported
    images = [str(sorted((digits_subset / d).iterdir())[0]) for d in "0358"]

    def top_classes(model: str) -> list:
        result = subprocess.run([IMGPIPE, "predict", *images, "--model-dir",
                                 model, "--top-k", "1"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return [line.split(": ")[1].split()[0]
                for line in result.stdout.splitlines()]
    assert top_classes(str(output / "model_float32.tflite")) == \
        top_classes(str(pipeline_run.serving_dir))
    contract = json.loads((output / METADATA).read_text())
    assert contract["input"]["shape"] == [1, 16, 16, 1]


def test_without_eval_records_the_export_stops_clearly(pipeline_run,
                                                       tmp_path):
    with pytest.raises(EdgeExportError, match="No Split-train records"):
        export_version(pipeline_run.serving_dir / "1", tmp_path,
                       tmp_path / "out")
