"""Which versions a model version policy wants served (TF Serving semantics)."""
from __future__ import annotations

from typing import Iterable, Set


def aspired_versions(policy, on_disk: Iterable[int]) -> Set[int]:
    """The versions a `FileSystemStoragePathSourceConfig.ServableVersionPolicy`
    selects among those on disk; no policy means TF Serving's default,
    the latest one."""
    versions = sorted(on_disk)
    choice = policy.WhichOneof("policy_choice") if policy is not None else None
    if choice == "all":
        return set(versions)
    if choice == "specific":
        return set(policy.specific.versions) & set(versions)
    count = policy.latest.num_versions if choice == "latest" else 1
    return set(versions[-max(count, 1):])
