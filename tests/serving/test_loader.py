"""A version is served only after its warm-up requests ran; one whose
warm-up fails is refused before it can replace anything."""
from __future__ import annotations

import logging
import shutil

import pytest

from imgpipe.serving.errors import ServingError
from imgpipe.serving.loader import WARMUP_FILE, load_version


@pytest.fixture
def version_dir(tmp_path, pushed_version):
    target = tmp_path / "digits" / "1"
    shutil.copytree(pushed_version, target)
    return target


def loaded_message(caplog) -> str:
    return next(r.getMessage() for r in caplog.records
                if r.getMessage().startswith("Loaded digits version 1"))


def test_the_recorded_warmup_requests_run_at_load(version_dir, caplog):
    caplog.set_level(logging.INFO, logger="imgpipe.serve")
    servable = load_version("digits", 1, version_dir)
    assert "(2 warm-up requests)" in loaded_message(caplog)
    assert set(servable.input_specs["serving_default"]) == {"image_bytes"}


def test_the_warmup_verifies_the_flat_signature_call(version_dir):
    """The fast path is used, not merely available: the warm-up found the
    flat call equal to the public one for the signature it exercised."""
    servable = load_version("digits", 1, version_dir)
    assert "serving_default" in servable.flat_call_signatures


def test_without_records_a_blank_image_warms_it_up(version_dir, caplog):
    caplog.set_level(logging.INFO, logger="imgpipe.serve")
    (version_dir / WARMUP_FILE).unlink()
    load_version("digits", 1, version_dir)
    assert "(1 warm-up requests)" in loaded_message(caplog)


def test_a_failing_warmup_request_refuses_the_version(version_dir):
    import tensorflow as tf
    from imgpipe_components.push.extras import warmup_log
    record = warmup_log("digits", 1)
    record.predict_log.request.inputs["image_bytes"].CopyFrom(
        tf.make_tensor_proto([b"not an image"], dtype=tf.string))
    with tf.io.TFRecordWriter(str(version_dir / WARMUP_FILE)) as writer:
        writer.write(record.SerializeToString())
    with pytest.raises(ServingError) as refused:
        load_version("digits", 1, version_dir)
    assert refused.value.code == "INVALID_ARGUMENT"
    assert "Warm-up request 1" in refused.value.message
    assert "Unknown image file format" in refused.value.message


def test_a_corrupt_warmup_file_or_model_refuses_the_version(version_dir):
    (version_dir / WARMUP_FILE).write_bytes(b"\x00" * 40)
    with pytest.raises(ServingError) as refused:
        load_version("digits", 1, version_dir)
    assert refused.value.code == "DATA_LOSS"
    (version_dir / "saved_model.pb").write_bytes(b"\x08garbage")
    with pytest.raises(ServingError, match="Could not load") as corrupt:
        load_version("digits", 1, version_dir)
    assert corrupt.value.code == "DATA_LOSS"
