"""Talks to a Kubeflow Pipelines 2.x API server with the kfp SDK's Client.

A compiled spec is uploaded once per content: its pipeline version is named
after a hash of the file, so submitting or scheduling the same spec twice
reuses the version, and every run in the UI links to the exact spec it ran.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Dict, Optional, Tuple

import yaml

from imgpipe.runners.kubeflow.runner import DATA_ROOT_PARAMETER, TRAIN_CONFIG_PARAMETER


@dataclasses.dataclass(frozen=True)
class Connection:
    host: Optional[str] = None        # e.g. http://localhost:8080
    token: Optional[str] = None       # sent as "Authorization: Bearer ..."
    cookies: Optional[str] = None     # e.g. "authservice_session=..."
    namespace: Optional[str] = None   # multi-user Kubeflow profile


@dataclasses.dataclass(frozen=True)
class PipelinePackage:
    """A compiled pipeline spec (the `.yaml` from `kubeflow compile`)."""
    path: Path
    name: str
    digest: str
    defaults: Dict[str, object]
    pipeline_root: Optional[str]

    @classmethod
    def load(cls, path: Path) -> "PipelinePackage":
        data = path.read_bytes()
        spec = next(yaml.safe_load_all(data))
        if not isinstance(spec, dict) or "pipelineInfo" not in spec:
            raise ValueError(f"{path} is not a compiled pipeline spec "
                             "(no pipelineInfo); compile it with "
                             "`imgpipe kubeflow compile`.")
        parameters = spec.get("root", {}).get("inputDefinitions", {}).get(
            "parameters", {})
        return cls(path=path, name=spec["pipelineInfo"]["name"],
                   digest=hashlib.sha256(data).hexdigest()[:12],
                   defaults={name: p.get("defaultValue")
                             for name, p in parameters.items()},
                   pipeline_root=spec.get("defaultPipelineRoot"))

    @property
    def version_name(self) -> str:
        return f"{self.name}-{self.digest}"


def run_parameters(package: PipelinePackage, data_root: Optional[str] = None,
                   epochs: Optional[int] = None) -> Dict[str, object]:
    """Only what the caller overrides; KFP fills in the spec's defaults."""
    parameters: Dict[str, object] = {}
    if data_root is not None:
        parameters[DATA_ROOT_PARAMETER] = data_root
    if epochs is not None:
        if TRAIN_CONFIG_PARAMETER not in package.defaults:
            raise ValueError(f"{package.path} has no '{TRAIN_CONFIG_PARAMETER}'"
                             " parameter to set the epochs in; recompile it.")
        train = json.loads(package.defaults[TRAIN_CONFIG_PARAMETER])
        train["epochs"] = epochs
        parameters[TRAIN_CONFIG_PARAMETER] = json.dumps(train, sort_keys=True)
    return parameters


def check_cron(cron: str) -> str:
    """KFP's scheduler reads six fields, seconds first (robfig/cron)."""
    fields = cron.split()
    if len(fields) != 6:
        hint = (f" Did you mean '0 {cron}'?" if len(fields) == 5 else "")
        raise ValueError(
            f"Cron expression '{cron}' has {len(fields)} fields; KFP needs six "
            "(seconds minutes hours day-of-month month day-of-week), e.g. "
            f"'0 0 3 * * 1' for Mondays at 03:00.{hint}")
    return " ".join(fields)


@contextlib.contextmanager
def _quiet_stdout():
    """The kfp Client prints links itself; the CLI prints its own summary."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def connect(connection: Connection):
    import warnings

    import kfp

    with warnings.catch_warnings(), _quiet_stdout():
        warnings.simplefilter("ignore")  # "only works with KFP >= 2.0.0-b2"
        return kfp.Client(host=connection.host, existing_token=connection.token,
                          cookies=connection.cookies,
                          namespace=connection.namespace or "kubeflow")


def ensure_pipeline_version(client, package: PipelinePackage,
                            namespace: Optional[str]) -> Tuple[str, str]:
    """(pipeline id, version id) of this spec, uploading what is missing.

    A new pipeline's first version is named like the pipeline by KFP; runs
    always use the content-named version, so each run names its exact spec.
    """
    with _quiet_stdout():
        pipeline_id = client.get_pipeline_id(package.name)
        if pipeline_id is None:
            pipeline_id = client.upload_pipeline(
                str(package.path), pipeline_name=package.name,
                namespace=namespace).pipeline_id
        version = _version_named(client, pipeline_id, package.version_name)
        if version is None:
            version = client.upload_pipeline_version(
                str(package.path), package.version_name,
                pipeline_id=pipeline_id).pipeline_version_id
        return pipeline_id, version


def _version_named(client, pipeline_id: str, name: str) -> Optional[str]:
    name_filter = json.dumps({"predicates": [{
        "operation": "EQUALS", "key": "display_name", "stringValue": name}]})
    found = client.list_pipeline_versions(
        pipeline_id, filter=name_filter).pipeline_versions or []
    return found[0].pipeline_version_id if found else None


def _experiment_id(client, name: str, namespace: Optional[str]) -> str:
    with _quiet_stdout():
        return client.create_experiment(name=name,
                                        namespace=namespace).experiment_id


def submit_run(client, package: PipelinePackage, connection: Connection,
               experiment: str, run_name: str, parameters: Dict[str, object],
               pipeline_root: Optional[str], service_account: Optional[str]
               ) -> str:
    pipeline_id, version_id = ensure_pipeline_version(
        client, package, connection.namespace)
    with _quiet_stdout():
        run = client.run_pipeline(
            experiment_id=_experiment_id(client, experiment,
                                         connection.namespace),
            job_name=run_name, pipeline_id=pipeline_id, version_id=version_id,
            params=parameters,
            pipeline_root=pipeline_root or package.pipeline_root,
            service_account=service_account)
    return run.run_id


def schedule_run(client, package: PipelinePackage, connection: Connection,
                 experiment: str, name: str, cron: str,
                 parameters: Dict[str, object], pipeline_root: Optional[str],
                 service_account: Optional[str]) -> str:
    """A recurring run: one at a time, and no backfill of missed slots
    (a retraining run uses the newest data anyway)."""
    pipeline_id, version_id = ensure_pipeline_version(
        client, package, connection.namespace)
    with _quiet_stdout():
        recurring = client.create_recurring_run(
            experiment_id=_experiment_id(client, experiment,
                                         connection.namespace),
            job_name=name, cron_expression=check_cron(cron),
            max_concurrency=1, no_catchup=True, enabled=True,
            pipeline_id=pipeline_id, version_id=version_id,
            params=parameters,
            pipeline_root=pipeline_root or package.pipeline_root,
            service_account=service_account)
    return recurring.recurring_run_id
