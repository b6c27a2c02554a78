"""Beam at scale: `beam_pipeline_args` presets for the Beam components.

ExampleGen, StatisticsGen, Augment, Transform and Evaluator run Beam jobs.
On Kubeflow each runs inside its pod with the DirectRunner unless these args
send the work elsewhere:

- `direct`: several worker processes inside the component's pod;
- `dataflow`: Google Cloud Dataflow, workers started from our image;
- `flink` / `spark`: a Flink or Spark cluster in Kubernetes through Beam's
  portable job server; workers are an SDK worker pool running our image as
  a sidecar of each task manager / executor (environment EXTERNAL).

Every preset names the image (`--sdk_container_image`). For DirectRunner and
EXTERNAL environments that flag is not used by Beam, but TFX reads it as
"the workers already have the code" and skips packaging its whole install
as an sdist before every Beam component (tfx.utils.dependency_utils).

`validate(args)` checks a list with Beam's own PipelineOptions and
PipelineOptionsValidator, so a typo fails at compile time, not in the
cluster an hour later.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple


def direct(image: str, workers: int = 0) -> List[str]:
    """In the pod; `workers=0` means one process per CPU the pod may use:
    the entrypoint replaces it with the pod's CPU limit (pod_cpus.py), as
    Beam would count the node's cores."""
    return ["--runner=DirectRunner", "--direct_running_mode=multi_processing",
            f"--direct_num_workers={workers}", f"--sdk_container_image={image}"]


def dataflow(image: str, project: str, region: str, temp_location: str,
             max_workers: int = 10, machine_type: str = "n1-standard-8",
             service_account: str = "") -> List[str]:
    args = ["--runner=DataflowRunner", f"--project={project}",
            f"--region={region}", f"--temp_location={temp_location}",
            f"--staging_location={temp_location.rstrip('/')}/staging",
            f"--sdk_container_image={image}",
            # Custom SDK containers need Runner v2.
            "--experiments=use_runner_v2",
            f"--max_num_workers={max_workers}",
            "--autoscaling_algorithm=THROUGHPUT_BASED",
            f"--machine_type={machine_type}"]
    if service_account:
        args.append(f"--service_account_email={service_account}")
    return args


def _portable(image: str, job_endpoint: str, parallelism: int) -> List[str]:
    return ["--runner=PortableRunner", f"--job_endpoint={job_endpoint}",
            "--environment_type=EXTERNAL",
            # The SDK worker pool sidecar (our image, started with
            # `python -m apache_beam.runners.worker.worker_pool_main
            # --service_port=50000`) listens here in every worker pod.
            "--environment_config=localhost:50000",
            f"--parallelism={parallelism}", f"--sdk_container_image={image}"]


def flink(image: str, job_endpoint: str = "flink-beam-jobserver:8099",
          parallelism: int = 8) -> List[str]:
    return _portable(image, job_endpoint, parallelism)


def spark(image: str, job_endpoint: str = "spark-beam-jobserver:8099",
          parallelism: int = 8) -> List[str]:
    return _portable(image, job_endpoint, parallelism)


PRESETS: Dict[str, Callable[..., List[str]]] = {
    "direct": direct, "dataflow": dataflow, "flink": flink, "spark": spark}


def preset_args(name: str, image: str, settings: Dict[str, str]
                ) -> Tuple[str, ...]:
    """The preset's args; `settings` are its keyword arguments as text
    (from `--beam-setting key=value` on the command line)."""
    import inspect

    if name not in PRESETS:
        raise ValueError(f"Unknown Beam preset {name!r}; choose one of "
                         f"{', '.join(sorted(PRESETS))}.")
    function = PRESETS[name]
    parameters = inspect.signature(function).parameters
    unknown = sorted(set(settings) - set(parameters) - {"image"})
    if unknown:
        raise ValueError(
            f"Beam preset {name!r} has no setting {', '.join(unknown)}; its "
            f"settings are {', '.join(p for p in parameters if p != 'image')}.")
    missing = [key for key, parameter in parameters.items()
               if key != "image" and key not in settings
               and parameter.default is inspect.Parameter.empty]
    if missing:
        raise ValueError(
            f"Beam preset {name!r} needs {', '.join(missing)} "
            f"(--beam-setting {missing[0]}=...).")
    typed = {key: int(value) if parameters[key].annotation == "int" else value
             for key, value in settings.items()}
    return tuple(function(image, **typed))


def _runner_for(name: str):
    from apache_beam.runners import create_runner
    return create_runner(name)


def validate(args: Sequence[str]) -> List[str]:
    """Problems Beam itself finds in `args` (empty when they are valid)."""
    from apache_beam.options.pipeline_options import (PipelineOptions,
                                                      StandardOptions)
    from apache_beam.options.pipeline_options_validator import \
        PipelineOptionsValidator

    known = PipelineOptions([]).get_all_options()
    errors = [f"unknown Beam option {flag.split('=', 1)[0]}"
              for flag in args
              if flag.startswith("--")
              and flag[2:].split("=", 1)[0] not in known]
    # dry_run keeps the validator off the network (it would look up GCS
    # bucket policies); it checks the values themselves all the same.
    options = PipelineOptions(list(args) + ["--dry_run=True"])
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    errors += PipelineOptionsValidator(options, _runner_for(runner)).validate()
    return errors
