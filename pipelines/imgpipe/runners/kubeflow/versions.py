"""The oldest KFP backend that runs a compiled package as written.

A backend older than a feature the package emits either refuses the run
(an unknown platform field fails the driver's strict parse) or, worse,
ignores it (a GPU step without its toleration never schedules; a pod
without its security context is refused by a `restricted` namespace; a
step without retries dies with its first spot node).

How the driver reads the platform document (kubeflow/pipelines,
backend/src/v2/cmd/driver/main.go): up to 2.4.0 with
`jsonpb.UnmarshalString`, which refuses a field its proto does not have;
from 2.4.1 with `util.UnmarshalString`, `AllowUnknownFields: true`
(backend/src/common/util/json.go, #11662), which drops it silently. The
fields each release knows are those of kubernetes_platform/proto/
kubernetes_executor_config.proto at its tag: `securityContext` (field 18)
first appears at 2.16.0. The default package therefore writes only fields
KFP 2.2.0's proto has (tests/kubeflow/test_strict_platform.py parses it
against that proto's field list), and the volume in the `constant` form
every driver reads. `submit` and
`schedule` read the backend's version from `GET /apis/v2beta1/healthz`
(`tag_name`) and compare it with what the package emits (`used_features`).
docs/kubeflow.md ("Backend versions") gives the same table, with sources,
and which Kubeflow release ships which backend;
tests/kubeflow/test_versions.py keeps the two in step.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Tuple

from imgpipe.runners.kubeflow import spec_layout

Version = Tuple[int, int, int]

# (what the package uses, oldest backend, why)
BASELINE = ((2, 0, 0), "the v2beta1 API and pipeline spec schema 2.1")
# Emitted features, by their name in the package: a field of the platform
# document's KubernetesExecutorConfig, or of a pipeline-spec task.
BY_FIELD: Dict[str, Tuple[Version, str]] = {
    "nodeSelector": ((2, 0, 0), "a node selector (platform document)"),
    "pvcMount": ((2, 0, 0), "a volume mount by claim name (platform "
                            "document, `constant`)"),
    "tolerations": ((2, 1, 0), "tolerations (platform document)"),
    "activeDeadlineSeconds": ((2, 1, 0), "a time limit per step (platform "
                                         "document)"),
    "retryPolicy": ((2, 4, 1), "retries with back-off (retryPolicy; older "
                               "backends run one attempt)"),
    "securityContext": ((2, 16, 0), "a pod security context for a "
                                    "`restricted` namespace (opt-in: "
                                    "security_context)"),
}
# Ignored by an older backend with the run otherwise intact: warned about,
# not refused.
DEGRADES = frozenset({"retryPolicy"})
# Kubeflow releases and the KFP backend each ships (kubeflow/manifests,
# README.md "Kubeflow Pipelines" row at each release tag).
KUBEFLOW_RELEASES: Tuple[Tuple[str, Version], ...] = (
    ("1.8.0", (2, 0, 3)), ("1.8.1", (2, 0, 5)), ("1.9.0", (2, 2, 0)),
    ("1.9.1", (2, 3, 0)), ("1.10.0", (2, 4, 1)), ("1.10.1", (2, 5, 0)),
    ("1.10.2", (2, 5, 0)), ("1.11.0", (2, 15, 0)))


class BackendTooOld(ValueError):
    """The KFP backend is older than the package needs."""


def parse(tag: str) -> Optional[Version]:
    """'2.5.0', 'v2.16.1-rc.1' -> (2, 5, 0), (2, 16, 1); None if no version
    (e.g. 'unknown', which a backend built from source reports)."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", (tag or "").strip())
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def show(version: Version) -> str:
    return ".".join(map(str, version))


def used_features(spec: dict, platform: dict) -> List[str]:
    """The features a compiled package emits: the platform document's
    KubernetesExecutorConfig fields, and `retryPolicy` on a task."""
    executors = platform.get("platforms", {}).get("kubernetes", {}).get(
        "deploymentSpec", {}).get("executors", {})
    fields = {field for config in executors.values() for field in config}
    tasks = spec_layout.executor_tasks(spec)
    if any("retryPolicy" in task for task in tasks.values()):
        fields.add("retryPolicy")
    return sorted(fields)


def requirements(features: Iterable[str]) -> List[Tuple[Version, str]]:
    """What the package needs to run as intended, each with its oldest
    backend, newest first: an older backend refuses it, or drops what
    makes it run (tolerations, the security context). Features an older
    backend only ignores (`DEGRADES`) are not among them."""
    needs = [BASELINE]
    needs += [BY_FIELD[field] for field in features
              if field in BY_FIELD and field not in DEGRADES]
    return sorted(needs, reverse=True)


def degraded(features: Iterable[str]) -> List[Tuple[Version, str]]:
    """Features an older backend ignores while the run still works."""
    return sorted((BY_FIELD[field] for field in features
                   if field in DEGRADES), reverse=True)


def missing_on(version: Version, features: Iterable[str]) -> List[str]:
    """What a backend of `version` refuses or drops of the package."""
    return [why for needed, why in requirements(features) if version < needed]


def ignored_on(version: Version, features: Iterable[str]) -> List[str]:
    """What a backend of `version` ignores of the package."""
    return [why for needed, why in degraded(features) if version < needed]


def check(tag: str, features: Iterable[str], host: str) -> Optional[str]:
    """None when the backend honours everything; a warning when its version
    is unknown or it ignores a feature that only degrades the run. Raises
    BackendTooOld, naming what needs the newer backend."""
    needs = requirements(features)
    oldest = needs[0][0]
    version = parse(tag)
    if version is None:
        return (f"KFP at {host} does not report its version (tag_name "
                f"{tag!r}); this package needs KFP >= {show(oldest)} for "
                f"{needs[0][1]}. Check the backend before relying on it.")
    missing = missing_on(version, features)
    if missing:
        raise BackendTooOld(
            f"KFP at {host} is version {show(version)}; this package needs "
            f"KFP >= {show(oldest)} for: {'; '.join(missing)}. Upgrade the "
            "Kubeflow Pipelines backend, or pass --allow-old-backend to "
            "submit anyway (those settings are then refused or ignored).")
    ignored = ignored_on(version, features)
    if ignored:
        return (f"KFP at {host} is version {show(version)}, which ignores "
                f"{'; '.join(ignored)}; the run goes on without.")
    return None
