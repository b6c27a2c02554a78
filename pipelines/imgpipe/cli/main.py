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

from imgpipe.cli import explain, kubeflow, run_target, serving, ui
from imgpipe.cli.console import console, fail
from imgpipe.cli.options import (DEFAULT_OUTPUT, Architecture, Channels,
                                 Ensemble, Epochs, ImageSize, MaxAccuracyDrop,
                                 MinAccuracy, RunModelName, RunOutput,
                                 SettingsFile, SpanPattern)
from imgpipe.config import (AugmentConfig, EdgeConfig, EvalConfig,
                            PushConfig, TrainConfig)

# Click's own help layout (rich_markup_mode=None): it rewraps each
# paragraph to the terminal and gives option help a wide column, where
# Rich's table squeezes help into a narrow one and cuts defaults short.
app = typer.Typer(add_completion=False, no_args_is_help=True,
                  rich_markup_mode=None,
                  help="Image-classification pipeline: ingest, validate, "
                       "augment, transform, train, evaluate, push.")


@app.command()
def run(
    context: typer.Context,
    data: Optional[Path] = typer.Option(
        None, help="Folder of class sub-folders. Default: scikit-learn's "
                   "digits, written once under OUTPUT/data/digits."),
    output: Path = typer.Option(
        DEFAULT_OUTPUT, help="Folder of the pipeline root, the ML Metadata "
                             "store and the served models."),
    config: SettingsFile = None,
    model_name: RunModelName = None,
    image_size: ImageSize = None,
    channels: Channels = None,
    architecture: Architecture = None,
    ensemble: Ensemble = None,
    epochs: Epochs = None,
    batch_size: Optional[int] = typer.Option(
        None, min=1, help="Default: chosen from the hardware."),
    train_budget: Optional[str] = typer.Option(
        None, help="Epochs ('20e') or wall time ('10m', '90s', '1h'); a time "
                   "budget stops training at the first batch past it."),
    early_stopping: int = typer.Option(
        TrainConfig.early_stopping_patience, min=0,
        help="Stop after N epochs without gain on a 10% holdout of the "
             "train split (never the eval split); 0 = off."),
    pretrain_epochs: int = typer.Option(
        TrainConfig.pretrain_epochs, min=0,
        help="First pretrain the model for N epochs on rotation prediction "
             "over the images in DATA/unlabelled/; 0 = off "
             "(docs/pretraining.md)."),
    copies: Optional[int] = typer.Option(
        None, min=0, help="Augmented copies per train image. Default: "
                          "chosen from the data-set size and the hardware."),
    rebalance_to: float = typer.Option(
        AugmentConfig.rebalance_to, min=0, max=1,
        help="Oversample classes up to this fraction of the largest."),
    online_augmentation: bool = typer.Option(
        TrainConfig.online_augmentation,
        help="Also augment randomly every epoch inside the Trainer."),
    seed: int = typer.Option(TrainConfig.seed, help="Random seed of the "
                             "augmentation and the training."),
    min_accuracy: MinAccuracy = EvalConfig.min_accuracy,
    max_accuracy_drop: MaxAccuracyDrop = EvalConfig.max_accuracy_drop,
    span_pattern: SpanPattern = None,
    no_cache: bool = typer.Option(False, "--no-cache",
                                  help="Re-run every component."),
    auto_promote: bool = typer.Option(
        PushConfig.auto_promote,
        help="Promote the pushed canary to stable when its evaluation is at "
             "least the stable version's."),
    edge_export: bool = typer.Option(
        EdgeConfig.enabled,
        help="Also export TensorFlow Lite float32, float16 and int8 "
             "models, each published only within 1 point of the "
             "SavedModel's eval accuracy."),
    new_metadata: bool = typer.Option(
        False, help="Start a new ML Metadata store although earlier runs "
                    "exist: their cache is lost, and the next model is "
                    "judged by the absolute thresholds only."),
) -> None:
    """Run the whole pipeline locally.

    TFX's LocalDagRunner with a SQLite ML Metadata store under --output.
    An option given wins over the --config file, the file over the
    settings chosen from the data and this machine (printed with their
    reasons), and those over the built-in defaults.
    """
    import dataclasses

    from imgpipe import auto_settings
    from imgpipe.cli import run_settings
    from imgpipe.cli.report import print_summary
    from imgpipe.runners.local import preflight
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe_components.settings_codec import SettingsError

    given = run_settings.given_options(context)
    base, parsed = run_settings.base_config(config, locals(), given)
    try:
        if data is None:
            from imgpipe.digits import write_digits
            preflight.check_output_root(output)
            data = write_digits(output / "data" / "digits")
        counts = preflight.check_data_root(data, base.ingest)
        unlabelled = (preflight.check_unlabelled(data, base.ingest)
                      if base.train.pretrain_epochs
                      else preflight.unlabelled_images(data, base.ingest))
    except (preflight.DataPathError, preflight.OutputPathError) as error:
        fail(str(error), 2)
    auto, budget_s = run_settings.chosen(data, counts, base, parsed,
                                         train_budget, {
        "image_size": image_size, "channels": channels, "copies": copies,
        "architecture": architecture, "epochs": epochs,
        "batch_size": batch_size})
    try:
        # The chooser's settings (explicit options among them) go in
        # through `auto_settings.apply`, as on Kubeflow.
        pipeline_config = auto_settings.apply(dataclasses.replace(
            base, model_name=run_settings.model_name(model_name, parsed, data),
            train=dataclasses.replace(base.train, time_budget_s=budget_s or
                                      base.train.time_budget_s),
            evaluation=dataclasses.replace(base.evaluation, **(
                {"num_classes": len(counts)} if counts else {}))), auto)
        preflight.check_output_root(output)
    except (SettingsError, preflight.OutputPathError) as error:
        fail(str(error), 2)
    layout = LocalLayout(data, output)
    console.print(f"Data: {data} ({sum(counts.values())} images, "
                  f"{len(counts)} classes)" if counts else f"Data: {data}")
    if unlabelled:
        console.print(
            f"Unlabelled: {unlabelled} images in unlabelled/, "
            + (f"pretraining for {base.train.pretrain_epochs} epochs"
               if base.train.pretrain_epochs else "not used: pretraining is "
               "off (--pretrain-epochs N uses them; docs/pretraining.md)"))
    console.print(f"Model: {pipeline_config.model_name}")
    summary = _run_with_progress(pipeline_config, layout, new_metadata)
    print_summary(console, summary, run_target.output_option(output))


