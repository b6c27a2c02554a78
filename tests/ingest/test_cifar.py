"""CIFAR-10 python batches: read with a restricted unpickler into PNGs."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from PIL import Image

from imgpipe_components.image_example_gen import cifar
from tests.ingest import builders
from tests.ingest.harness import run_example_gen

CLASSES = ["plane", "car", "bird"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar") / "data"
    root.mkdir()
    (root / "batches.meta").write_bytes(builders.cifar_meta(CLASSES))
    # Protocol 2 (as CIFAR mirrors re-save) and 4 (Python 3's default).
    (root / "data_batch_1").write_bytes(
        builders.cifar_batch([0, 1, 2] * 4, seed=1, protocol=2))
    (root / "test_batch").write_bytes(
        builders.cifar_batch([2, 1, 0, 7], seed=2, protocol=4))
    (root / "readme.html").write_text("<p>CIFAR</p>")
    return run_example_gen(root, root.parent / "examples"), root


def test_batches_become_pngs_with_the_same_metadata_columns(ingested):
    result, _ = ingested
    assert result.artifact.get_string_custom_property("ingest_format") == "cifar"
    assert len(result.rows) == 12 + 3
    assert set(result.rows.format) == {"PNG"}
    assert set(zip(result.rows.height, result.rows.width,
                   result.rows.channels)) == {(32, 32, 3)}
    assert set(result.rows.label_name) == set(CLASSES)
    assert open(f"{result.uri}/labels.txt").read().split() == CLASSES


def test_pixels_survive_the_conversion(ingested):
    import tensorflow as tf
    result, root = ingested
    batch = pickle.loads((root / "data_batch_1").read_bytes(), encoding="bytes")
    expected = batch[b"data"][5].reshape(3, 32, 32).transpose(1, 2, 0)
    for record in tf.data.TFRecordDataset(
            tf.io.gfile.glob(f"{result.uri}/Split-*/*"), compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        if feature["image_id"].bytes_list.value[0] == b"data_batch_1/00005":
            png = feature["image_raw"].bytes_list.value[0]
            np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))),
                                          expected)
            assert feature["label_name"].bytes_list.value[0] == b"bird"  # 5 % 3
            return
    pytest.fail("data_batch_1/00005 not ingested")


def test_a_label_outside_the_meta_classes_is_quarantined(ingested):
    result, _ = ingested
    assert result.reasons() == {
        "test_batch/00003": "label 7 outside the 3 classes of batches.meta",
        "readme.html": "not a CIFAR batch file"}


def test_a_batch_with_code_in_it_stops_the_run_and_runs_nothing(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    marker = tmp_path / "pwned"
    (root / "data_batch_1").write_bytes(builders.cifar_batch([0, 1]))
    (root / "data_batch_2").write_bytes(builders.malicious_batch(marker))
    # Beam re-raises the DoFn's own exception type, with the step appended.
    with pytest.raises(cifar.UnsafePickleError) as stopped:
        run_example_gen(root, tmp_path / "examples")
    message = str(stopped.value)
    assert "data_batch_2: refused to unpickle 'posix.system'" in message
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    pickle.dumps({b"data": pickle.loads, b"labels": [0]}, protocol=2),
    pickle.dumps(eval, protocol=2),
    b"cos\nsystem\n(S'true'\ntR.",          # hand-written protocol 0
])
def test_the_unpickler_refuses_anything_but_plain_data(payload):
    with pytest.raises(cifar.UnsafePickleError, match="batch_x: refused"):
        cifar.load(payload, "batch_x")


def test_a_batch_of_the_wrong_shape_is_a_clear_error():
    bad = pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]})
    with pytest.raises(cifar.CifarFormatError, match=r"data_batch_9: 'data' "
                       r"must be a uint8 array of shape \(N, 3072\)"):
        list(cifar.records(bad, "data_batch_9", CLASSES, 10**6))
