"""Self-supervised pretraining: the rotation pretext data, the warm start
of the Trainer from the Pretrainer's backbone, and where unlabelled images
are (and are not) read."""
from __future__ import annotations

import numpy as np
import pytest

SHAPE = (16, 16, 1)


def test_each_image_yields_its_four_quarter_turns_labelled_by_turns():
    import tensorflow as tf
    from imgpipe_components.pretrain.rotation import rotation_pairs
    images = np.arange(2 * 16 * 16, dtype=np.float32).reshape(2, *SHAPE)
    pairs = list(rotation_pairs(tf.data.Dataset.from_tensor_slices(images)))
    assert [int(label) for _, label in pairs] == [0, 1, 2, 3] * 2
    for index, (image, label) in enumerate(pairs):
        original = images[index // 4, :, :, 0]
        expected = np.rot90(original, k=int(label))  # counter-clockwise
        np.testing.assert_array_equal(image.numpy()[:, :, 0], expected)
    # Turns are distinct: a digit's orientation is learnable.
    assert not np.array_equal(pairs[0][0], pairs[2][0])


def _build(name, classes, shape=SHAPE):
    from imgpipe_components.train import models
    return models.build(name, shape, classes)


def test_the_backbone_round_trips_through_the_model_artifact(tmp_path):
    from imgpipe_components.train import warm_start
    pretext = _build("residual_cnn", 4)
    warm_start.save_backbone(pretext, str(tmp_path / "Format-Serving"))
    model = _build("residual_cnn", 10)
    head_before = [w.copy() for w in
                   model.get_layer(warm_start.HEAD).get_weights()]
    copied = warm_start.load_backbone(model, str(tmp_path / "Format-Serving"))

    pretrained = [layer for layer in pretext.layers
                  if layer.weights and layer.name != warm_start.HEAD]
    filled = [layer for layer in model.layers
              if layer.weights and layer.name != warm_start.HEAD]
    assert copied == len(filled) == len(pretrained) > 5
    for source, target in zip(pretrained, filled):
        for a, b in zip(source.get_weights(), target.get_weights()):
            np.testing.assert_array_equal(a, b)   # BN statistics included
    # The ten-class head is the Trainer's own, untouched.
    for before, after in zip(head_before, model.get_layer(
            warm_start.HEAD).get_weights()):
        np.testing.assert_array_equal(before, after)


def test_no_base_model_is_no_warm_start():
    from imgpipe_components.train import warm_start
    assert warm_start.load_backbone(_build("small_cnn", 3), None) == 0


@pytest.mark.parametrize("pretext, model, says", [
    (("small_cnn", 4, SHAPE), ("residual_cnn", 10, SHAPE), "layers with"),
    (("small_cnn", 4, (24, 24, 1)), ("small_cnn", 10, SHAPE), "weight shapes"),
])
def test_a_backbone_that_does_not_fit_is_refused_before_any_copy(
        pretext, model, says):
    from imgpipe_components.train import warm_start
    target = _build(*model)
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(warm_start.WarmStartError,
                       match=f"does not fit.*{says}.*same architecture"):
        warm_start.copy_backbone(_build(*pretext), target)
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_base_model_without_a_backbone_is_refused(tmp_path):
    from imgpipe_components.train import warm_start
    with pytest.raises(warm_start.WarmStartError, match="holds no backbone"):
        warm_start.load_backbone(_build("small_cnn", 3), str(tmp_path))


def _tree(root, files):
    for path in files:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"read by the executor, not the plan")
    from imgpipe_components.storage.files import list_tree
    return list_tree(str(root))


