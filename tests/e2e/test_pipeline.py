"""The whole pipeline on a small fixture, checked from ML Metadata."""
from __future__ import annotations

import pytest

from tests.conftest import FIXTURE_IMAGES_PER_CLASS

pytestmark = pytest.mark.e2e

COMPONENTS = {"ImageExampleGen", "StatisticsGen", "SchemaGen",
              "ExampleValidator", "DataGate", "Augment", "Transform",
              "Trainer", "served_model_resolver", "Evaluator",
              "Pusher", "ModelReport",
              "EdgeExport"}   # the fixture turns the optional edge export on


def test_every_component_executed_and_the_model_was_pushed(pipeline_run):
    first = pipeline_run.first
    assert {n.node_id for n in first.nodes} == COMPONENTS
    assert all(n.state == "COMPLETE" for n in first.nodes), first.nodes
    assert first.blessed is True
    assert first.accuracy >= 0.5
    assert first.eval_examples > 0
    assert first.pushed_version == "1"
    assert (pipeline_run.serving_dir / "1" / "saved_model.pb").exists()
    # The model's first version is stable at once, and the summary says so.
    assert first.stable_version == "1"
    from imgpipe.cli.report import next_steps
    assert next_steps(first).startswith("Version 1 is stable and served.")


def test_unchanged_inputs_are_served_from_cache(pipeline_run):
    second = {n.node_id: n.state for n in pipeline_run.second.nodes}
    # The resolver always runs (it reads the stable label and ML Metadata);
    # stable holds the candidate itself, so the Evaluator's inputs are
    # unchanged and it is cached too.
    assert {second[node] for node in COMPONENTS
            - {"served_model_resolver"}} == {"CACHED"}
    assert pipeline_run.second.pushed_version == "1"
    versions = [p.name for p in pipeline_run.serving_dir.iterdir()
                if p.name.isdigit()]
    assert versions == ["1"]


def test_splits_are_deterministic_and_disjoint(pipeline_run):
    from imgpipe_components.data_gate.metadata_table import read_metadata
    examples = next(n for n in pipeline_run.first.nodes
                    if n.node_id == "ImageExampleGen").outputs["examples"][0]
    train = read_metadata(examples.uri, "train")
    evaluation = read_metadata(examples.uri, "eval")
    assert len(train) + len(evaluation) == 10 * FIXTURE_IMAGES_PER_CLASS
    assert not set(train.image_id) & set(evaluation.image_id)
    # Roughly 8:2 by hash of the image id.
    assert 0.1 < len(evaluation) / (len(train) + len(evaluation)) < 0.3


def test_pushed_model_classifies_a_png(pipeline_run, digits_subset):
    import tensorflow as tf
    model = tf.saved_model.load(str(pipeline_run.serving_dir / "1"))
    serve = model.signatures["serving_default"]
    png = sorted((digits_subset / "7").iterdir())[0].read_bytes()
    outputs = serve(image_bytes=tf.constant([png]))
    assert outputs["probabilities"].shape == (1, 10)
    assert abs(float(tf.reduce_sum(outputs["probabilities"])) - 1.0) < 1e-4
    names = [n.decode() for n in outputs["classes"].numpy()[0]]
    assert names == [str(d) for d in range(10)]


def test_pixel_signature_matches_bytes_signature(pipeline_run, digits_subset):
    """Same preprocessing graph behind both signatures: no skew."""
    import numpy as np
    import tensorflow as tf
    from PIL import Image
    model = tf.saved_model.load(str(pipeline_run.serving_dir / "1"))
    path = sorted((digits_subset / "3").iterdir())[0]
    pixels = np.asarray(Image.open(path), dtype=np.float32)[None, :, :, None]
    by_bytes = model.signatures["serving_default"](
        image_bytes=tf.constant([path.read_bytes()]))["probabilities"]
    by_pixels = model.signatures["serving_pixels"](
        pixels=tf.constant(pixels))["probabilities"]
    np.testing.assert_allclose(by_bytes.numpy(), by_pixels.numpy(), atol=1e-6)


def test_run_records_lineage_in_ml_metadata(pipeline_run):
    from imgpipe.runners.local import run_record
    store = run_record.open_store(pipeline_run.layout.metadata_path)
    runs = store.get_contexts_by_type("pipeline_run")
    assert len(runs) == 2
    pushed = next(n for n in pipeline_run.first.nodes
                  if n.node_id == "Pusher").outputs["pushed_model"][0]
    assert pushed.custom_properties["pushed"].int_value == 1


def test_transform_groups_each_augmented_copy_with_its_original(pipeline_run):
    """The early-stopping holdout is chosen by `image_group`: with one copy
    per train image, every group holds exactly the original and its copy,
    and the eval split's images are groups of one. Read as the Trainer reads
    them: Augment's examples through the run's Transform graph."""
    import collections

    import tensorflow_transform as tft

    from imgpipe_components.train import datasets
    outputs = {n.node_id: n.outputs for n in pipeline_run.first.nodes}
    examples = outputs["Augment"]["augmented_examples"][0].uri
    transform = tft.TFTransformOutput(
        outputs["Transform"]["transform_graph"][0].uri)

    def group_sizes(split):
        groups = collections.Counter(
            int(features["image_group"]) for features in
            datasets.transformed_features([f"{examples}/Split-{split}/*"],
                                          transform))
        return set(groups.values()), len(groups)
    assert pipeline_run.config.augment.copies == 1
    assert group_sizes("train")[0] == {2}
    sizes, count = group_sizes("eval")
    assert sizes == {1} and count > 0