def _run_with_progress(config, layout, new_metadata: bool):
    from imgpipe.runners.local.runner import quiet_logs, run_pipeline
    from imgpipe.cli import disk_errors
    from imgpipe.cli.report import describe_failure
    from imgpipe.runners.local.run_guard import RunGuardError, RunInterrupted

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
            fail(str(error), 2)
        except KeyboardInterrupt as stop:
            console.print(stop.message if isinstance(stop, RunInterrupted)
                          else "Interrupted; nothing was pushed; the next "
                               "run resumes from the cached steps.")
            raise typer.Exit(130)
        except Exception as error:  # noqa: BLE001 - shown without traceback
            failed = [node for node in started if node not in finished]
            component = failed[-1] if failed else None
            # The traceback goes to the log the message points at.
            logging.getLogger("imgpipe").exception(
                "The run failed in %s", component or "the pipeline")
            disk = disk_errors.describe(error, layout.output_root,
                                        component, log_file)
            if disk:
                fail(disk, 2)
            fail(describe_failure(error, component, log_file))


@app.command()
def predict(
    images: List[Path] = typer.Argument(..., metavar="IMAGE",
                                        help="Image files to classify."),
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: Optional[Path] = typer.Option(
        None, show_default="OUT/serving/MODEL",
        help="A pushed model's folder (its stable version is used), one "
             "version's SavedModel folder, or a .tflite file from "
             "`imgpipe export-edge`."),
    top_k: int = typer.Option(3, min=1, help="Classes shown per image."),
    server: Optional[str] = typer.Option(
        None, help="Ask a model server (`imgpipe serve` or TF Serving) "
                   "instead: http://127.0.0.1:8501, or a model path on it "
                   "such as .../v1/models/NAME/labels/canary."),
    model_name: Optional[str] = typer.Option(
        None, show_default="the run's model",
        help="With --server: the name the model is served under."),
) -> None:
    """Classify images and print the top-k classes.

    With a pushed SavedModel, a TensorFlow Lite file or a model server.
    """
    from imgpipe.predict import predict_files

    if server is None:
        model_dir = run_target.pushed_model_dir(model_dir, output)
    elif not (model_dir or model_name or "/v1/models/" in server):
        model_name = run_target.record(output).model_name
    try:
        for path, ranked in predict_files(model_dir, images, top_k, server,
                                          model_name):
            shown = ", ".join(f"{name} {p:.3f}" for name, p in ranked)
            typer.echo(f"{path}: {shown}")
    except (FileNotFoundError, ValueError) as error:
        fail(str(error), 2)


serving.register(app)     # serve, promote, rollback, history
explain.register(app)     # explain, export-edge
kubeflow.register(app)    # kubeflow compile, submit, schedule
ui.register(app)          # ui


def main() -> None:
    """The `imgpipe` console script: the Typer app, then an exit that skips
    the interpreter's teardown.

    Python's finalization of what TensorFlow, TFX and Beam leave in memory
    (module dictionaries, eager contexts, C++ objects) takes longer after a
    pipeline run than most of its components. By then everything is
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
