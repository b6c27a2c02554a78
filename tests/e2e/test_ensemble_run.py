"""An ensemble of a small CNN and a vision transformer, end to end:
`imgpipe run --ensemble 2` with the members named in the settings file
trains both, and the one model it pushes answers REST predict requests
with the mean of its members' probabilities, is exported to TFLite by the
pipeline's EdgeExport step, and has a model report that lists its members
with their accuracies."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.serving.helpers import (b64, running_server, version_states,
                                   wait_until)

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


def newest(folder: Path) -> Path:
    return max(folder.iterdir(), key=lambda p: int(p.name))


@pytest.mark.e2e
def test_an_ensemble_of_a_cnn_and_a_vit_is_served_reported_and_exported(
        digits_subset, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({"pipeline": {
        "train": {"ensemble_architectures": ["small_cnn", "vit"]},
        "edge": {"enabled": True, "formats": ["float32"]}}}))
    output = tmp_path / "out"
    run = subprocess.run(
        [IMGPIPE, "run", "--data", str(digits_subset), "--output",
         str(output), "--config", str(settings), "--ensemble", "2",
         "--image-size", "16", "--epochs", "2", "--min-accuracy", "0.3"],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ensemble = 2 members (small_cnn, vit), seeds 42 to 43" in \
        run.stderr
    root = output / "pipeline_root"
    history = json.loads((newest(root / "Trainer" / "model_run") /
                          "history.json").read_text())
    members = history["members"]
    assert [(m["name"], m["architecture"], m["seed"]) for m in members] == [
        ("member_0", "small_cnn", 42), ("member_1", "vit", 43)]

    version = output / "serving" / "digits" / "1"
    page = (version / "assets.extra" / "model_report" /
            "report.html").read_text()
    assert "<h2>Ensemble members</h2>" in page
    for member in members:
        assert (f"<td>{member['name']}</td><td>{member['architecture']}</td>"
                f"<td>{member['seed']}</td>"
                f"<td>{member['eval_accuracy']:.4f}</td>") in page
    assert "The maps show the mean of the 2 ensemble members'" in \
        page.replace("&#x27;", "'")

    edge = newest(root / "EdgeExport" / "edge_models")
    report = json.loads((edge / "edge_report.json").read_text())
    assert [(v["format"], v["published"]) for v in report["variants"]] == [
        ("float32", True)]
    assert (edge / "model_float32.tflite").stat().st_size > 0

    image = sorted((digits_subset / "7").iterdir())[0].read_bytes()
    with running_server(output / "serving" / "digits") as client:
        wait_until(lambda: version_states(client).get(1, {}).get("state")
                   == "AVAILABLE", 120, "version 1 to load")
        response = client.post("/v1/models/digits:predict",
                               json={"instances": [b64(image)]})
    assert response.status_code == 200, response.text
    served = np.array(response.json()["predictions"][0]["probabilities"])
    assert served.shape == (10,)
    np.testing.assert_allclose(served, _members_mean(version, image),
                               atol=1e-5)


def _members_mean(version: Path, image: bytes) -> np.ndarray:
    """The mean of the pushed members' own probabilities for `image`."""
    import tensorflow as tf

    from imgpipe_components.train import models

    pixels = tf.saved_model.load(str(version)).signatures[
        "serving_preprocess"](image_bytes=tf.constant([image]))["image"]
    ensemble = models.load_keras_model(str(version))
    return np.mean([member(pixels, training=False)[0].numpy()
                    for member in models.members(ensemble)], axis=0)
