"""Pushing to gs:// through google-cloud-storage, against the emulator:
whole versions only, saved_model.pb last, idempotent, resumable, and
concurrent pushers never share a version number."""
from __future__ import annotations

import threading

import pytest

from imgpipe_components.model_store import current_labels, show_history
from imgpipe_components.push import gcs_publish
from imgpipe_components.model_store import versions
from imgpipe_components.storage import gcs
from tests.push.harness import (REPORT_FILES, model_folder, report_folder,
                                run_push)

VERSION_FILES = {
    "saved_model.pb", "variables/variables.index",
    "variables/variables.data-00000-of-00001", "assets/class_index",
    "assets.extra/source_model.txt", "assets.extra/evaluation.json",
    "assets.extra/tf_serving_warmup_requests",
    *(f"assets.extra/model_report/{name}" for name in REPORT_FILES)}


@pytest.fixture
def base(bucket) -> str:
    return f"gs://{bucket}/serving/digits"


def objects(base: str) -> set:
    return set(gcs.list_names(base))


def test_the_emulator_enforces_generation_preconditions(base):
    uri = gcs.join(base, "probe")
    first = gcs.write(uri, b"a", if_generation_match=0)
    with pytest.raises(gcs.PreconditionFailed):
        gcs.write(uri, b"b", if_generation_match=0)       # exists already
    second = gcs.write(uri, b"c", if_generation_match=first)
    with pytest.raises(gcs.PreconditionFailed):
        gcs.write(uri, b"d", if_generation_match=first)   # stale generation
    assert gcs.read(uri) == (b"c", second)


def test_a_push_writes_the_whole_version_with_its_report_and_labels(
        base, tmp_path):
    model = model_folder(tmp_path / "Trainer" / "model" / "7", "a")
    report = report_folder(tmp_path / "ModelReport" / "report" / "9")
    pushed = run_push(model, base, report)
    assert objects(base) == {f"1/{name}" for name in VERSION_FILES}
    assert gcs.read(gcs.join(base, "1/saved_model.pb"))[0] == b"saved model a"
    for name, text in REPORT_FILES.items():
        assert gcs.read(gcs.join(base, "1/assets.extra/model_report",
                                 name))[0] == text.encode()
    assert gcs.read(gcs.join(base, "1/assets.extra/source_model.txt"))[0] \
        .decode().strip() == str(model)
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_destination") == \
        f"{base}/1"
    # models.config and the history live in the bucket, beside the model.
    assert current_labels(base) == {"stable": 1, "canary": 1}
    assert [(c.action, c.label, c.to_version) for c in show_history(base)] \
        == [("push", "stable", 1), ("push", "canary", 1)]
    config = gcs.read(f"gs://{base[5:].split('/')[0]}/serving/models.config")
    assert f'base_path: "{base}"' in config[0].decode()


def test_a_re_push_of_the_same_model_changes_nothing(base, tmp_path):
    model = model_folder(tmp_path / "model" / "1", "a")
    run_push(model, base)
    before = {name: gcs.read(gcs.join(base, name))[1]
              for name in objects(base)}
    pushed = run_push(model, base, pushed_uri=tmp_path / "again")
    assert pushed.get_string_custom_property("pushed_version") == "1"
    assert {name: gcs.read(gcs.join(base, name))[1]
            for name in objects(base)} == before        # not even rewritten
    assert len(show_history(base)) == 2


def test_a_new_model_becomes_the_next_version_and_canary(base, tmp_path):
    run_push(model_folder(tmp_path / "model" / "1", "a"), base)
    run_push(model_folder(tmp_path / "model" / "2", "b"), base)
    assert versions.list_versions(base) == [1, 2]
    assert current_labels(base) == {"stable": 1, "canary": 2}
    assert gcs.read(gcs.join(base, "2/saved_model.pb"))[0] == b"saved model b"


def test_an_unblessed_model_is_not_pushed(base, tmp_path):
    pushed = run_push(model_folder(tmp_path / "model" / "1", "a"), base,
                      blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert objects(base) == set()


def test_a_push_cut_short_is_never_loadable_and_is_finished_by_a_re_push(
        base, tmp_path, monkeypatch):
    model = model_folder(tmp_path / "model" / "1", "a")
    copied, real_copy = [], gcs.copy

    def copy_then_crash(source, target):
        if len(copied) == 4:
            raise ConnectionError("pod evicted")
        real_copy(source, target)
        copied.append(target.rsplit("/1/", 1)[1])
    monkeypatch.setattr(gcs, "copy", copy_then_crash)
    with pytest.raises(ConnectionError):
        run_push(model, base)
    # The marker went first; saved_model.pb, the file TF Serving waits for,
    # was not copied, so version 1 cannot be loaded half-written.
    assert copied[0] == "assets.extra/source_model.txt"
    assert "1/saved_model.pb" not in objects(base)
    assert any(n.startswith(".staging-1/") for n in objects(base))
    assert gcs_publish.find_push(base, str(model)) == (1, False)

    monkeypatch.setattr(gcs, "copy", real_copy)
    run_push(model, base, pushed_uri=tmp_path / "retry")
    assert objects(base) == {f"1/{name}" for name in VERSION_FILES
                             if "model_report" not in name}
    assert versions.list_versions(base) == [1]   # same number


def test_publishing_copies_saved_model_pb_last(base, tmp_path, monkeypatch):
    order, real_copy = [], gcs.copy
    monkeypatch.setattr(gcs, "copy", lambda s, t: (
        order.append(t.rsplit("/1/", 1)[1]), real_copy(s, t)))
    run_push(model_folder(tmp_path / "model" / "1", "a"), base)
    assert order[0] == "assets.extra/source_model.txt"
    assert order[-1] == "saved_model.pb" and order.count("saved_model.pb") == 1


def test_concurrent_pushers_claim_distinct_versions(base):
    claimed, errors = {}, []

    def claim(index: int) -> None:
        try:
            claimed[index] = gcs_publish.claim_version(base, f"model-{index}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sorted(claimed.values()) == [1, 2, 3, 4, 5, 6]
    for index, number in claimed.items():
        assert gcs_publish.find_push(base, f"model-{index}") == (number, False)
