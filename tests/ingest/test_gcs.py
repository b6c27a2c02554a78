"""gs:// input through google-cloud-storage, against gcp-storage-emulator.

The client reaches the emulator through STORAGE_EMULATOR_HOST, the same code
path (listing, downloads, retry and timeout arguments) a real bucket takes.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

import pytest

from imgpipe_components.storage import files as storage
from tests.ingest import builders
from tests.ingest.harness import point_client_at, run_example_gen
from tests.ingest.proxy import DroppingProxy

@contextlib.contextmanager
def through(proxy: DroppingProxy, emulator) -> Iterator[DroppingProxy]:
    """The storage client talks to the emulator through `proxy`."""
    point_client_at(proxy.url)
    try:
        yield proxy
    finally:
        point_client_at(emulator.url)
        proxy.close()


FAST_RETRY = storage.RetrySettings(timeout_s=5, initial_s=0.1, maximum_s=0.5,
                                   multiplier=2, deadline_s=3)


@pytest.fixture(scope="module")
def uploaded(gcs_emulator, tmp_path_factory):
    local = builders.class_tree(tmp_path_factory.mktemp("gcs") / "tree",
                                {"cat": 6, "dog": 6})
    (local / "cat" / "zero.png").write_bytes(b"")
    (local / "dog" / "notes.jpg").write_text("not a jpeg")
    gcs_emulator.upload_tree(local, "images", "sets/pets")
    return local


def test_a_bucket_is_ingested_like_the_same_files_on_disk(uploaded, tmp_path):
    remote = run_example_gen("gs://images/sets/pets", tmp_path / "remote")
    local = run_example_gen(uploaded, tmp_path / "local")
    columns = ["image_id", "label_name", "content_hash", "split"]
    assert len(remote.rows) == 12
    assert remote.rows[columns].sort_values("image_id").reset_index(drop=True) \
        .equals(local.rows[columns].sort_values("image_id")
                .reset_index(drop=True))
    assert remote.reasons() == local.reasons() == {
        "cat/zero.png": "empty file (0 bytes)",
        "dog/notes.jpg": remote.reasons()["dog/notes.jpg"]}
    assert "not a decodable image" in remote.reasons()["dog/notes.jpg"]


def test_a_missing_bucket_stops_with_a_clear_message(gcs_emulator, tmp_path):
    with pytest.raises(storage.StorageError,
                       match=r"Failed listing gs://no-such-bucket/x: the "
                             r"bucket or object does not exist"):
        run_example_gen("gs://no-such-bucket/x", tmp_path / "examples")


def test_a_connection_dropped_mid_listing_is_retried(gcs_emulator, uploaded):
    with through(DroppingProxy(gcs_emulator.port, drop=1),
                 gcs_emulator) as proxy:
        listing = storage.list_tree("gs://images/sets/pets", FAST_RETRY)
    assert proxy.connections >= 2          # the cut one, then the retry
    assert "cat/000.png" in listing.files and len(listing.files) == 14


def test_a_connection_that_keeps_dropping_fails_with_a_clear_message(
        gcs_emulator, uploaded):
    started = time.monotonic()
    with through(DroppingProxy(gcs_emulator.port, drop=10**6),
                 gcs_emulator) as proxy:
        with pytest.raises(storage.StorageError) as failed:
            storage.list_tree("gs://images/sets/pets", FAST_RETRY)
    message = str(failed.value)
    assert "Failed listing gs://images/sets/pets: gave up after retrying " \
           "transient errors for 3 s" in message
    assert "gcs_retry_deadline_s" in message
    assert proxy.connections >= 3           # retried with back-off ...
    assert time.monotonic() - started < 15  # ... until the deadline


def test_a_download_cut_mid_transfer_is_retried(gcs_emulator, uploaded):
    # The emulator sends an MD5 hash; the cut body fails it and is re-read.
    with through(DroppingProxy(gcs_emulator.port, drop=1),
                 gcs_emulator) as proxy:
        data = storage.read_bytes("gs://images/sets/pets/cat/003.png",
                                  FAST_RETRY)
    assert data == (uploaded / "cat" / "003.png").read_bytes()
    assert proxy.connections >= 2


@pytest.mark.parametrize("status", [503, 429])
def test_busy_bucket_answers_are_retried_with_back_off(gcs_emulator, uploaded,
                                                       status):
    with through(DroppingProxy(gcs_emulator.port, drop=2, status=status),
                 gcs_emulator) as proxy:
        data = storage.read_bytes("gs://images/sets/pets/cat/001.png",
                                  FAST_RETRY)
    assert data == (uploaded / "cat" / "001.png").read_bytes()
    assert proxy.connections >= 3           # two refused, then served


def test_a_request_that_times_out_is_retried(gcs_emulator, uploaded):
    quick_timeout = storage.RetrySettings(
        timeout_s=0.5, initial_s=0.1, maximum_s=0.5, multiplier=2,
        deadline_s=10)
    with through(DroppingProxy(gcs_emulator.port, drop=1, stall_s=2),
                 gcs_emulator) as proxy:
        listing = storage.list_tree("gs://images/sets/pets", quick_timeout)
    assert "dog/000.png" in listing.files
    assert proxy.connections >= 2


def test_a_permanent_error_is_not_retried(gcs_emulator, uploaded):
    started = time.monotonic()
    with through(DroppingProxy(gcs_emulator.port, drop=10**6, status=403),
                 gcs_emulator) as proxy:
        with pytest.raises(storage.StorageError, match="gs://images/sets"):
            storage.read_bytes("gs://images/sets/pets/cat/001.png",
                               FAST_RETRY)
    assert proxy.connections == 1           # no retry of a 403 ...
    assert time.monotonic() - started < FAST_RETRY.deadline_s  # ... no wait


def test_a_bucket_is_profiled_from_ranged_header_reads(gcs_emulator, uploaded):
    """`kubeflow compile` chooses its defaults from the data in the bucket:
    counts from the listing, sizes and colour from the first bytes of a
    sample (an empty and a broken file are skipped, not fatal)."""
    from imgpipe.config import PipelineConfig
    from imgpipe.data_profile import DataProfile
    from imgpipe.runners.kubeflow.auto_settings import data_profile

    head = storage.read_bytes("gs://images/sets/pets/cat/000.png", FAST_RETRY,
                              limit=16)
    assert head == (uploaded / "cat" / "000.png").read_bytes()[:16]
    profile, problem = data_profile("gs://images/sets/pets",
                                    PipelineConfig().ingest)
    assert problem == ""
    assert profile == DataProfile(images=14, classes=2, side=8, channels=1)
    missing, problem = data_profile("gs://no-such-bucket/x",
                                    PipelineConfig().ingest)
    assert missing is None and "gs://no-such-bucket/x" in problem


def test_the_data_check_fingerprints_a_bucket_from_one_listing(
        gcs_emulator, tmp_path):
    """Kubeflow's DataCheck: sizes and generations come with the retried
    listing (one pass over the bucket), and rewriting one object with the
    same name and size changes the stats."""
    from imgpipe_components.data_check.fingerprint import data_stats
    local = builders.class_tree(tmp_path / "tree", {"a": 2, "b": 2})
    gcs_emulator.upload_tree(local, "checks", "span-1")
    first = data_stats("gs://checks", "span-{SPAN}", FAST_RETRY)
    assert [row[:3] for row in first] == [
        ["span-1", f"{name}/{index:03d}.png",
         (local / name / f"{index:03d}.png").stat().st_size]
        for name in ("a", "b") for index in range(2)]
    assert data_stats("gs://checks", "span-{SPAN}", FAST_RETRY) == first
    blob = gcs_emulator.client().bucket("checks").blob("span-1/a/000.png")
    blob.upload_from_filename(str(local / "a" / "000.png"))
    again = data_stats("gs://checks", "span-{SPAN}", FAST_RETRY)
    assert [row[:3] for row in again] == [row[:3] for row in first]
    assert again != first          # the rewritten object's generation
