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

from imgpipe.cli.console import console, fail
from imgpipe.cli.options import (Architecture, Channels, Ensemble, Epochs,
                                 ImageSize, MaxAccuracyDrop, MinAccuracy,
                                 ModelName, SettingsFile, SpanPattern)
from imgpipe.cli.kubeflow_errors import PORT_FORWARD_HINT
from imgpipe.runners.kubeflow.settings import KubeflowConfig

kubeflow_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None,   # as the main app
    help="Run the pipeline on Kubeflow Pipelines 2.x.\n\nCompile it, "
         "submit a run, or schedule recurring runs.")

DEFAULT_PACKAGE = Path("build/imgpipe-kubeflow.yaml")


@kubeflow_app.command("compile")
def compile_command(
    output: Path = typer.Option(DEFAULT_PACKAGE, help="The .yaml to write."),
    config: SettingsFile = None,
    image: Optional[str] = typer.Option(
        None, show_default=KubeflowConfig.image, help="Image of every step."),
    trainer_image: Optional[str] = typer.Option(
        None, help="Image of the Trainer and Tuner only (the GPU build); "
                   "the other steps keep --image."),
    security_context: Optional[bool] = typer.Option(
        None, "--security-context/--no-security-context",
        help="Write each pod's security context (non-root user) for a "
             "`restricted` namespace; needs KFP >= 2.16.0.", show_default=False),
    pipeline_root: Optional[str] = typer.Option(
        None, show_default=KubeflowConfig.pipeline_root,
        help="Where the steps write their artifacts."),
    data_root: Optional[str] = typer.Option(
        None, help="Default of the data_root run parameter."),
    model_store: Optional[str] = typer.Option(
        None, help="TF Serving's model base path (gs://... or, with "
                   "--model-store-pvc, where that claim is mounted)."),
    model_store_pvc: Optional[str] = typer.Option(
        None, help="PersistentVolumeClaim holding the model store (the dev "
                   "overlay's imgpipe-models), mounted into the steps that "
                   "read or write it."),
    webhook: Optional[str] = typer.Option(
        None, help="URL the end of every run is POSTed to as JSON "
                   "(docs/kubeflow.md, \"How a run ends\")."),
    model_name: ModelName = None,
    image_size: ImageSize = None,
    channels: Channels = None,
    architecture: Architecture = None,
    ensemble: Ensemble = None,
    epochs: Epochs = None,
    min_accuracy: MinAccuracy = None,
    max_accuracy_drop: MaxAccuracyDrop = None,
    span_pattern: SpanPattern = None,
    gpus: Optional[int] = typer.Option(
        None, min=0, help="GPUs for the Trainer; 0 trains on CPU."),
    node_selector: List[str] = typer.Option(
        [], metavar="LABEL=VALUE", help="Node label of the GPU step's nodes "
                                        "(repeat; replaces the default)."),
    toleration: List[str] = typer.Option(
        [], metavar="KEY[=VALUE][:EFFECT]",
        help="Taint the GPU step tolerates (repeat; replaces the default)."),
    resources: List[str] = typer.Option(
        [], metavar="STEP:FIELD=N,...",
        help="A step's requests and limits (repeat), FIELD one of "
             "cpu_request, cpu_limit, memory_request_gb, memory_limit_gb."),
    beam_preset: Optional[str] = typer.Option(
        None, help="direct, dataflow, flink or spark (default: in-pod "
                   "DirectRunner with Beam's defaults)."),
    beam_setting: List[str] = typer.Option(
        [], metavar="KEY=VALUE", help="A setting of the Beam preset, such as "
                                      "project=p or region=r (repeat)."),
    auto_settings: bool = typer.Option(
        True, help="Choose the training settings not given from a sample of "
                   "data_root and the Trainer step's GPUs and CPUs, as "
                   "`imgpipe run` does."),
) -> None:
    """Compile the pipeline to a KFP 2.x pipeline spec (.yaml).

    A setting not given as an option takes the --config file's value, else
    the chooser's (--auto-settings), else the built-in default. The data
    root and the epochs are run parameters: `submit` and `schedule` can
    override them per run.
    """
    from imgpipe.cli.kubeflow_options import CompileOptions, build
    from imgpipe_components.settings_codec import SettingsError

    options = CompileOptions(
        config=config,
        kubeflow=dict(image=image, trainer_image=trainer_image,
                      security_context=security_context,
                      pipeline_root=pipeline_root,
                      data_root=data_root, model_store=model_store,
                      model_store_pvc=model_store_pvc, gpu_count=gpus,
                      webhook=webhook),
        pipeline=dict(model_name=model_name),
        ingest=dict(span_pattern=span_pattern),
        transform=dict(image_size=image_size, channels=channels),
        train=dict(epochs=epochs, architecture=architecture,
                   ensemble=ensemble),
        evaluation=dict(min_accuracy=min_accuracy,
                        max_accuracy_drop=max_accuracy_drop),
        node_selector=node_selector, tolerations=toleration,
        resources=resources, beam_preset=beam_preset,
        beam_settings=beam_setting)
    try:
        pipeline_config, kubeflow = build(options)
    except (SettingsError, OSError) as error:
        fail(str(error), 2)
    if auto_settings:
        pipeline_config = _choose_defaults(pipeline_config, kubeflow, options)
    _compile(pipeline_config, kubeflow, output)


