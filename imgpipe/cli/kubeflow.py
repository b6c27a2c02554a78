"""`imgpipe kubeflow ...`: compile, submit and schedule on Kubeflow Pipelines.

    imgpipe kubeflow compile --output build/imgpipe.yaml --image REPO:TAG
    imgpipe kubeflow submit --package build/imgpipe.yaml --host URL
    imgpipe kubeflow schedule --package build/imgpipe.yaml --cron "0 0 3 * * 1"

TFX, TensorFlow and kfp are imported inside the commands, so
`imgpipe --help` stays fast.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from imgpipe.config import (EvalConfig, PipelineConfig, TrainConfig,
                            TransformConfig)
from imgpipe.runners.kubeflow.settings import KubeflowConfig

kubeflow_app = typer.Typer(
    no_args_is_help=True,
    help="Compile the pipeline for Kubeflow Pipelines 2.x, submit a run, or "
         "schedule recurring runs.")
console = Console(stderr=True)

DEFAULT_PACKAGE = Path("build/imgpipe-kubeflow.yaml")
PORT_FORWARD_HINT = ("kubectl port-forward -n kubeflow svc/ml-pipeline-ui "
                     "8080:80, then --host http://localhost:8080")


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def _settings(pairs: List[str]) -> dict:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--beam-setting '{pair}' is not key=value "
                  "(e.g. --beam-setting project=my-project).", 2)
        settings[key.strip()] = value.strip()
    return settings


def _beam_args(preset: Optional[str], settings: List[str], image: str):
    if preset is None:
        if settings:
            _fail("--beam-setting needs --beam-preset.", 2)
        return ()
    from imgpipe.runners.kubeflow import beam_presets

    try:
        args = beam_presets.preset_args(preset, image, _settings(settings))
    except ValueError as error:
        _fail(str(error), 2)
    problems = beam_presets.validate(args)
    if problems:
        _fail(f"Beam preset '{preset}' gives invalid options: "
              + "; ".join(problems) + ". Fix the --beam-setting values.", 2)
    return args


@kubeflow_app.command("compile")
def compile_command(
    output: Path = typer.Option(DEFAULT_PACKAGE, help="The .yaml to write."),
    image: str = typer.Option(KubeflowConfig.image,
                              help="Container image of every component."),
    pipeline_root: str = typer.Option(KubeflowConfig.pipeline_root),
    data_root: str = typer.Option(KubeflowConfig.data_root,
                                  help="Default of the data_root parameter."),
    model_store: str = typer.Option(KubeflowConfig.model_store,
                                    help="TF Serving's model base path."),
    model_name: str = typer.Option(PipelineConfig.model_name),
    image_size: int = typer.Option(TransformConfig.image_size, min=8),
    channels: int = typer.Option(TransformConfig.channels, min=1, max=3),
    architecture: str = typer.Option(TrainConfig.architecture),
    epochs: int = typer.Option(TrainConfig.epochs, min=1,
                               help="Default; `submit --epochs` overrides."),
    min_accuracy: float = typer.Option(EvalConfig.min_accuracy, min=0, max=1),
    gpus: int = typer.Option(KubeflowConfig.gpu_count, min=0,
                             help="GPUs for the Trainer; 0 trains on CPU."),
    beam_preset: Optional[str] = typer.Option(
        None, help="direct, dataflow, flink or spark (default: in-pod "
                   "DirectRunner with Beam's defaults)."),
    beam_setting: List[str] = typer.Option(
        [], help="key=value for the preset, e.g. project=p region=r "
                 "temp_location=gs://b/tmp (repeat the option)."),
) -> None:
    """Compile the pipeline to a KFP 2.x pipeline spec (.yaml)."""
    from imgpipe.runners.kubeflow.runner import (KubeflowCompileError,
                                                 compile_pipeline)
    from imgpipe.settings_codec import SettingsError

    try:
        kubeflow = KubeflowConfig(
            image=image, pipeline_root=pipeline_root, data_root=data_root,
            model_store=model_store, gpu_count=gpus,
            beam_pipeline_args=_beam_args(beam_preset, beam_setting, image))
        config = PipelineConfig(
            model_name=model_name,
            transform=TransformConfig(image_size=image_size,
                                      channels=channels),
            train=TrainConfig(epochs=epochs, architecture=architecture),
            evaluation=EvalConfig(min_accuracy=min_accuracy))
    except SettingsError as error:
        _fail(str(error), 2)
    from absl import logging as absl_logging
    # TFX's deprecation notes about our own components are not for users.
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with console.status("Compiling (imports TFX and TensorFlow)..."):
            written = compile_pipeline(config, kubeflow, output)
    except (KubeflowCompileError, OSError) as error:
        _fail(str(error), 2)
    typer.echo(f"Wrote {written}")


def _connection_options(host, token, cookies, namespace):
    from imgpipe.runners.kubeflow.client import Connection
    if not host:
        _fail("No KFP endpoint: pass --host or set KF_PIPELINES_ENDPOINT ("
              f"{PORT_FORWARD_HINT}).", 2)
    return Connection(host=host, token=token, cookies=cookies,
                      namespace=namespace)


def _load_package(package: Path):
    from imgpipe.runners.kubeflow.client import PipelinePackage
    try:
        return PipelinePackage.load(package)
    except FileNotFoundError:
        _fail(f"Pipeline package {package} does not exist. Compile it first: "
              f"imgpipe kubeflow compile --output {package}", 2)
    except ValueError as error:  # also YAML errors
        _fail(str(error), 2)


def _explain(error: Exception, host: str) -> str:
    """One paragraph for what went wrong talking to KFP."""
    import kfp_server_api
    import urllib3

    if isinstance(error, urllib3.exceptions.HTTPError):
        return (f"Cannot reach Kubeflow Pipelines at {host} "
                f"({type(error).__name__}). Check --host; from outside the "
                f"cluster: {PORT_FORWARD_HINT}.")
    if isinstance(error, kfp_server_api.ApiException):
        what = f"KFP at {host} answered HTTP {error.status} {error.reason}"
        if error.status in (401, 403):
            return (f"{what}: not authorised. Pass --token (a bearer token) "
                    "or --cookies (e.g. authservice_session=...), and "
                    "--namespace for a multi-user profile.")
        body = (error.body or "").strip().replace("\n", " ")[:300]
        return f"{what}: {body or 'no details'}."
    return str(error)


def _talk_to_kfp(action, host: str):
    import logging

    import kfp_server_api
    import urllib3

    # urllib3 logs each retry of a refused connection; the one message
    # below says it better.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    try:
        return action()
    except (urllib3.exceptions.HTTPError, kfp_server_api.ApiException,
            ValueError, TimeoutError) as error:
        _fail(_explain(error, host))


HOST = typer.Option(None, envvar="KF_PIPELINES_ENDPOINT",
                    help="KFP API endpoint, e.g. http://localhost:8080.")
TOKEN = typer.Option(None, envvar="KFP_TOKEN", help="Existing bearer token.")
COOKIES = typer.Option(None, help="Auth cookies, e.g. authservice_session=...")
NAMESPACE = typer.Option(None, help="Kubeflow profile namespace (multi-user).")
PACKAGE = typer.Option(DEFAULT_PACKAGE, help="Spec from `kubeflow compile`.")
EXPERIMENT = typer.Option("imgpipe", help="Experiment to file runs under.")
DATA_ROOT = typer.Option(None, help="Override the data_root parameter.")
EPOCHS = typer.Option(None, min=1, help="Override the training epochs.")
PIPELINE_ROOT = typer.Option(None, help="Override the spec's pipeline root.")
SERVICE_ACCOUNT = typer.Option(KubeflowConfig.service_account,
                               help="Kubernetes service account of the run.")


@kubeflow_app.command()
def submit(package: Path = PACKAGE, host: Optional[str] = HOST,
           token: Optional[str] = TOKEN, cookies: Optional[str] = COOKIES,
           namespace: Optional[str] = NAMESPACE, experiment: str = EXPERIMENT,
           run_name: Optional[str] = typer.Option(None),
           data_root: Optional[str] = DATA_ROOT,
           epochs: Optional[int] = EPOCHS,
           pipeline_root: Optional[str] = PIPELINE_ROOT,
           service_account: str = SERVICE_ACCOUNT) -> None:
    """Start one run of a compiled pipeline."""
    from imgpipe.runners.kubeflow import client as kfp_client

    spec = _load_package(package)
    connection = _connection_options(host, token, cookies, namespace)
    parameters = _talk_to_kfp(
        lambda: kfp_client.run_parameters(spec, data_root, epochs), host)
    name = run_name or f"{spec.name} {datetime.datetime.now():%Y-%m-%d %H:%M:%S}"
    run_id = _talk_to_kfp(lambda: kfp_client.submit_run(
        kfp_client.connect(connection), spec, connection, experiment, name,
        parameters, pipeline_root, service_account), host)
    typer.echo(f"Run {run_id} started: {host.rstrip('/')}/#/runs/details/{run_id}")


@kubeflow_app.command()
def schedule(cron: str = typer.Option(
                 ..., help="Six fields, seconds first: '0 0 3 * * 1' = "
                           "Mondays 03:00 (the KFP scheduler's time zone)."),
             package: Path = PACKAGE, host: Optional[str] = HOST,
             token: Optional[str] = TOKEN, cookies: Optional[str] = COOKIES,
             namespace: Optional[str] = NAMESPACE,
             experiment: str = EXPERIMENT,
             name: str = typer.Option("imgpipe-retraining"),
             data_root: Optional[str] = DATA_ROOT,
             epochs: Optional[int] = EPOCHS,
             pipeline_root: Optional[str] = PIPELINE_ROOT,
             service_account: str = SERVICE_ACCOUNT) -> None:
    """Create a recurring run: one at a time, no catch-up of missed runs."""
    from imgpipe.runners.kubeflow import client as kfp_client

    try:
        kfp_client.check_cron(cron)
    except ValueError as error:
        _fail(str(error), 2)
    spec = _load_package(package)
    connection = _connection_options(host, token, cookies, namespace)
    parameters = _talk_to_kfp(
        lambda: kfp_client.run_parameters(spec, data_root, epochs), host)
    recurring_id = _talk_to_kfp(lambda: kfp_client.schedule_run(
        kfp_client.connect(connection), spec, connection, experiment, name,
        cron, parameters, pipeline_root, service_account), host)
    typer.echo(f"Recurring run {recurring_id} created ({cron}): "
               f"{host.rstrip('/')}/#/recurringrun/details/{recurring_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(kubeflow_app, name="kubeflow")
