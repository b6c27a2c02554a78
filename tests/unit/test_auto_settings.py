"""The settings chooser: pure decisions from a data profile and hardware."""
from __future__ import annotations

import subprocess
import sys

import pytest

from imgpipe import auto_settings
from imgpipe import data_profile
from imgpipe.auto_settings import choose
from imgpipe.data_profile import DataProfile, Hardware
from tests.unit.images import png_bytes

CPU2 = Hardware(gpus=0, cpus=2)
GPU = Hardware(gpus=1, cpus=16)
DIGITS = DataProfile(images=1797, classes=10, side=8, channels=1)
GREY_10K = DataProfile(images=10_782, classes=10, side=28, channels=1)
PHOTOS = DataProfile(images=3000, classes=5, side=640, channels=3)


def test_embedded_digits_keep_the_measured_best_settings():
    choice = choose(DIGITS, CPU2, {})
    assert (choice.image_size, choice.channels, choice.architecture,
            choice.epochs, choice.batch_size, choice.copies) == (
        16, 1, "residual_cnn", 6, 32, 1)


def test_fewer_small_images_get_more_epochs_within_bounds():
    low, high = auto_settings.SMALL_DATA_EPOCHS
    epochs = [choose(DataProfile(n, 10, 8, 1), CPU2, {}).epochs
              for n in (50, 300, 1000, 1797, 4000)]
    assert epochs == sorted(epochs, reverse=True)
    assert epochs[0] == high and epochs[-1] == low
    assert low < epochs[1] < high


def test_ten_thousand_small_grey_images_on_cpu_get_the_fast_regime():
    choice = choose(GREY_10K, CPU2, {})
    assert choice.image_size == 28            # its own size, not upscaled
    assert choice.architecture == "small_cnn"
    assert choice.copies == 0
    assert auto_settings.MIN_EPOCHS <= choice.epochs < 10   # the script's 10
    assert any("no upscaling" in reason for reason in choice.reasons)


def test_more_data_gets_fewer_epochs_but_never_below_the_floor():
    epochs = [choose(DataProfile(n, 10, 28, 1), CPU2, {}).epochs
              for n in (5_000, 8_000, 100_000)]
    assert epochs == sorted(epochs, reverse=True)
    assert epochs[-1] == auto_settings.MIN_EPOCHS


def test_large_images_are_capped_by_device():
    assert choose(PHOTOS, CPU2, {}).image_size == 96
    assert choose(PHOTOS, GPU, {}).image_size == 224
    assert choose(PHOTOS, CPU2, {}).channels == 3


def test_gpu_branch_uses_the_residual_cnn_and_large_batches():
    choice = choose(GREY_10K, GPU, {})
    assert (choice.architecture, choice.batch_size, choice.copies) == (
        "residual_cnn", 128, 1)
    assert any("GPU" in reason for reason in choice.reasons)
    many = DataProfile(images=200_000, classes=10, side=28, channels=1)
    assert choose(many, GPU, {}).copies == 0


def test_more_cores_keep_the_stronger_model_for_more_images():
    many_small = DataProfile(images=10_000, classes=10, side=16, channels=1)
    assert choose(many_small, CPU2, {}).architecture == "small_cnn"
    assert choose(many_small, Hardware(gpus=0, cpus=8), {}).architecture == \
        "residual_cnn"


def test_a_few_hundred_photos_get_the_measured_photo_regime():
    """Copies, more epochs and a smaller input: the rules measured on small
    colour photo sets (benchmarks/results/small_photos.md), with reasons
    whose numbers are those of this data."""
    few_photos = DataProfile(images=360, classes=3, side=240, channels=3)
    choice = choose(few_photos, CPU2, {})
    assert (choice.image_size, choice.architecture, choice.copies) == (
        auto_settings.FEW_PHOTOS_SIDE, "small_cnn",
        auto_settings.FEW_PHOTOS_COPIES)
    low, high = auto_settings.FEW_PHOTOS_EPOCHS
    assert low < choice.epochs <= high
    per_epoch = round(360 * auto_settings.TRAIN_SHARE) * 3
    assert f"{choice.epochs} epochs of {per_epoch:,} image passes" in \
        " ".join(choice.reasons)
    # More photos: fewer epochs, never below the floor.
    more = choose(DataProfile(1500, 3, 240, 3), CPU2, {})
    assert more.epochs == low
    # Grey digits and larger photo sets keep their own rules.
    assert choose(DIGITS, CPU2, {}).copies == 1
    assert choose(DataProfile(5000, 5, 240, 3), CPU2, {}).copies == 0
    # An explicit input size is what the cost is judged at.
    assert choose(few_photos, CPU2, {"image_size": 96}).image_size == 96


def test_pretrained_weights_choose_transfer_learning_at_its_input_size():
    few_photos = DataProfile(images=360, classes=3, side=240, channels=3)
    choice = choose(few_photos, CPU2, {"transfer_weights": "w.h5"})
    assert (choice.architecture, choice.image_size) == (
        "transfer", auto_settings.TRANSFER_MIN_SIDE)
    assert any("not measured here" in reason for reason in choice.reasons)
    # An explicit architecture still wins.
    assert choose(few_photos, CPU2, {"transfer_weights": "w.h5",
                                     "architecture": "small_cnn"}
                  ).architecture == "small_cnn"
    assert choose(few_photos, CPU2, {"transfer_weights": ""}
                  ).architecture == "small_cnn"


