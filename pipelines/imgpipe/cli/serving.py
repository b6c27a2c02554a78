"""`imgpipe serve | promote | rollback | history`: serving and promotion.

`register(app)` adds the commands to the main CLI. Nothing heavy is
imported here: the server imports FastAPI and TensorFlow when it starts,
and promotion needs neither.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from imgpipe.cli import run_target
from imgpipe.cli.console import console, fail
from imgpipe.cli.options import DEFAULT_OUTPUT, RunOutput


MODEL_DIR = typer.Option(None, "--model-dir", show_default="OUT/serving/MODEL",
                         help="The model's base path: numbered versions "
                              "inside, models.config beside it.")
# Promotion also takes gs://bucket/... (a str: pathlib would fold "gs://").
STORE_DIR = typer.Option(None, "--model-dir", show_default="OUT/serving/MODEL",
                         help="The model's base path, local or gs://: "
                              "numbered versions inside, models.config and "
                              "the promotion history beside it.")
SERVER = typer.Option(None, "--server",
                      help="A model server (http://127.0.0.1:8501) that must "
                           "report the version AVAILABLE first.")
MODEL_NAME = typer.Option(None, "--model-name",
                          help="Default: the model dir's folder name.")


def serve(
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: Optional[Path] = MODEL_DIR,
    model_name: Optional[str] = MODEL_NAME,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8501, min=0, max=65535,
                             help="TF Serving's REST port by default."),
    allow_remote: bool = typer.Option(
        False, help="Required to listen on a non-loopback address: the API "
                    "has no authentication."),
    model_config: Optional[Path] = typer.Option(
        None, help="A TF Serving models.config. Default: models.config "
                   "beside the model dir, if present."),
    poll_seconds: float = typer.Option(1.0, min=0.05, help="How often to "
                                       "look for new versions and labels."),
    max_body_mb: float = typer.Option(16.0, min=0.001, help="Larger request "
                                      "bodies get 413."),
    max_in_flight: int = typer.Option(64, min=1, help="Predictions at once "
                                      "(counted once their body arrived); "
                                      "more get 503."),
    max_pixels: int = typer.Option(
        None, min=1, show_default="4096*4096, as ingestion",
        help="Largest decoded image (width x height), checked from the "
             "image header before decoding; larger get 413."),
    body_timeout_s: float = typer.Option(
        30.0, min=0.1, help="A request body must arrive within this; a "
                            "stalled upload gets 408."),
    access_log: bool = typer.Option(False, help="Log every request."),
    intra_op_threads: int = typer.Option(
        1, min=0, help="Threads per TensorFlow op (0: TF's choice). 1 suits "
                       "many small requests; raise it for big batches."),
    inter_op_threads: int = typer.Option(1, min=0, help="TensorFlow ops run "
                                         "at once (0: TF's choice)."),
) -> None:
    """Serve pushed models over TF Serving's REST API.

    Runs until SIGTERM or Ctrl-C, and picks up new versions and label
    changes as they appear.
    """
    from imgpipe.serving.bind import RemoteBindRefused, check_bind_address
    try:
        check_bind_address(host, allow_remote)   # before importing anything
    except RemoteBindRefused as error:
        fail(str(error), 2)
    # A config given by name is served as written: the model dir is only
    # its fallback, and need not exist yet.
    model_dir = Path(run_target.pushed_model_dir(model_dir, output)
                     if model_config is None
                     else run_target.model_dir(model_dir, output))
    from imgpipe_components.limits import MAX_PIXELS
    from imgpipe.serving.app import AppSettings
    from imgpipe.serving.server import ServerSettings
    from imgpipe.serving.server import serve as run_server

    settings = ServerSettings(
        model_dir=model_dir, model_name=model_name, model_config=model_config,
        host=host, port=port, allow_remote=allow_remote, access_log=access_log,
        intra_op_threads=intra_op_threads, inter_op_threads=inter_op_threads,
        app=AppSettings(poll_seconds=poll_seconds,
                        max_body_bytes=int(max_body_mb * 1024 * 1024),
                        max_predictions_in_flight=max_in_flight,
                        max_pixels=max_pixels or MAX_PIXELS,
                        body_timeout_s=body_timeout_s))
    console.print(f"Serving {settings.name} from {model_dir} "
                  f"(config: {settings.config_path}) on http://{host}:{port}")
    run_server(settings)


def promote(
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: Optional[str] = STORE_DIR,
    model_name: Optional[str] = MODEL_NAME,
    force: bool = typer.Option(False, help="Promote even if the policy "
                               "refuses; needs --reason."),
    reason: Optional[str] = typer.Option(None, help="Recorded in the "
                                         "history."),
    server: Optional[str] = SERVER,
) -> None:
    """Move `stable` to the canary version.

    Only when the canary's accuracy is at least stable's (or with --force),
    and once the version loads and answers its warm-up requests (and, with
    --server, is AVAILABLE there).
    """
    from imgpipe_components.model_store import promote as promote_canary
    _move_label(promote_canary, run_target.pushed_model_dir(model_dir, output),
                model_name, force, reason, server=server)


def rollback(
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: Optional[str] = STORE_DIR,
    model_name: Optional[str] = MODEL_NAME,
    reason: Optional[str] = typer.Option(None, help="Recorded in the "
                                         "history."),
    server: Optional[str] = SERVER,
    settle_s: int = typer.Option(
        0, "--settle-s", min=0,
        help="For a running TF Serving that polls models.config: load the "
             "version first, move the labels this many seconds later (at "
             "least its --model_config_file_poll_wait_seconds; it refuses a "
             "label on a version it has not loaded)."),
) -> None:
    """Return `stable` to the previous stable version.

    `canary` moves back with it, once that version loads (and, with
    --server, is AVAILABLE there).
    """
    from imgpipe_components.model_store import rollback as roll_back
    _move_label(roll_back, run_target.pushed_model_dir(model_dir, output),
                model_name, reason, server=server, settle_s=settle_s)


def _move_label(action, *args, **kwargs) -> None:
    """Runs a promotion action with the server's own servability check
    (the version loads and answers its warm-up requests); refusals are one
    line and exit 1."""
    from imgpipe_components.model_store import ConfigError, PromotionError
    from imgpipe.serving.servability import check_servable
    from imgpipe_components.storage.files import StorageError
    try:
        result = action(*args, check=check_servable, **kwargs)
    except (PromotionError, ConfigError, ValueError, StorageError) as error:
        fail(str(error))
    typer.echo(result.message)


def history(
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: Optional[str] = STORE_DIR,
    model_name: Optional[str] = MODEL_NAME,
    limit: int = typer.Option(20, min=1, help="Newest changes shown."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per "
                                 "line, as stored."),
) -> None:
    """Show every label change: when, who, what moved, why."""
    import dataclasses
    import json

    from imgpipe_components.storage.files import StorageError
    from imgpipe_components.model_store import ConfigError, show_history
    model_dir = run_target.pushed_model_dir(model_dir, output)
    try:
        changes = show_history(model_dir, model_name)[-limit:]
    except (ConfigError, ValueError, StorageError) as error:
        fail(str(error))
    if as_json:
        for change in changes:
            typer.echo(json.dumps(dataclasses.asdict(change)))
        return
    if not changes:
        typer.echo("No promotion history yet.")
        return
    table = Table("when (UTC)", "who", "action", "label", "from", "to", "why")
    for c in changes:
        table.add_row(c.time.replace("T", " ")[:19], c.user, c.action, c.label,
                      "-" if c.from_version is None else str(c.from_version),
                      str(c.to_version), c.reason)
    Console().print(table)


def register(app: typer.Typer) -> None:
    for command in (serve, promote, rollback, history):
        app.command()(command)