def test_unlabelled_images_are_never_a_class_and_are_planned_apart(tmp_path):
    from imgpipe_components.image_example_gen import formats
    from imgpipe_components.image_example_gen.settings import IngestConfig
    from imgpipe_components.storage.files import read_bytes
    (tmp_path.parent / "elsewhere.png").write_bytes(b"outside the root")
    (tmp_path / "unlabelled").mkdir()
    (tmp_path / "unlabelled" / "link.png").symlink_to(
        tmp_path.parent / "elsewhere.png")
    listing = _tree(tmp_path, ["cat/a.png", "dog/b.png", "unlabelled/u1.png",
                               "unlabelled/u2.jpg", "unlabelled/notes.txt",
                               "unlabelled/deeper/u3.png"])
    labelled = formats.plan(formats.FOLDERS, listing, IngestConfig(),
                            read_bytes)
    assert labelled.vocabulary == ("cat", "dog")
    assert [s.name for s in labelled.sources] == ["cat/a.png", "dog/b.png"]
    assert not labelled.quarantined

    unlabelled = formats.plan(formats.UNLABELLED, listing, IngestConfig(),
                              read_bytes)
    assert unlabelled.vocabulary == ()
    assert [(s.name, s.label, s.label_name) for s in unlabelled.sources] == [
        ("unlabelled/u1.png", formats.NO_LABEL, ""),
        ("unlabelled/u2.jpg", formats.NO_LABEL, "")]
    reasons = {q.image_id: q.reason for q in unlabelled.quarantined}
    assert reasons["unlabelled/notes.txt"].startswith("not an image file")
    assert reasons["unlabelled/deeper/u3.png"] == \
        "not directly inside unlabelled/"
    # A symlink out of the root is the unlabelled reader's to report only.
    assert reasons["unlabelled/link.png"] == \
        "symlink points outside the data root"
    assert set(reasons) == {"unlabelled/notes.txt", "unlabelled/deeper/u3.png",
                            "unlabelled/link.png"}


def test_the_chooser_counts_classes_without_the_unlabelled_folder(tmp_path):
    from imgpipe.data_profile import profile_listing
    from imgpipe_components.storage.files import list_tree, read_bytes
    from tests.unit.images import png_bytes
    for path in ("cat/a.png", "dog/b.png", "unlabelled/c.png",
                 "unlabelled/d.png", "unlabelled/e.png"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(png_bytes((20, 20)))
    profile = profile_listing(list_tree(str(tmp_path)), (".png",), read_bytes)
    assert (profile.classes, profile.images) == (2, 2)


def test_pretraining_without_unlabelled_images_says_where_to_put_them(
        tmp_path):
    from imgpipe.runners.local import preflight
    from imgpipe_components.image_example_gen import formats
    from imgpipe_components.image_example_gen.settings import IngestConfig
    from imgpipe_components.storage.files import read_bytes
    listing = _tree(tmp_path, ["cat/a.png", "dog/b.png", "unlabelled/x.txt"])
    with pytest.raises(ValueError, match="no images to pretrain on"):
        formats.plan(formats.UNLABELLED, listing, IngestConfig(), read_bytes)
    with pytest.raises(preflight.DataPathError,
                       match="unlabelled holds no images"):
        preflight.check_unlabelled(tmp_path)
    assert preflight.check_data_root(tmp_path) == {"cat": 1, "dog": 1}


def test_the_pretraining_branch_is_built_only_when_asked_for(tmp_path):
    from imgpipe.config import PipelineConfig, TrainConfig
    from imgpipe.pipeline import create_pipeline
    from imgpipe.runners.local.layout import LocalLayout
    locations = LocalLayout(tmp_path, tmp_path / "out").locations("digits")

    def nodes(**train):
        pipeline = create_pipeline(
            PipelineConfig(train=TrainConfig(**train)), locations)
        return {node.id: node for node in pipeline.components}

    plain = nodes()
    assert not {"UnlabelledExampleGen", "Pretrainer"} & set(plain)
    assert "base_model" not in plain["Trainer"].inputs
    pretraining = nodes(pretrain_epochs=2)
    trainer_base = pretraining["Trainer"].inputs["base_model"]
    assert trainer_base.producer_component_id == "Pretrainer"
    # Same data root (a run parameter on Kubeflow), its unlabelled/ only.
    reader = pretraining["UnlabelledExampleGen"].exec_properties
    assert reader["input_base"] == str(tmp_path)
    assert '"pattern": "unlabelled/*"' in reader["input_config"]
    pretrainer = pretraining["Pretrainer"]
    assert pretrainer.inputs["examples"].producer_component_id == \
        "UnlabelledExampleGen"
    assert pretrainer.inputs["transform_graph"].producer_component_id == \
        "Transform"
    assert pretrainer.exec_properties["custom_config"] == \
        pretraining["Trainer"].exec_properties["custom_config"]
