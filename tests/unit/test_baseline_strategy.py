"""The baseline is the model in service: the Model artifact the `stable`
version was pushed from, whatever is newest or last blessed."""
from __future__ import annotations

from pathlib import Path

from tfx.types import standard_artifacts

from imgpipe_components.evaluate.baseline_strategy import served_model_artifact


def model(uri: str, artifact_id: int):
    artifact = standard_artifacts.Model()
    artifact.uri, artifact.id = uri, artifact_id
    return artifact


def push(store: Path, version: int, source: str, complete: bool = True):
    extra = store / str(version) / "assets.extra"
    extra.mkdir(parents=True)
    (extra / "source_model.txt").write_text(source + "\n")
    if complete:
        (store / str(version) / "saved_model.pb").write_text("model")


def label(store: Path, **labels) -> None:
    from imgpipe_components.model_store.models_config import (ServingPaths, add_model,
                                                   parse_config, set_labels,
                                                   write_config_atomically)
    config = parse_config(None, "test")
    set_labels(add_model(config, store.name, str(store)), labels)
    write_config_atomically(ServingPaths.for_model(store).config, config)


def test_the_stable_version_not_the_newest(tmp_path):
    store = tmp_path / "serving" / "digits"
    models = [model(f"/m/{i}", i) for i in (1, 2, 3)]
    for version, artifact in enumerate(models, start=1):
        push(store, version, artifact.uri)
    label(store, stable=1, canary=3)     # 3 never promoted, 2 rolled back
    candidate = [model("/m/4", 4)]
    assert served_model_artifact(str(store), candidate, models) == models[:1]


def test_a_candidate_already_in_service_has_no_baseline(tmp_path):
    store = tmp_path / "serving" / "digits"
    models = [model("/m/1", 1)]
    push(store, 1, "/m/1")
    label(store, stable=1, canary=1)
    assert served_model_artifact(str(store), models, models) == []


def test_no_stable_version_or_a_missing_folder_means_no_baseline(tmp_path):
    store = tmp_path / "serving" / "digits"
    models = [model("/m/1", 1), model("/m/2", 2)]
    assert served_model_artifact(str(store), models[1:], models) == []
    push(store, 1, "/m/1", complete=False)      # folder without a SavedModel
    label(store, stable=1, canary=1)
    assert served_model_artifact(str(store), models[1:], models) == []


def test_a_stable_model_unknown_to_this_store_is_reported(tmp_path, caplog):
    import logging
    store = tmp_path / "serving" / "digits"
    push(store, 1, "gs://elsewhere/Trainer/model/9")
    label(store, stable=1, canary=1)
    with caplog.at_level(logging.WARNING,
                         logger="imgpipe_components.evaluate"):
        assert served_model_artifact(str(store), [model("/m/2", 2)],
                                     [model("/m/2", 2)]) == []
    assert "does not hold" in caplog.text
