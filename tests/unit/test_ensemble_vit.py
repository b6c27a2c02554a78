"""The vision transformer and the ensemble model: shapes, saving without
traces, exact averaging, their settings, and Grad-CAM on both."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from imgpipe_components.library_internals import skip_tf_keras_in_autograph
from imgpipe_components.settings_codec import SettingsError
from imgpipe_components.train import models, vit
from imgpipe_components.train.settings import TrainConfig
from imgpipe_components.train.trainer_module import member_configs


@pytest.fixture(autouse=True, scope="module")
def fast_keras_tracing():
    skip_tf_keras_in_autograph()


def _images(count: int, side: int, channels: int = 1) -> np.ndarray:
    return np.random.default_rng(0).random((count, side, side, channels),
                                           dtype=np.float32)


def _built(name: str, side: int = 16, seed: int = 0):
    """A model at its random initialisation (fitting is tested in
    test_models.py): a vit of 2 blocks, to keep the tests fast."""
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    return models.build(name, (side, side, 1), 3, depth=2)


@pytest.mark.parametrize("side, patch, grid", [(8, 2, 4), (28, 4, 7),
                                               (48, 6, 8)])
def test_vit_keeps_16_to_64_tokens_whatever_the_input_side(side, patch, grid):
    model = models.build("vit", (side, side, 3), 10)
    assert vit.patch_side(side) == patch
    assert model.get_layer(vit.TOKEN_MAP).output.shape[1:3] == (grid, grid)
    # Small enough to train on CPUs in minutes: ~0.14 M parameters.
    assert 100_000 < model.count_params() < 200_000
    assert model.output.shape[-1] == 10
    assert model.get_layer("probabilities").dtype == "float32"


def test_vit_saves_without_traces_and_reloads_the_same(tmp_path):
    model = _built("vit")
    model.save(str(tmp_path), save_format="tf", save_traces=False)
    reloaded = models.load_keras_model(str(tmp_path))
    x = _images(4, 16)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


def test_the_ensemble_averages_its_members_exactly(tmp_path):
    first, second = _built("small_cnn"), _built("vit", seed=1)
    ensemble = models.ensemble([first, second])
    x = _images(5, 16)
    expected = (first.predict(x, verbose=0) + second.predict(x, verbose=0)) / 2
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected,
                               atol=1e-6)
    assert [m.name for m in models.members(ensemble)] == ["member_0",
                                                           "member_1"]
    ensemble.save(str(tmp_path), save_format="tf", save_traces=False)
    reloaded = models.load_keras_model(str(tmp_path))
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected,
                               atol=1e-6)
    assert len(models.members(reloaded)) == 2


def test_a_single_model_is_its_own_only_member():
    model = models.build("small_cnn", (8, 8, 1), 2)
    assert models.members(model) == [model]


def test_members_get_their_architecture_seed_and_budget_share():
    config = TrainConfig(ensemble=3, seed=7, time_budget_s=90)
    assert [(c.architecture, c.seed, c.time_budget_s, c.ensemble)
            for c in member_configs(config)] == [
        ("residual_cnn", 7, 30.0, 1), ("residual_cnn", 8, 30.0, 1),
        ("residual_cnn", 9, 30.0, 1)]
    listed = TrainConfig(ensemble_architectures=("small_cnn", "vit"))
    assert [c.architecture for c in member_configs(listed)] == [
        "small_cnn", "vit"]


@pytest.mark.parametrize("settings, message", [
    (dict(ensemble=0), "train.ensemble must be >= 1"),
    (dict(ensemble_architectures=("vit", "vgg")),
     "train.ensemble_architectures must be a list of"),
    (dict(ensemble=3, ensemble_architectures=("vit", "small_cnn")),
     r"train.ensemble must be 1 or the number of "
     r"train.ensemble_architectures \(2\)"),
])
def test_bad_ensemble_settings_are_named(settings, message):
    with pytest.raises(SettingsError, match=message):
        TrainConfig(**settings)


def _version_with_preprocess(model, folder: Path, side: int) -> Path:
    """A SavedModel with the signature Grad-CAM reads its input from
    (the pipeline's is the Transform graph: the same decode_image)."""
    import tensorflow as tf

    from imgpipe_components import class_names
    from imgpipe_components.transform.preprocessing import (IMAGE_KEY,
                                                            decode_image)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def preprocess(image_bytes):
        return {IMAGE_KEY: tf.map_fn(
            lambda item: decode_image(item, side, 1), image_bytes,
            fn_output_signature=tf.TensorSpec([side, side, 1], tf.float32))}

    model.save(str(folder), save_format="tf", save_traces=False, signatures={
        "serving_preprocess": preprocess.get_concrete_function()})
    (folder / "assets.extra").mkdir()
    (folder / "assets.extra" / class_names.MODEL_FILE).write_text(
        class_names.to_text(["a", "b", "c"]))
    return folder


def _png(side: int) -> bytes:
    from PIL import Image
    pixels = np.zeros((side, side), np.uint8)
    pixels[side // 4: 3 * side // 4, side // 2] = 255     # a vertical stroke
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("names, shows", [
    (("vit",), "Grad-CAM on the last transformer block's tokens on the 8x8 "
               "patch grid"),
    (("small_cnn", "vit"), "the mean of the 2 ensemble members' Grad-CAM "
                           "maps, each for the ensemble's predicted class "
                           "(member_0: the last convolutional block's output;"
                           " member_1: the last transformer block's tokens"),
])
def test_gradcam_explains_a_vit_and_an_ensemble_and_says_how(
        tmp_path, names, shows):
    from imgpipe_components.model_report.gradcam import GradCam

    fitted = [_built(name, seed=i) for i, name in enumerate(names)]
    model = fitted[0] if len(fitted) == 1 else models.ensemble(fitted)
    cam = GradCam(_version_with_preprocess(model, tmp_path / "1", 16))
    assert cam.method.startswith(shows)
    result = cam.explain(_png(24), "b")
    assert result.class_name == "b"
    assert result.heatmap.shape == (24, 24)
    assert 0.0 <= result.heatmap.min() <= result.heatmap.max() <= 1.0
    import tensorflow as tf
    from imgpipe_components.transform.preprocessing import decode_image
    pixels = decode_image(tf.constant(_png(24)), 16, 1)[tf.newaxis]
    assert result.probability == pytest.approx(
        float(model.predict(pixels, verbose=0)[0, 1]), abs=1e-5)
