"""Talks to a Kubeflow Pipelines 2.x API server with the kfp SDK's Client.

A compiled spec is uploaded once per content: its pipeline version is named
after a hash of the file, so submitting or scheduling the same spec twice
reuses the version, and every run in the UI links to the exact spec it ran.
Lookups carry the namespace (multi-user KFP lists one namespace at a time),
and the backend's release is checked against what the package uses
(versions.py) before anything is uploaded. Recurring runs: schedule.py.
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

from imgpipe.runners.kubeflow import versions
from imgpipe.runners.kubeflow.runner import (DATA_ROOT_PARAMETER,
                                             TRAIN_CONFIG_PARAMETER)
from imgpipe_components import library_internals


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
    features: Tuple[str, ...]   # emitted: for the backend version check

    @classmethod
    def load(cls, path: Path) -> "PipelinePackage":
        data = path.read_bytes()
        documents = list(yaml.safe_load_all(data))
        spec = documents[0] if documents else None
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
                   pipeline_root=spec.get("defaultPipelineRoot"),
                   features=tuple(versions.used_features(
                       spec, documents[1] if len(documents) > 1 else {})))

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


@contextlib.contextmanager
def quiet_stdout():
    """The kfp Client prints links itself; the CLI prints its own summary."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def service_account_token_file() -> Optional[str]:
    """The projected service-account token KFP reads in a pod (audience
    `pipelines.kubeflow.org`, rotated by the kubelet): the file named by
    `KF_PIPELINES_SA_TOKEN_PATH`, else kfp's default path, if present."""
    import os

    from kfp import client as kfp_client
    path = os.environ.get(kfp_client.KF_PIPELINES_SA_TOKEN_ENV) or \
        kfp_client.KF_PIPELINES_SA_TOKEN_PATH
    return path if os.path.isfile(path) else None


def connect(connection: Connection):
    """A kfp Client. Without a token or cookies, a pod's service-account
    token file is sent (re-read on every request): kfp itself only does
    that when no host is given, and `submit` always names one."""
    import warnings

    import kfp
    from kfp.client.set_volume_credentials import \
        ServiceAccountTokenVolumeCredentials

    credentials = None
    token_file = None if connection.token or connection.cookies else \
        service_account_token_file()
    if token_file:
        credentials = ServiceAccountTokenVolumeCredentials(token_file)
    with warnings.catch_warnings(), quiet_stdout():
        warnings.simplefilter("ignore")  # "only works with KFP >= 2.0.0-b2"
        return kfp.Client(host=connection.host, existing_token=connection.token,
                          cookies=connection.cookies, credentials=credentials,
                          namespace=connection.namespace or "kubeflow")


def check_backend(client, package: PipelinePackage, host: str,
                  allow_old: bool) -> Optional[str]:
    """Refuses a backend older than the package needs (BackendTooOld);
    returns a warning to show when it cannot tell, or when allowed."""
    # The raw healthz body: kfp's own call drops `tag_name`, the release.
    with quiet_stdout():
        tag = str(library_internals.kfp_healthz(client).get("tag_name", ""))
    try:
        return versions.check(tag, package.features, host)
    except versions.BackendTooOld as error:
        if not allow_old:
            raise
        return f"{error} Going on (--allow-old-backend)."


def name_filter(name: str) -> str:
    return json.dumps({"predicates": [{
        "operation": "EQUALS", "key": "display_name", "stringValue": name}]})


def _pipeline_named(client, name: str, namespace: Optional[str]
                    ) -> Optional[str]:
    """The pipeline's id in this namespace. kfp's get_pipeline_id lists
    without a namespace, which in multi-user mode sees only shared
    pipelines: the team's own pipeline is missed and uploaded again, which
    KFP refuses as a duplicate name."""
    found = client.list_pipelines(filter=name_filter(name),
                                  namespace=namespace).pipelines or []
    found = [p for p in found if p.display_name == name]
    if len(found) > 1:
        raise ValueError(
            f"{len(found)} pipelines are named '{name}' in namespace "
            f"{namespace or '(shared)'}; delete the extra ones in the KFP UI "
            "(Pipelines) so the name is unique.")
    return found[0].pipeline_id if found else None


def ensure_pipeline_version(client, package: PipelinePackage,
                            namespace: Optional[str]) -> Tuple[str, str]:
    """(pipeline id, version id) of this spec, uploading what is missing.

    A new pipeline's first version is named like the pipeline by KFP; runs
    always use the content-named version, so each run names its exact spec.
    """
    with quiet_stdout():
        pipeline_id = _pipeline_named(client, package.name, namespace)
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
    found = client.list_pipeline_versions(
        pipeline_id, filter=name_filter(name)).pipeline_versions or []
    found = [v for v in found if v.display_name == name]
    return found[0].pipeline_version_id if found else None


def experiment_id_for(client, name: str, namespace: Optional[str]) -> str:
    """kfp's create_experiment returns the existing experiment of that name
    in the namespace, if any."""
    with quiet_stdout():
        return client.create_experiment(name=name,
                                        namespace=namespace).experiment_id


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a run goes and what it runs with."""
    experiment: str
    parameters: Dict[str, object]
    pipeline_root: Optional[str]
    service_account: Optional[str]


def submit_run(client, package: PipelinePackage, connection: Connection,
               target: Target, run_name: str) -> str:
    pipeline_id, version_id = ensure_pipeline_version(
        client, package, connection.namespace)
    with quiet_stdout():
        run = client.run_pipeline(
            experiment_id=experiment_id_for(client, target.experiment,
                                         connection.namespace),
            job_name=run_name, pipeline_id=pipeline_id, version_id=version_id,
            params=target.parameters,
            pipeline_root=target.pipeline_root or package.pipeline_root,
            service_account=target.service_account)
    return run.run_id
