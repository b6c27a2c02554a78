"""A model is named after its data, and an output folder remembers it: the
commands that act on a run find the model from `--output OUT` alone, from
any working folder, and a folder without a run is refused with nothing
written."""
from __future__ import annotations

import json
import shlex

import pytest

from imgpipe.config import PipelineConfig, model_name_for
from tests.unit.test_cli import run_cli


@pytest.mark.parametrize("folder, name", [
    ("/data/my photos", "my_photos"),
    ("/data/déjà vu", "deja_vu"),
    ("/tmp/out/data/digits", "digits"),
    ("photos (2)", "photos_2"),
    (".hidden", "hidden"),
    ("cats - dogs", "cats-dogs"),
    ("v1..2", "v1.2"),
    ("gs://bucket/flowers/", "flowers"),
    ("写真", "model"),
    ("...", "model"),
])
def test_the_default_model_name_is_the_data_folder_made_safe(folder, name):
    assert model_name_for(folder) == name
    PipelineConfig(model_name=name)          # a valid TF Serving name


def test_the_model_name_option_wins_then_the_file_then_the_folder(tmp_path):
    from imgpipe import settings_file
    from imgpipe.cli.run_settings import model_name

    data = tmp_path / "my photos"
    assert model_name(None, None, data) == "my_photos"
    assert model_name("given", None, data) == "given"
    path = tmp_path / "settings.yaml"
    path.write_text("pipeline: {model_name: from_file}\n")
    parsed = settings_file.read(path)
    assert model_name(None, parsed, data) == "from_file"
    assert model_name("given", parsed, data) == "given"
    path.write_text("pipeline: {train: {epochs: 2}}\n")
    assert model_name(None, settings_file.read(path), data) == "my_photos"


def test_the_record_names_the_model_folder_and_pipeline_root(tmp_path):
    from imgpipe.runners.local import output_record
    from imgpipe.runners.local.layout import LocalLayout

    layout = LocalLayout(tmp_path / "my photos", tmp_path / "out")
    layout.output_root.mkdir()
    output_record.write(layout, "my_photos", "imgpipe")
    found = output_record.read(tmp_path / "out")
    assert found.model_dir == tmp_path / "out" / "serving" / "my_photos"
    assert found.pipeline_root == tmp_path / "out" / "pipeline_root"
    assert json.loads((tmp_path / "out" / "imgpipe.json").read_text())[
        "data_root"] == str(tmp_path / "my photos")
    assert [p.name for p in layout.output_root.iterdir()] == ["imgpipe.json"]


def test_an_output_folder_from_before_the_record_is_found_by_its_model(
        tmp_path):
    from imgpipe.runners.local import output_record

    with pytest.raises(output_record.NoRunError, match=r"holds no imgpipe "
                                                       r"run \(it does not"):
        output_record.read(tmp_path / "missing")
    (tmp_path / "serving" / "flowers" / "1").mkdir(parents=True)
    assert output_record.read(tmp_path).model_name == "flowers"
    (tmp_path / "serving" / "cats").mkdir()
    with pytest.raises(output_record.NoRunError,
                       match="holds several models"):
        output_record.read(tmp_path)


def test_suggested_commands_carry_the_output_folder(tmp_path):
    from imgpipe.cli.run_target import output_option
    from imgpipe.cli.report import next_steps
    from imgpipe.runners.local.summary import RunSummary

    out = tmp_path / "my out"
    assert output_option("output") == ""
    assert shlex.split(output_option(out)) == ["--output", str(out)]

    def summary(stable):
        return RunSummary("run", [], 1.0, None, 10, True, [], "2",
                          "/x/serving/m/2", None, stable_version=stable)
    text = next_steps(summary("2"), output_option(out))
    assert text.startswith("Version 2 is stable and served.")
    assert "canary" not in text and "promote" not in text
    assert f"imgpipe serve --output '{out}'" in text
    text = next_steps(summary("1"), output_option(out))
    assert "Version 2 is the canary; stable stays version 1." in text
    assert f"imgpipe promote --output '{out}'" in text


@pytest.mark.parametrize("command", [
    ["promote"], ["rollback"], ["history"], ["serve"],
    ["predict", "x.png"], ["explain", "x.png"], ["export-edge"]])
def test_a_folder_without_a_run_is_refused_and_nothing_written(
        tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(*command, "--output", str(empty), cwd=tmp_path)
    text = " ".join(result.stderr.split())
    assert result.returncode == 2, text
    assert f"The output folder {empty} holds no imgpipe run" in text
    assert "Traceback" not in result.stderr
    assert list(tmp_path.rglob("*")) == [empty]    # no lock, no output/


def test_a_run_without_a_pushed_model_says_so(tmp_path):
    from imgpipe.runners.local import output_record
    from imgpipe.runners.local.layout import LocalLayout

    layout = LocalLayout(tmp_path / "data", tmp_path / "out")
    layout.output_root.mkdir()
    output_record.write(layout, "flowers", "imgpipe")
    before = sorted(tmp_path.rglob("*"))
    result = run_cli("promote", "--output", "out", cwd=tmp_path)
    text = " ".join(result.stderr.split())
    assert result.returncode == 2, text
    assert "serving/flowers does not exist" in text
    assert "has not pushed a model yet" in text
    assert sorted(tmp_path.rglob("*")) == before


def test_promotion_on_a_missing_model_folder_creates_nothing(tmp_path):
    from imgpipe_components.model_store import (PromotionError, promote,
                                                rollback)
    missing = tmp_path / "serving" / "flowers"
    for action in (promote, rollback):
        with pytest.raises(PromotionError, match="does not exist"):
            action(missing)
    assert list(tmp_path.iterdir()) == []
