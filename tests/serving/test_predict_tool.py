"""`imgpipe predict --model-dir`: the stable version answers, not the newest
folder, and one file that is not an image is named with a reason while the
rest of the batch is still classified."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imgpipe_components.model_store import register_pushed_version
from imgpipe.predict import predict_files
from tests.serving.helpers import push_copy, running_server

pytestmark = pytest.mark.timeout(300)
IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


@pytest.fixture
def images(tmp_path, digit_pngs) -> list:
    paths = []
    for name in ("3", "7"):
        paths.append(tmp_path / f"{name}.png")
        paths[-1].write_bytes(digit_pngs[name])
    return paths


def test_the_stable_version_answers_not_the_newest_folder(
        model_base, pushed_version, images):
    register_pushed_version(model_base, 1)
    # Version 2 is newer, labelled canary, and cannot load: predicting with
    # it would fail. Stable (1) must be the one used.
    push_copy(pushed_version, model_base, 2)
    (model_base / "2" / "saved_model.pb").write_bytes(b"\x08garbage")
    register_pushed_version(model_base, 2)
    results = list(predict_files(model_base, images, top_k=1))
    assert [path for path, _ in results] == images


def test_an_undecodable_file_is_named_and_the_batch_goes_on(
        model_base, images, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"these are not pixels")
    done = subprocess.run(
        [IMGPIPE, "predict", "--model-dir", str(model_base), "--top-k", "1",
         str(images[0]), str(bad), str(images[1])],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 2
    classified = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert classified == [str(images[0]), str(images[1])]
    said = " ".join(done.stderr.split())    # rich wraps long lines
    assert f"{bad.name}: skipped, not a decodable image: Unknown image " \
        "file format" in said, said
    assert "Graph execution error" not in said


def test_through_the_server_a_refused_file_does_not_stop_the_batch(
        model_base, images, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"these are not pixels")
    with running_server(model_base) as client:
        done = subprocess.run(
            [IMGPIPE, "predict", "--server", str(client.base_url),
             "--model-name", "digits", "--top-k", "1", str(images[0]),
             str(bad), str(images[1])],
            capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    classified = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert classified == [str(images[0]), str(images[1])]
    said = " ".join(done.stderr.split())
    assert f"{bad.name}: skipped, the server answered 400: Unknown image" \
        in said, said
