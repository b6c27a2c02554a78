"""`imgpipe run` reaches every setting `imgpipe kubeflow compile` reaches:
the same --config file through the same loader, --span-pattern and
--max-accuracy-drop. An option given wins over the file, the file over the
chooser, the chooser over the built-in defaults."""
from __future__ import annotations

import pytest

from imgpipe.cli import run_settings
from imgpipe.config import PipelineConfig
from tests.unit.test_cli import run_cli, tree

SETTINGS = """\
pipeline:
  model_name: flowers
  ingest: {span_pattern: "span-{SPAN}"}
  train: {epochs: 7, seed: 3}
  evaluation: {min_accuracy: 0.8, max_accuracy_drop: 0.02}
kubeflow:
  gpu_count: 1
"""


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(SETTINGS)
    return path


def options(**given):
    """The run command's option values: defaults, then `given`."""
    values = {"rebalance_to": 0.0, "seed": 42, "online_augmentation": False,
              "early_stopping": 0, "min_accuracy": 0.9,
              "max_accuracy_drop": 0.0, "span_pattern": None,
              "edge_export": False, "auto_promote": False, "no_cache": False}
    values.update(given)
    return values, set(given)


def test_the_file_wins_over_the_defaults_and_options_over_the_file(settings):
    values, given = options(min_accuracy=0.95)
    config, parsed = run_settings.base_config(settings, values, given)
    assert config.evaluation.min_accuracy == 0.95           # the option
    assert config.evaluation.max_accuracy_drop == 0.02      # the file
    assert config.train.seed == 3                           # not 42: unset
    assert config.ingest.span_pattern == "span-{SPAN}"
    assert parsed.chosen_settings() == {"epochs": 7}
    values, given = options(span_pattern="batch-{SPAN}", max_accuracy_drop=0,
                            no_cache=True)
    config, _ = run_settings.base_config(settings, values, given)
    assert config.ingest.span_pattern == "batch-{SPAN}"
    assert config.evaluation.max_accuracy_drop == 0.0
    assert not config.enable_cache


def test_without_a_file_only_given_options_change_the_defaults():
    values, given = options(max_accuracy_drop=0.05, edge_export=True)
    config, parsed = run_settings.base_config(None, values, given)
    assert parsed is None
    assert config.evaluation.max_accuracy_drop == 0.05
    assert config.edge.enabled
    assert config.train == PipelineConfig().train


def test_the_file_wins_over_the_chooser_and_options_over_both(
        tmp_path, settings):
    data = tree(tmp_path / "data", {"a": 4, "b": 4})
    counts = {"a": 4, "b": 4}
    config, parsed = run_settings.base_config(settings, *options())
    config = PipelineConfig()      # no spans: the tree has none
    choice, _ = run_settings.chosen(data, counts, config, parsed, None,
                                    {"epochs": None, "image_size": 24})
    assert choice.epochs == 7 and choice.image_size == 24
    assert "epochs = 7: set by option or --config" in choice.reasons
    choice, _ = run_settings.chosen(data, counts, config, parsed, None,
                                    {"epochs": 2})
    assert choice.epochs == 2


def test_kubeflow_compile_and_run_read_one_pipeline_section(settings):
    from imgpipe.cli.kubeflow_options import CompileOptions, build
    from imgpipe.runners.kubeflow.config_file import load

    config, kubeflow = load(settings)
    values, given = options()
    assert run_settings.base_config(settings, values, given)[0] == config
    assert kubeflow.gpu_count == 1
    compiled, _ = build(CompileOptions(
        config=settings, ingest={"span_pattern": "batch-{SPAN}"},
        evaluation={"max_accuracy_drop": 0.04}))
    assert compiled.ingest.span_pattern == "batch-{SPAN}"
    assert compiled.evaluation.max_accuracy_drop == 0.04


@pytest.mark.parametrize("text, message", [
    ("pipeline: {train: {epoch: 3}}\n", "unknown setting(s) epoch"),
    ("pipeline: [1, 2]\n", "the pipeline: section must be a map"),
    ("clusters: {}\n", "expected the sections pipeline and kubeflow"),
    ("pipeline: {evaluation: {max_accuracy_drop: 2}}\n",
     "evaluation.max_accuracy_drop"),
])
def test_a_bad_file_stops_the_run_before_any_work(tmp_path, text, message):
    data = tree(tmp_path / "data", {"a": 3, "b": 3})
    (tmp_path / "bad.yaml").write_text(text)
    result = run_cli("run", "--data", str(data), "--output", "out",
                     "--config", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    shown = " ".join(result.stderr.split())
    assert message in shown and "bad.yaml" in shown
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_span_pattern_from_the_command_line_reaches_the_data_check(
        tmp_path):
    data = tree(tmp_path / "data", {"a": 3, "b": 3})
    result = run_cli("run", "--data", str(data), "--output", "out",
                     "--span-pattern", "span-{SPAN}", cwd=tmp_path)
    assert result.returncode == 2
    assert "span-" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_run_and_compile_describe_shared_options_alike(tmp_path):
    def help_of(*command):
        return " ".join(run_cli(*command, "--help", cwd=tmp_path)
                        .stdout.split())
    run, compile_ = help_of("run"), help_of("kubeflow", "compile")
    for phrase in ("--config FILE YAML settings with a pipeline: section",
                   "--span-pattern PATTERN Folder of each span",
                   "Eval accuracy a model may lose against the model in "
                   "service."):
        assert phrase in run and phrase in compile_, phrase
