"""The oldest KFP backend that runs a compiled package as written.

A backend older than a field of the platform document either refuses the
run or, worse, ignores the field (a GPU step without its toleration never
schedules; a pod without its security context is refused by a `restricted`
namespace). `submit` and `schedule` read the backend's version from
`GET /apis/v2beta1/healthz` (`tag_name`) and compare. Sources for each
minimum are in docs/kubeflow.md ("Backend versions").
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Tuple

Version = Tuple[int, int, int]

# (what the package uses, oldest backend, why)
BASELINE = ((2, 0, 0), "the v2beta1 API and pipeline spec schema 2.1")
NON_ROOT_IMAGE = ((2, 3, 0), "steps in an image running as a non-root user")
BY_FIELD = {
    "nodeSelector": ((2, 0, 0), "a node selector (platform document)"),
    "pvcMount": ((2, 0, 0), "a volume mount (platform document)"),
    "tolerations": ((2, 1, 0), "tolerations (platform document)"),
    "securityContext": ((2, 16, 0), "a pod security context for a "
                                    "`restricted` namespace"),
}


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


def requirements(platform_fields: Iterable[str]) -> List[Tuple[Version, str]]:
    """Each feature the package uses with its oldest backend."""
    needs = [BASELINE, NON_ROOT_IMAGE]
    needs += [BY_FIELD[field] for field in platform_fields
              if field in BY_FIELD]
    return sorted(needs, reverse=True)


def check(tag: str, platform_fields: Iterable[str], host: str
          ) -> Optional[str]:
    """None when the backend is new enough; a warning when its version is
    unknown. Raises BackendTooOld, naming what needs the newer backend."""
    needs = requirements(platform_fields)
    oldest = needs[0][0]
    version = parse(tag)
    if version is None:
        return (f"KFP at {host} does not report its version (tag_name "
                f"{tag!r}); this package needs KFP >= {show(oldest)} for "
                f"{needs[0][1]}. Check the backend before relying on it.")
    missing = [why for needed, why in needs if version < needed]
    if missing:
        raise BackendTooOld(
            f"KFP at {host} is version {show(version)}; this package needs "
            f"KFP >= {show(oldest)} for: {'; '.join(missing)}. Upgrade the "
            "Kubeflow Pipelines backend, or pass --allow-old-backend to "
            "submit anyway (those settings are then refused or ignored).")
    return None
