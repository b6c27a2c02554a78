"""Version numbers on a local (or shared-volume) model store are claimed
atomically: concurrent pushers never get the same number."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from imgpipe_components.model_store import versions

CLAIMS_EACH = 6


def push_some(base: str, pusher: int) -> list:
    """A pusher's life cycle, as the Pusher's local path runs it: claim,
    write the version inside the claim, rename it into place, release."""
    numbers = []
    for push in range(CLAIMS_EACH):
        uri = f"model-{pusher}-{push}"
        number = versions.claim_local_version(base, uri)
        staging = os.path.join(base, f"{versions.STAGING}{number}")
        built = os.path.join(staging, "version")
        os.makedirs(built)
        with open(os.path.join(built, versions.SAVED_MODEL), "w") as handle:
            handle.write(uri)
        os.rename(built, os.path.join(base, str(number)))
        os.rename(os.path.join(staging, versions.SOURCE_FILE),
                  os.path.join(base, str(number), "claimed_by"))
        os.removedirs(os.path.dirname(os.path.join(staging,
                                                   versions.SOURCE_FILE)))
        numbers.append(number)
    return numbers


def _assert_each_number_once(base, claimed):
    flat = [number for numbers in claimed for number in numbers]
    assert len(flat) == len(set(flat))
    assert sorted(flat) == list(range(1, len(flat) + 1))
    assert versions.list_versions(str(base), complete_only=True) == \
        sorted(flat)
    for number in flat:   # each version holds the model that claimed it
        folder = base / str(number)
        assert (folder / versions.SAVED_MODEL).read_text() == \
            (folder / "claimed_by").read_text().strip()
    assert not versions.staged_folders(str(base))


def test_concurrent_processes_never_share_a_number(tmp_path):
    base = tmp_path / "serving" / "digits"
    with ProcessPoolExecutor(max_workers=4) as pool:
        claimed = list(pool.map(push_some, [str(base)] * 4, range(4)))
    _assert_each_number_once(base, claimed)


def test_concurrent_threads_never_share_a_number(tmp_path):
    base = tmp_path / "digits"
    with ThreadPoolExecutor(max_workers=8) as pool:
        claimed = list(pool.map(push_some, [str(base)] * 8, range(8)))
    _assert_each_number_once(base, claimed)


def test_a_claim_cut_short_is_resumed_by_its_model_and_skipped_by_others(
        tmp_path):
    base = str(tmp_path / "digits")
    first = versions.claim_local_version(base, "model-a")
    assert first == 1 and versions.list_versions(base) == []
    assert versions.claim_local_version(base, "model-a") == 1   # re-push
    assert versions.claim_local_version(base, "model-b") == 2
    os.makedirs(os.path.join(base, "3"))                        # published
    assert versions.claim_local_version(base, "model-c") == 4


def test_stray_entries_named_like_versions_are_skipped_not_reused(tmp_path):
    """A dangling link `.staging-3` (a broken mount) and a file `4` hold
    their numbers: the claim takes 5 at once, overwriting neither."""
    (tmp_path / "2").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / f"{versions.STAGING}3")
    (tmp_path / "4").write_text("not a version")
    assert versions.claim_local_version(str(tmp_path), "model-a",
                                        attempts=2) == 5
    assert (tmp_path / "4").read_text() == "not a version"
    assert os.path.islink(tmp_path / f"{versions.STAGING}3")
