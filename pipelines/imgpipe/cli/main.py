"""`imgpipe`: the command line of the image-classification pipeline.

Heavy libraries (TensorFlow, TFX, Great Expectations) are imported inside the
commands that need them, so `imgpipe --help` answers at once.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from imgpipe.config import (AugmentConfig, EdgeConfig, EvalConfig,
                            PipelineConfig, PushConfig, TrainConfig)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Image-classification pipeline: ingest, validate, "
                       "augment, transform, train, evaluate, push.")
console = Console(stderr=True)

DEFAULT_OUTPUT = Path("output")
DEFAULT_DIGITS = DEFAULT_OUTPUT / "data" / "digits"


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def run(
    data: Optional[Path] = typer.Option(
        None, help="Folder of class sub-folders. Default: scikit-learn's "
                   "digits, written once under OUTPUT/data/digits."),
    output: Path = typer.Option(DEFAULT_OUTPUT, help="Pipeline root, ML "
                                "Metadata store and serving folder live here."),
    epochs: Optional[int] = typer.Option(
        None, min=1, help="Default: chosen from the data and the machine "
                          "(printed at the start of the run)."),
    batch_size: Optional[int] = typer.Option(
        None, min=1, help="Default: chosen (32 on CPU, 128 on GPU)."),
    image_size: Optional[int] = typer.Option(
        None, min=8, help="Side of the square model input. Default: the "
        "images' own size, at least 16, capped at 96 on CPU (224 on GPU)."),
    channels: Optional[int] = typer.Option(
        None, min=1, max=3, help="1 (grey) or 3 (RGB). Default: 1 if the "
                                 "sampled images are grey."),
    copies: Optional[int] = typer.Option(
        None, min=0, help="Augmented copies per train image. Default: "
                          "chosen by data-set size and device."),
    rebalance_to: float = typer.Option(
        AugmentConfig.rebalance_to, min=0, max=1,
        help="Oversample classes up to this fraction of the largest."),
    architecture: Optional[str] = typer.Option(
        None, help="small_cnn, residual_cnn or transfer. Default: chosen "
                   "by data-set size and device."),
    train_budget: Optional[str] = typer.Option(
        None, help="Training budget: epochs ('20e') or wall time ('10m', "
                   "'90s', '1h'); training stops at the first batch past a "
                   "time budget (recorded in history.json)."),
    early_stopping: int = typer.Option(
        TrainConfig.early_stopping_patience, min=0,
        help="Stop after N epochs without gain on a hash-chosen 10% "
             "holdout of the train split (never the eval split); 0 = off."),
    online_augmentation: bool = typer.Option(
        TrainConfig.online_augmentation,
        help="Also augment randomly every epoch inside the Trainer."),
    seed: int = typer.Option(TrainConfig.seed),
    min_accuracy: float = typer.Option(EvalConfig.min_accuracy, min=0, max=1),
    model_name: str = typer.Option(PipelineConfig.model_name),
    no_cache: bool = typer.Option(False, help="Re-run every component."),
    auto_promote: bool = typer.Option(
        False, help="Promote the pushed canary to stable when its "
                    "evaluation is at least the stable version's."),
    edge_export: bool = typer.Option(
        False, help="Also export TensorFlow Lite float32/float16/int8 models, "
                    "each published only within 1 point of the SavedModel's "
                    "eval accuracy."),
    new_metadata: bool = typer.Option(
        False, help="Start a new ML Metadata store although earlier runs "
                    "exist (their cache and blessed baseline are lost)."),
) -> None:
    """Run the whole pipeline locally (LocalDagRunner, SQLite ML Metadata)."""
    from imgpipe import auto_settings
    from imgpipe.runners.local import preflight
    from imgpipe.cli.report import print_summary

    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe_components.settings_codec import SettingsError

    if data is None:
        from imgpipe.digits import write_digits
        data = write_digits(output / "data" / "digits")
    try:
        counts = preflight.check_data_root(data)
    except preflight.DataPathError as error:
        _fail(str(error), 2)
    auto, budget_s = _chosen_settings(data, counts, train_budget, {
        "image_size": image_size, "channels": channels, "copies": copies,
        "architecture": architecture, "epochs": epochs,
        "batch_size": batch_size})
    try:
        # The chooser's settings (explicit options among them) go in
        # through `auto_settings.apply`, as on Kubeflow.
        config = auto_settings.apply(PipelineConfig(
            model_name=model_name,
            augment=AugmentConfig(rebalance_to=rebalance_to),
            train=TrainConfig(seed=seed,
                              online_augmentation=online_augmentation,
                              time_budget_s=budget_s,
                              early_stopping_patience=early_stopping),
            evaluation=EvalConfig(min_accuracy=min_accuracy,
                                  **({"num_classes": len(counts)} if counts
                                     else {})),
            edge=EdgeConfig(enabled=edge_export),
            push=PushConfig(auto_promote=auto_promote),
            enable_cache=not no_cache), auto)
    except SettingsError as error:
        _fail(str(error), 2)
    layout = LocalLayout(data, output)
    console.print(f"Data: {data} ({sum(counts.values())} images, "
                  f"{len(counts)} classes)" if counts else f"Data: {data}")
    summary = _run_with_progress(config, layout, new_metadata)
    print_summary(console, layout.serving_dir(config.model_name), summary)


def _chosen_settings(data: Path, counts: dict, train_budget: Optional[str],
                     explicit: dict):
    """The chooser's settings (explicit options win), printed with their
    reasons; and the time budget in seconds (0 = none)."""
    from imgpipe_components.image_example_gen.image_records import \
        IMAGE_EXTENSIONS
    from imgpipe import auto_settings

    budget_s = 0.0
    if train_budget is not None:
        try:
            budget_epochs, budget_s = auto_settings.parse_budget(train_budget)
        except ValueError as error:
            _fail(str(error), 2)
        if budget_epochs and explicit["epochs"] not in (None, budget_epochs):
            _fail(f"--epochs {explicit['epochs']} and --train-budget "
                  f"{train_budget} disagree: give one of them.", 2)
        explicit["epochs"] = explicit["epochs"] or budget_epochs
    profile = (auto_settings.profile_folder(data, counts,
                                            tuple(IMAGE_EXTENSIONS))
               if counts else None)
    choice = auto_settings.choose(profile, auto_settings.detect_hardware(),
                                  explicit)
    console.print("Settings (from the data and this machine; any option "
                  "overrides):")
    for reason in choice.reasons:
        console.print(f"  {reason}", soft_wrap=True)
    if budget_s:
        console.print(f"  train budget = {budget_s:.0f} s: set on the "
                      "command line")
    return choice, budget_s


def _run_with_progress(config: PipelineConfig, layout, new_metadata: bool):
    from imgpipe.runners.local.runner import quiet_logs, run_pipeline
    from imgpipe.cli.report import describe_failure
    from imgpipe.runners.local.run_guard import RunGuardError

    log_file = layout.logs_dir / time.strftime("run-%Y%m%d-%H%M%S.log")
    quiet_logs(log_file)
    started, finished = {}, set()

    def on_progress(event: str, node: str) -> None:
        if event == "running":
            started[node] = time.perf_counter()
            status.update(f"[bold]{node}[/] running...")
        else:
            finished.add(node)
            console.print(f"  [green]done[/] {node:<32} "
                          f"{time.perf_counter() - started[node]:6.1f} s")

    console.print(f"Full log: {log_file}")
    with console.status("Starting the pipeline...") as status:
        try:
            return run_pipeline(config, layout, on_progress, new_metadata)
        except RunGuardError as error:
            _fail(str(error), 2)
        except Exception as error:  # noqa: BLE001 - shown without traceback
            failed = [node for node in started if node not in finished]
            component = failed[-1] if failed else None
            # The traceback goes to the log the message points at.
            logging.getLogger("imgpipe").exception(
                "The run failed in %s", component or "the pipeline")
            _fail(describe_failure(error, component, log_file))


@app.command()
def predict(
    images: List[Path] = typer.Argument(..., help="Image files to classify."),
    model_dir: Path = typer.Option(
        DEFAULT_OUTPUT / "serving" / PipelineConfig.model_name,
        help="A pushed model's folder (its stable version is used), one "
             "version's SavedModel folder, or a .tflite file from "
             "`imgpipe export-edge`."),
    top_k: int = typer.Option(3, min=1),
    server: Optional[str] = typer.Option(
        None, help="Ask a model server (`imgpipe serve` or TF Serving) "
                   "instead: http://127.0.0.1:8501, or a model path on it "
                   "such as .../v1/models/digits/labels/canary."),
) -> None:
    """Classify images with a pushed SavedModel; prints the top-k classes."""
    from imgpipe.predict import predict_files

    try:
        for path, ranked in predict_files(model_dir, images, top_k, server):
            shown = ", ".join(f"{name} {p:.3f}" for name, p in ranked)
            typer.echo(f"{path}: {shown}")
    except (FileNotFoundError, ValueError) as error:
        _fail(str(error), 2)


from imgpipe.cli import serving as cli_serving; cli_serving.register(app)  # noqa: E402,E702 - serve, promote, rollback, history
from imgpipe.cli import kubeflow as cli_kubeflow; cli_kubeflow.register(app)  # noqa: E402,E702 - kubeflow compile, submit, schedule
from imgpipe.cli import explain as cli_explain; cli_explain.register(app)  # noqa: E402,E702 - explain, export-edge
from imgpipe.cli import ui as cli_ui; cli_ui.register(app)  # noqa: E402,E702 - ui

def main() -> None:
    """The `imgpipe` console script: the Typer app, then an exit that skips
    the interpreter's teardown.

    Python's finalization of what TensorFlow, TFX and Beam leave in memory
    (module dictionaries, eager contexts, C++ objects) took 2.2 s after a
    pipeline run, longer than most of its components. By then everything is
    durable: ML Metadata commits each execution, files are closed by their
    `with` blocks. So once the other exit handlers have run (ours is
    registered before any library's, so it runs after theirs), the streams
    and log files are flushed and the process ends with the command's code.
    Tests call `app` in-process and keep the normal exit.
    """
    exit_code: List[int] = []

    def end_now() -> None:
        if exit_code:
            logging.shutdown()
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(exit_code[0])
    atexit.register(end_now)
    try:
        app()
    except SystemExit as done:
        exit_code.append(_exit_status(done.code))
        raise


def _exit_status(code) -> int:
    """sys.exit's argument as the status the interpreter would give it."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    main()