def test_every_epoch_reason_states_the_passes_it_chose():
    for profile in (DIGITS, GREY_10K, DataProfile(2500, 4, 149, 3)):
        choice = choose(profile, CPU2, {})
        reason = next(r for r in choice.reasons if r.startswith("epochs"))
        assert "passes" in reason
        assert "60,000 image passes in all" not in reason


def test_explicit_options_win_and_say_so():
    choice = choose(GREY_10K, CPU2, {"epochs": 7, "image_size": 32,
                                     "architecture": None})
    assert (choice.epochs, choice.image_size) == (7, 32)
    assert choice.architecture == "small_cnn"        # None = not given
    assert "epochs = 7: set on the command line" in choice.reasons


def test_no_profile_falls_back_to_generic_settings():
    choice = choose(None, CPU2, {})
    assert (choice.image_size, choice.channels) == (32, 1)


def test_profile_reads_headers_of_a_sample(tmp_path):
    for name, mode, size in (("a", "L", (28, 28)), ("b", "RGB", (30, 20))):
        folder = tmp_path / name
        folder.mkdir()
        for index in range(3):
            (folder / f"{index}.png").write_bytes(png_bytes(size, mode))
    (tmp_path / "a" / "broken.png").write_bytes(b"not an image")
    profile = data_profile.profile_folder(tmp_path, {"a": 4, "b": 3},
                                           (".png",))
    assert profile == DataProfile(images=7, classes=2, side=29, channels=3)


def test_a_listing_is_profiled_from_the_first_bytes_of_a_sample(tmp_path):
    """The Kubeflow build's path: counts from a storage listing (class
    folders one level down, image suffixes only), headers from a bounded
    read; a nested folder, a text file and a broken image are ignored."""
    from imgpipe_components.storage import files
    for name, count in (("cat", 12), ("dog", 5)):
        (tmp_path / name).mkdir()
        for index in range(count):
            (tmp_path / name / f"{index:02d}.png").write_bytes(
                png_bytes((40, 30), "RGB"))
    (tmp_path / "cat" / "nested").mkdir()
    (tmp_path / "cat" / "nested" / "deep.png").write_bytes(
        png_bytes((400, 400), "RGB"))
    (tmp_path / "dog" / "README.txt").write_text("not an image")
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG broken")
    reads = []

    def head(uri):
        reads.append(uri)
        return files.read_bytes(uri, limit=64)
    profile = data_profile.profile_listing(files.list_tree(str(tmp_path)),
                                            (".png",), head)
    assert profile == DataProfile(images=18, classes=2, side=40, channels=3)
    assert len(reads) <= 2 * data_profile.SAMPLE_PER_CLASS
    assert data_profile.profile_listing(
        files.list_tree(str(tmp_path / "cat" / "nested")), (".png",),
        head) is None


def test_hidden_gpus_are_not_counted(monkeypatch):
    monkeypatch.setattr(data_profile, "_dev_entries",
                        lambda: ["nvidia0", "nvidiactl"])
    monkeypatch.setattr(data_profile.shutil, "which", lambda _: "/bin/x")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert data_profile.detect_hardware().gpus == 0
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert data_profile.detect_hardware().gpus == 1


@pytest.mark.parametrize("text, expected", [
    ("20e", (20, 0.0)), ("10m", (None, 600.0)), ("90s", (None, 90.0)),
    ("1.5h", (None, 5400.0))])
def test_parse_budget(text, expected):
    assert auto_settings.parse_budget(text) == expected


@pytest.mark.parametrize("text", ["", "10", "0m", "-5m", "2.5e", "ten m"])
def test_parse_budget_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError, match="--train-budget"):
        auto_settings.parse_budget(text)


def test_chooser_imports_no_tensorflow():
    code = ("import sys, imgpipe.auto_settings; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_cluster_build_profiles_the_latest_span(tmp_path):
    """With spans configured, `kubeflow compile` profiles the span a run
    would ingest now (the latest), not the union of all spans."""
    from imgpipe_components.image_example_gen.settings import IngestConfig
    from imgpipe.runners.kubeflow.auto_settings import data_profile
    for span, (count, size) in {1: (3, (8, 8)), 2: (5, (64, 48))}.items():
        for name in ("a", "b"):
            folder = tmp_path / f"span-{span}" / name
            folder.mkdir(parents=True)
            for index in range(count):
                (folder / f"{index}.png").write_bytes(png_bytes(size, "L"))
    profile, problem = data_profile(
        str(tmp_path), IngestConfig(span_pattern="span-{SPAN}"))
    assert problem == ""
    assert profile == DataProfile(images=10, classes=2, side=64, channels=1)
    missing, problem = data_profile(
        str(tmp_path), IngestConfig(span_pattern="week-{SPAN}"))
    assert missing is None and "week-{SPAN}" in problem
