"""Your own photos, with class names as people write them: a space, a dot,
digits only and non-ASCII. The names must come back exactly as the folders
spell them from every place that shows one: the served model, `explain`,
the TFLite exports' contract and `predict` on a `.tflite` file.

Small colour photos (PNG and JPEG, 40 to 120 px, some grey) made here:
each class has its own colour and shape, so a few epochs learn them.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")
CLASSES = {"striped texture": (200, 40, 40), "v1.2": (40, 160, 40),
           "007": (40, 40, 200), "déjà vu": (200, 200, 40)}
PER_CLASS = 16


def photo(rng, class_index: int, colour, side: int):
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (side, side), tuple(int(c * 0.3) for c in colour))
    draw = ImageDraw.Draw(image)
    jitter = int(rng.integers(0, max(side // 8, 1)))
    box = (side // 5 + jitter, side // 5, side * 4 // 5, side * 4 // 5 - jitter)
    if class_index == 0:
        for x in range(0, side, max(side // 6, 2)):
            draw.line((x, 0, x, side), fill=colour, width=max(side // 16, 1))
    elif class_index == 1:
        draw.ellipse(box, fill=colour)
    elif class_index == 2:
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(box[0], box[3]), (box[2], box[3]),
                      ((box[0] + box[2]) // 2, box[1])], fill=colour)
    return image


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos") / "my photos"
    rng = np.random.default_rng(11)
    for class_index, (name, colour) in enumerate(CLASSES.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for index in range(PER_CLASS):
            image = photo(rng, class_index, colour, int(rng.integers(40, 121)))
            if index % 5 == 0:
                image = image.convert("L")
            suffix = ".jpg" if index % 2 else ".png"
            image.save(folder / f"IMG_{index:03d}{suffix}")
    return root


@pytest.fixture(scope="module")
def run(photos, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("odd-names-output")
    result = subprocess.run(
        [IMGPIPE, "run", "--data", str(photos), "--output", str(output),
         "--model-name", "shapes", "--image-size", "16", "--epochs", "4",
         "--min-accuracy", "0", "--edge-export"],
        capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return output


def test_the_model_and_its_exports_carry_the_folder_names(run):
    version = run / "serving" / "shapes" / "1"
    names = (version / "assets.extra" / "class_names.txt").read_text()
    assert names.splitlines() == sorted(CLASSES)
    contract = json.loads(next(run.glob(
        "pipeline_root/EdgeExport/*/*/edge_model.json")).read_text())
    assert contract["class_names"] == sorted(CLASSES)


def test_explain_takes_a_class_name_with_a_space(run, photos, tmp_path):
    image = next((photos / "striped texture").glob("*.png"))
    result = subprocess.run(
        [IMGPIPE, "explain", str(image), "--model-dir",
         str(run / "serving" / "shapes"), "--class", "striped texture",
         "--class", "déjà vu", "--png-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / f"{image.stem}-striped texture.png").is_file()
    assert (tmp_path / f"{image.stem}-déjà vu.png").is_file()


def test_an_unknown_class_is_one_clear_error(run, photos, tmp_path):
    image = next((photos / "007").glob("*.png"))
    result = subprocess.run(
        [IMGPIPE, "explain", str(image), "--model-dir",
         str(run / "serving" / "shapes"), "--class", "striped",
         "--png-dir", str(tmp_path)], capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "'striped'" in result.stderr and "striped texture" in result.stderr


def test_predict_on_a_tflite_file_names_the_classes_as_the_folders(
        run, photos):
    model = next(run.glob("pipeline_root/EdgeExport/*/*/model_float32.tflite"))
    images = [str(next((photos / name).glob("*.png"))) for name in CLASSES]
    result = subprocess.run(
        [IMGPIPE, "predict", *images, "--model-dir", str(model),
         "--top-k", "4"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in CLASSES:
        assert name in result.stdout
    assert "striped\n" not in result.stdout