def _choose_defaults(pipeline_config, kubeflow, options):
    from imgpipe.runners.kubeflow import config_file
    from imgpipe.runners.kubeflow.auto_settings import choose_defaults
    from imgpipe_components.settings_codec import SettingsError

    given = config_file.given_settings(options.config) if options.config \
        else {}
    given.update({name: value for section in (options.transform,
                                              options.train)
                  for name, value in section.items() if value is not None})
    try:   # the settings validate themselves as the choice is applied
        with console.status(f"Sampling {kubeflow.data_root} for the "
                            "training defaults..."):
            chosen, lines = choose_defaults(pipeline_config, kubeflow, given)
    except SettingsError as error:
        fail(str(error), 2)
    console.print("Settings (from the data and the Trainer step's "
                  "hardware; any option overrides):")
    for line in lines:
        console.print(f"  {line}", soft_wrap=True)
    return chosen


def _compile(pipeline_config, kubeflow, output: Path) -> None:
    from absl import logging as absl_logging

    from imgpipe.runners.kubeflow.runner import (KubeflowCompileError,
                                                 compile_pipeline)
    from imgpipe_components.settings_codec import SettingsError
    # TFX's deprecation notes about our own components are not for users.
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with console.status("Compiling (imports TFX and TensorFlow)..."):
            written = compile_pipeline(pipeline_config, kubeflow, output)
    except (KubeflowCompileError, SettingsError, OSError) as error:
        fail(str(error), 2)
    typer.echo(f"Wrote {written}")


def _connection_options(host, token, cookies, namespace):
    from imgpipe.runners.kubeflow.client import Connection
    if not host:
        fail("No KFP endpoint: pass --host or set KF_PIPELINES_ENDPOINT ("
              f"{PORT_FORWARD_HINT}).", 2)
    return Connection(host=host, token=token, cookies=cookies,
                      namespace=namespace)


def _load_package(package: Path):
    from imgpipe.runners.kubeflow.client import PipelinePackage
    try:
        return PipelinePackage.load(package)
    except FileNotFoundError:
        fail(f"Pipeline package {package} does not exist. Compile it first: "
              f"imgpipe kubeflow compile --output {package}", 2)
    except ValueError as error:  # also YAML errors
        fail(str(error), 2)


def _talk_to_kfp(action, host: str):
    import logging

    import kfp_server_api
    import urllib3

    from imgpipe.cli.kubeflow_errors import explain

    # urllib3 logs each retry of a refused connection; the one message
    # below says it better.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    try:
        return action()
    except (urllib3.exceptions.HTTPError, kfp_server_api.ApiException,
            ValueError, TimeoutError) as error:
        fail(explain(error, host))


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


ALLOW_OLD = typer.Option(
    False, "--allow-old-backend",
    help="Submit even when the KFP backend is older than the package needs "
         "(the settings it does not know are then refused or ignored).")


