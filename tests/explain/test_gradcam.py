"""Grad-CAM over the session's pushed model, and `imgpipe explain`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgpipe_components.model_report.gradcam import ExplainError, GradCam

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


@pytest.fixture(scope="module")
def cam(pipeline_run) -> GradCam:
    return GradCam(pipeline_run.serving_dir / "1")


def test_the_map_has_the_image_shape_and_follows_the_strokes(
        cam, digits_subset):
    stroke, blank = [], []
    for class_dir in sorted(digits_subset.iterdir()):
        for path in sorted(class_dir.iterdir())[:4]:
            result = cam.explain(path.read_bytes(), source=str(path))
            grey = np.asarray(Image.open(path))
            assert result.heatmap.shape == grey.shape
            assert 0.0 <= result.heatmap.min() <= result.heatmap.max() <= 1.0
            stroke.append(result.heatmap[grey > 128].mean())
            blank.append(result.heatmap[grey == 0].mean())
    # On average the digit's stroke outranks the blank background.
    assert np.mean(stroke) > np.mean(blank) + 0.05, (np.mean(stroke),
                                                      np.mean(blank))


def test_a_requested_class_is_explained_with_its_own_probability(
        cam, digits_subset):
    data = sorted((digits_subset / "4").iterdir())[0].read_bytes()
    predicted = cam.explain(data)
    other = cam.explain(data, "7")
    assert other.class_name == "7"
    assert other.probability < predicted.probability
    assert not np.allclose(other.heatmap, predicted.heatmap)


def test_bad_requests_are_clear_errors(cam, tmp_path):
    with pytest.raises(ExplainError, match="not one of the model's"):
        cam.explain(b"", "cat")
    with pytest.raises(ExplainError, match="not an image format"):
        cam.explain(b"plain text", source="notes.txt")


def test_the_command_writes_one_png_per_class(pipeline_run, digits_subset,
                                             tmp_path):
    image = sorted((digits_subset / "2").iterdir())[0]
    result = subprocess.run(
        [IMGPIPE, "explain", str(image), "--model-dir",
         str(pipeline_run.serving_dir), "--class", "3", "--png-dir",
         str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Heat-maps: Grad-CAM on the last convolutional block's output." \
        in result.stdout
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(written) == 2 and f"{image.stem}-3.png" in written
    with Image.open(tmp_path / written[0]) as picture:
        assert picture.size[0] > 200          # a readable figure

    refused = subprocess.run(
        [IMGPIPE, "explain", str(image), "--model-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "No SavedModel" in refused.stderr and "Traceback" not in \
        refused.stderr
