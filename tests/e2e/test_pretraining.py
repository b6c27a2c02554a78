"""`imgpipe run --pretrain-epochs` end to end: images in `unlabelled/`
beside the class folders pretrain the backbone, the labelled images train
from it, and ML Metadata records both; the pushed model answers REST
predictions and its TFLite export is written. The local run trains a vit
(the vit's own end-to-end run); the Kubeflow package an ensemble of a
small CNN and a vit.

The digits: 40 per class labelled, the next 30 per class moved (flat) into
`unlabelled/`, with the same kinds of bad files in a class folder and in
`unlabelled/`, so both ingestions are seen to quarantine alike.
"""
from __future__ import annotations

import json

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_digit_subset
from tests.ingest.builders import truncated_png

pytestmark = pytest.mark.e2e

IMGPIPE = str(Path(sys.executable).parent / "imgpipe")
LABELLED_PER_CLASS, UNLABELLED_PER_CLASS = 40, 30
BAD_FILES = {"empty.png": b"", "broken.png": truncated_png(),
             "notes.txt": b"not an image"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = write_digit_subset(tmp_path_factory.mktemp("data") / "digits",
                              LABELLED_PER_CLASS)
    unlabelled = root / "unlabelled"
    unlabelled.mkdir()
    for class_dir in sorted((root.parent / "digits_full").iterdir()):
        for image in sorted(class_dir.iterdir())[
                LABELLED_PER_CLASS:LABELLED_PER_CLASS + UNLABELLED_PER_CLASS]:
            shutil.copy(image, unlabelled / f"{class_dir.name}-{image.name}")
    for name, content in BAD_FILES.items():
        (unlabelled / name).write_bytes(content)
        (root / "3" / name).write_bytes(content)
    return root


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    output = tmp_path_factory.mktemp("pretrain-output")
    result = subprocess.run(
        [IMGPIPE, "run", "--data", str(data), "--output", str(output),
         "--image-size", "16", "--epochs", "3", "--copies", "0",
         # The vit end to end on its own: pretrained, served, exported.
         "--architecture", "vit",
         "--pretrain-epochs", "2", "--min-accuracy", "0", "--edge-export"],
        capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout[-2000:]
                                    + result.stderr[-3000:])
    from imgpipe.runners.local.run_record import (latest_run, node_runs,
                                                  open_store)
    store = open_store(str(output / "metadata.sqlite"))
    nodes = {node.node_id: node for node in
             node_runs(store, latest_run(store, "imgpipe"))}
    return output, nodes, " ".join(result.stderr.split())  # the console


def test_lineage_runs_from_the_unlabelled_images_through_the_pretrainer(run):
    _, nodes, _ = run
    assert all(node.state == "COMPLETE" for node in nodes.values()), \
        {n: node.state for n, node in nodes.items()}

    def produced_by(node_id, key):
        return [a.id for a in nodes[node_id].outputs[key]]

    def consumed_by(node_id, key):
        return [a.id for a in nodes[node_id].inputs[key]]

    assert consumed_by("Pretrainer", "examples") == \
        produced_by("UnlabelledExampleGen", "examples")
    assert consumed_by("UnlabelledStatisticsGen", "examples") == \
        produced_by("UnlabelledExampleGen", "examples")
    assert consumed_by("Pretrainer", "transform_graph") == \
        consumed_by("Trainer", "transform_graph")
    assert consumed_by("Trainer", "base_model") == \
        produced_by("Pretrainer", "model")
    assert consumed_by("Trainer", "examples") == \
        produced_by("Augment", "augmented_examples")
    assert consumed_by("Pusher", "model") == produced_by("Trainer", "model")


def test_unlabelled_images_are_ingested_and_quarantined_like_labelled(run):
    from imgpipe_components.data_gate.metadata_table import read_metadata
    from imgpipe_components.image_example_gen.executor import read_quarantine
    _, nodes, _ = run
    unlabelled = nodes["UnlabelledExampleGen"].outputs["examples"][0]
    labelled = nodes["ImageExampleGen"].outputs["examples"][0]
    rows = read_metadata(unlabelled.uri, "train")
    rows = rows._append(read_metadata(unlabelled.uri, "eval"))
    assert len(rows) == 10 * UNLABELLED_PER_CLASS
    assert set(rows.label) == {-1}
    assert all(i.startswith("unlabelled/") for i in rows.image_id)

    def reasons(artifact, folder):
        return {r["image_id"].rsplit("/", 1)[-1]: r["reason"]
                for r in read_quarantine(artifact.uri)
                if r["image_id"].startswith(folder)}
    assert reasons(unlabelled, "unlabelled/") == reasons(labelled, "3/")
    assert set(reasons(unlabelled, "unlabelled/")) == set(BAD_FILES)
    # ... and the run's summary says so, with the list's path.
    said = run[2]
    assert (f"Unlabelled images: {len(BAD_FILES)} quarantined at ingestion"
            in said)
    assert f"Quarantine list: {unlabelled.uri}/quarantine.jsonl" in said
    # The labelled data never holds the unlabelled images, nor a class
    # named after their folder.
    labelled_rows = read_metadata(labelled.uri, "train")
    assert "unlabelled" not in set(labelled_rows.label_name)
    assert len(labelled_rows) + len(read_metadata(labelled.uri, "eval")) == \
        10 * LABELLED_PER_CLASS


def test_the_pretrainer_learnt_rotations_and_the_trainer_started_from_it(run):
    import json
    _, nodes, said = run
    # Two of the bad files have image extensions: counted, then quarantined.
    assert (f"Unlabelled: {10 * UNLABELLED_PER_CLASS + 2} images in "
            "unlabelled/, pretraining for 2 epochs") in said
    run_dir = Path(nodes["Pretrainer"].outputs["model_run"][0].uri)
    history = json.loads((run_dir / "history.json").read_text())
    assert history["pretext"] == "rotation"
    assert len(history["accuracy"]) == 2
    assert history["val_accuracy"][-1] > 0.25     # above 4-way chance
    backbone = Path(nodes["Pretrainer"].outputs["model"][0].uri)
    assert (backbone / "Format-Serving" / "backbone.h5").is_file()


def test_the_pushed_model_answers_rest_and_exports_to_tflite(run, data):
    from tests.serving.helpers import b64, running_server
    output, nodes, _ = run
    png = sorted((data / "7").glob("*.png"))[0].read_bytes()
    with running_server(output / "serving" / "digits") as client:
        response = client.post("/v1/models/digits:predict",
                               json={"instances": [b64(png)]})
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    assert len(prediction["probabilities"]) == 10
    edge = Path(nodes["EdgeExport"].outputs["edge_models"][0].uri)
    assert (edge / "model_float32.tflite").stat().st_size > 10_000
    # The model served is the vit, explained on its token grid.
    page = (output / "serving" / "digits" / "1" / "assets.extra" /
            "model_report" / "report.html").read_text().replace("&#x27;", "'")
    assert "Grad-CAM on the last transformer block's tokens" in page


def test_the_ui_draws_the_branch_and_links_its_files(run):
    from imgpipe.ui.files import OutputFolder
    from imgpipe.ui.pages import artifact_links
    from imgpipe.ui.runs import list_runs
    from imgpipe.ui.store import SnapshotCache
    output, nodes, _ = run
    folder = OutputFolder(output)
    (ui_run,) = list_runs(folder, SnapshotCache(folder.metadata_path).get())
    assert {"UnlabelledExampleGen", "UnlabelledStatisticsGen",
            "Pretrainer"} <= {step.node_id for step in ui_run.steps}
    labels = {label for label, _ in artifact_links(folder, ui_run)}
    assert {"Unlabelled quarantine list", "Pretraining curves"} <= labels


def test_the_kubeflow_package_pretrains_and_trains_an_ensemble_with_a_vit(
        tmp_path):
    """The compiled package through the container entrypoint, as KFP runs
    it (no ExampleGen driver: the executor resolves the span itself)."""
    import dataclasses

    import yaml

    from imgpipe.config import TrainConfig
    from imgpipe.digits import write_digits
    from imgpipe.runners.kubeflow.runner import compile_pipeline
    from imgpipe.runners.kubeflow.settings import KubeflowConfig
    from imgpipe_components.data_gate.metadata_table import read_metadata
    from tests.e2e.test_retraining_loop import loop_config, write_span
    from tests.kubeflow.conftest import Compiled
    from tests.kubeflow.kfp_backend import Backend

    # One package for the whole toolbox: pretraining, and an ensemble of a
    # small CNN (warm-started from the Pretrainer) and a vit (from scratch).
    config = dataclasses.replace(loop_config(), train=TrainConfig(
        architecture="small_cnn", epochs=3, pretrain_epochs=1,
        ensemble_architectures=("small_cnn", "vit")))
    kubeflow = KubeflowConfig(
        pipeline_root=str(tmp_path / "root"), data_root=str(tmp_path / "data"),
        model_store=str(tmp_path / "serving"), gpu_count=0)
    path = tmp_path / "imgpipe.yaml"
    compile_pipeline(config, kubeflow, path)
    spec, platform = yaml.safe_load_all(path.read_text())
    digits = write_digits(tmp_path / "digits")
    span = write_span(digits, tmp_path / "data" / "span-1", slice(0, 20))
    unlabelled = write_span(digits, tmp_path / "flat", slice(20, 30))
    (span / "unlabelled").mkdir()
    for image in unlabelled.glob("*/*.png"):
        shutil.move(str(image), span / "unlabelled" / image.name)

    run = Backend(Compiled(path, spec, platform, config, kubeflow),
                  tmp_path / "root").run("run-1")
    assert set(run.states.values()) == {"SUCCEEDED"}, run.states
    assert "Pretrainer" in run.executed
    examples = run.outputs["UnlabelledExampleGen"]["examples"]["uri"]
    rows = read_metadata(examples, "train")._append(
        read_metadata(examples, "eval"))
    assert len(rows) == 10 * 10 and set(rows.label) == {-1}
    backbone = Path(run.outputs["Pretrainer"]["model"]["uri"])
    assert (backbone / "Format-Serving" / "backbone.h5").is_file()
    assert (tmp_path / "serving" / "digits" / "1" / "saved_model.pb").is_file()
    history = json.loads((Path(run.outputs["Trainer"]["model_run"]["uri"])
                          / "history.json").read_text())
    assert [m["architecture"] for m in history["members"]] == [
        "small_cnn", "vit"]