def _prepare(package: Path, host, token, cookies, namespace, experiment,
             data_root, epochs, pipeline_root, service_account):
    """Package, connection, client and run target; the backend version is
    checked before anything is uploaded."""
    from imgpipe.runners.kubeflow import client as kfp_client

    spec = _load_package(package)
    connection = _connection_options(host, token, cookies, namespace)
    parameters = _talk_to_kfp(
        lambda: kfp_client.run_parameters(spec, data_root, epochs), host)
    target = kfp_client.Target(experiment, parameters, pipeline_root,
                               service_account)
    client = _talk_to_kfp(lambda: kfp_client.connect(connection), host)
    return spec, connection, client, target


def _check_backend(client, spec, host: str, allow_old: bool) -> None:
    from imgpipe.runners.kubeflow import client as kfp_client

    warning = _talk_to_kfp(lambda: kfp_client.check_backend(
        client, spec, host, allow_old), host)
    if warning:
        console.print(f"[yellow]Warning:[/] {warning}")


@kubeflow_app.command()
def submit(package: Path = PACKAGE, host: Optional[str] = HOST,
           token: Optional[str] = TOKEN, cookies: Optional[str] = COOKIES,
           namespace: Optional[str] = NAMESPACE, experiment: str = EXPERIMENT,
           run_name: Optional[str] = typer.Option(
               None, help="Default: the pipeline's name and the time."),
           data_root: Optional[str] = DATA_ROOT,
           epochs: Optional[int] = EPOCHS,
           pipeline_root: Optional[str] = PIPELINE_ROOT,
           service_account: str = SERVICE_ACCOUNT,
           allow_old_backend: bool = ALLOW_OLD) -> None:
    """Start one run of a compiled pipeline."""
    from imgpipe.runners.kubeflow import client as kfp_client

    spec, connection, client, target = _prepare(
        package, host, token, cookies, namespace, experiment, data_root,
        epochs, pipeline_root, service_account)
    _check_backend(client, spec, host, allow_old_backend)
    name = run_name or f"{spec.name} {datetime.datetime.now():%Y-%m-%d %H:%M:%S}"
    run_id = _talk_to_kfp(lambda: kfp_client.submit_run(
        client, spec, connection, target, name), host)
    typer.echo(f"Run {run_id} started: {host.rstrip('/')}/#/runs/details/{run_id}")


@kubeflow_app.command()
def schedule(cron: str = typer.Option(
                 ..., help="Six fields, seconds first: '0 0 3 * * 1' = "
                           "Mondays 03:00 (the KFP scheduler's time zone)."),
             package: Path = PACKAGE, host: Optional[str] = HOST,
             token: Optional[str] = TOKEN, cookies: Optional[str] = COOKIES,
             namespace: Optional[str] = NAMESPACE,
             experiment: str = EXPERIMENT,
             name: str = typer.Option("imgpipe-retraining",
                                      help="Name of the recurring run."),
             data_root: Optional[str] = DATA_ROOT,
             epochs: Optional[int] = EPOCHS,
             pipeline_root: Optional[str] = PIPELINE_ROOT,
             service_account: str = SERVICE_ACCOUNT,
             replace: bool = typer.Option(
                 False, help="Replace a different recurring run of the same "
                             "name (KFP has no update: the new one is "
                             "created, then the old one deleted)."),
             allow_old_backend: bool = ALLOW_OLD) -> None:
    """Create a recurring run of a compiled pipeline.

    One run at a time, no catch-up of missed runs. Running it again with
    every setting the same (spec, cron, parameters, experiment, pipeline
    root, service account) changes nothing.
    """
    from imgpipe.runners.kubeflow import schedule as kfp_schedule

    try:
        kfp_schedule.check_cron(cron)
    except ValueError as error:
        fail(str(error), 2)
    spec, connection, client, target = _prepare(
        package, host, token, cookies, namespace, experiment, data_root,
        epochs, pipeline_root, service_account)
    _check_backend(client, spec, host, allow_old_backend)
    done = _talk_to_kfp(lambda: kfp_schedule.schedule_run(
        client, spec, connection, target, name, cron, replace), host)
    typer.echo(f"Recurring run {done.recurring_run_id} {done.action} ({cron}): "
               f"{host.rstrip('/')}/#/recurringrun/details/"
               f"{done.recurring_run_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(kubeflow_app, name="kubeflow")
