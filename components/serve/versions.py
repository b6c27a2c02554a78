"""Which version folders exist, and which of them the policy wants served.

Pure file-system and proto logic (no TensorFlow), shared by the server's
poller and its tests. Mirrors TF Serving's file-system source: a version is
a folder named by a number under the model's base path; anything else
(`.staging-3`, `models.config`) is not a version.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Dict, Iterable, Set


def version_folders(base_path: str) -> Dict[int, Path]:
    """Numbered folders under the base path (none if it does not exist)."""
    try:
        entries = list(os.scandir(base_path))
    except FileNotFoundError:
        return {}
    return {int(entry.name): Path(entry.path) for entry in entries
            if entry.name.isdigit() and entry.is_dir()}


def folder_fingerprint(folder: Path) -> str:
    """Changes whenever a file in the folder is added, removed or rewritten:
    a refused version is retried once its folder changes (e.g. a slow copy
    finished), and not on every poll."""
    digest = hashlib.sha1()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            digest.update(f"{os.path.relpath(path, folder)}|{stat.st_size}|"
                          f"{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


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
