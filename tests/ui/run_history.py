"""A real output folder with every kind of run the UI must show.

Starts from a copy of the session's `pipeline_run` output (a cold run that
pushed version 1, then a fully cached re-run) and adds, with the real
pipeline through the CLI's own run path (so each run leaves its log file
as `imgpipe run` does):

- a retrained run (one more epoch, another seed) that pushes version 2 as
  canary, then promoted with `model_store.actions.promote`;
- a run stopped by the data gate: the same digits with 30 images of class
  4 copied under new names, so identical images land in both splits;
- a failed run: the Trainer is asked for a transfer model (MobileNetV2)
  at the fixture's 16x16 inputs, which Keras refuses (at least 32x32).

`retrain` is separate so a test can watch it live.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Optional

import typer

from tests import logging_state

RETRAIN_EPOCHS = 4


@dataclasses.dataclass
class History:
    output: Path
    config: object             # the session's PipelineConfig
    data: Path                 # the session's digits subset
    runs: dict                 # label -> run id (ML Metadata context name)


def copy_output(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        ".imgpipe-run.*"))
    return target


def retrain_config(config):
    from imgpipe.config import EdgeConfig, EvalConfig, TrainConfig
    return dataclasses.replace(
        config, train=TrainConfig(epochs=RETRAIN_EPOCHS, seed=7),
        edge=EdgeConfig(enabled=False),
        evaluation=EvalConfig(min_accuracy=0.5, max_accuracy_drop=0.2))


def failing_config(config):
    from imgpipe.config import TrainConfig
    return dataclasses.replace(config, train=TrainConfig(
        epochs=1, architecture="transfer"))


def leaky_copy(data: Path, target: Path) -> Path:
    """The digits with every image of class 4 copied under a new name: more
    duplicates and train/eval leaks than the data gate tolerates, so it
    stops the run (as in tests/e2e/test_data_gate_stops_the_run.py)."""
    shutil.copytree(data, target)
    for image in sorted((target / "4").iterdir()):
        shutil.copy(image, image.with_name(f"copy-{image.name}"))
    return target


def logged_run(config, data: Path, output: Path) -> Optional[str]:
    """One run as `imgpipe run` makes it (its log file under OUTPUT/logs,
    the failure logged there); returns the failure message or None. The
    log handlers the run adds are removed after it, as at process exit."""
    from imgpipe.cli import main
    from imgpipe.runners.local.layout import LocalLayout

    with logging_state.restored_logging():
        try:
            main._run_with_progress(config, LocalLayout(data, output), False)
            return None
        except typer.Exit:
            return "failed"


def latest_run_id(output: Path, pipeline_name: str) -> str:
    from imgpipe.runners.local import run_record
    store = run_record.open_store(str(output / "metadata.sqlite"))
    return run_record.latest_run(store, pipeline_name)


def run_ids(output: Path) -> list:
    from imgpipe.runners.local import run_record
    store = run_record.open_store(str(output / "metadata.sqlite"))
    return sorted((c for c in store.get_contexts_by_type("pipeline_run")),
                  key=lambda c: c.id)


def retrain(history: History) -> None:
    """The retrained run: version 2 is pushed as canary."""
    assert logged_run(retrain_config(history.config), history.data,
                      history.output) is None
    history.runs["retrained"] = latest_run_id(
        history.output, history.config.pipeline_name)


def promote_canary(history: History) -> str:
    """Canary 2 -> stable with the CLI's servability check; forced (with a
    reason) only if the policy refuses."""
    from imgpipe.serving.servability import check_servable
    from imgpipe_components.model_store import PromotionError, promote

    serving = history.output / "serving" / history.config.model_name
    try:
        return promote(serving, reason="ui test", check=check_servable).message
    except PromotionError:
        return promote(serving, force=True, reason="ui test: forced",
                       check=check_servable).message


def stop_at_gate_and_fail(history: History, work: Path) -> None:
    name = history.config.pipeline_name
    leaky = leaky_copy(history.data, work / "leaky")
    assert logged_run(history.config, leaky, history.output) == "failed"
    history.runs["gate"] = latest_run_id(history.output, name)
    assert logged_run(failing_config(history.config), history.data,
                      history.output) == "failed"
    history.runs["failed"] = latest_run_id(history.output, name)


def start(pipeline_run, work: Path) -> History:
    output = copy_output(pipeline_run.layout.output_root, work / "output")
    first, second = (c.name for c in run_ids(output))
    return History(output, pipeline_run.config,
                   Path(pipeline_run.layout.data_root),
                   {"cold": first, "cached": second})
