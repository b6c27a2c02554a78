"""The numbered versions under a model's base path, on local disk or gs://.

The one place that knows the layout TF Serving's file-system source reads:
a version is a folder named by a number under the base path; anything else
(`.staging-3`, `models.config`) is not a version, and a version is
loadable once its `saved_model.pb` is there (the Pusher writes it last).
Each version records the model artifact it was pushed from, so a re-push of
the same model is recognised. No TensorFlow here: promotion, serving and
the command line start fast.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from imgpipe_components.storage import gcs

SAVED_MODEL = "saved_model.pb"
SOURCE_FILE = "assets.extra/source_model.txt"
STAGING = ".staging-"


def version_folders(base_path: str) -> Dict[int, Path]:
    """Numbered folders under a local base path (none if it does not
    exist)."""
    try:
        entries = list(os.scandir(base_path))
    except FileNotFoundError:
        return {}
    return {int(entry.name): Path(entry.path) for entry in entries
            if entry.name.isdigit() and entry.is_dir()}


def staged_folders(base_path: str) -> Dict[int, Path]:
    """`.staging-N` folders under a local base path: numbers claimed by a
    push in progress (or cut short)."""
    try:
        entries = list(os.scandir(base_path))
    except FileNotFoundError:
        return {}
    return {int(entry.name[len(STAGING):]): Path(entry.path)
            for entry in entries if entry.name.startswith(STAGING)
            and entry.name[len(STAGING):].isdigit() and entry.is_dir()}


def claim_local_version(base_path: str, model_uri: str,
                        attempts: int = 100) -> int:
    """A version number under a local base path, reserved for `model_uri`.

    The claim is the exclusive creation (`os.mkdir`) of `.staging-N`, with
    N one above every version and claim there; the file system lets one
    creator win, and a loser (EEXIST) looks again. This holds across pods
    sharing one ReadWriteMany claim, where listing and adding one would
    not. A claim cut short by a crash is resumed by a re-push of the same
    model (its source marker is written first), and skipped otherwise.
    """
    for number, folder in sorted(staged_folders(base_path).items()):
        if source_model(str(folder)) == model_uri:
            return number
    os.makedirs(base_path, exist_ok=True)
    for _ in range(attempts):
        number = max(_numbers_in_use(base_path), default=0) + 1
        staging = Path(base_path, f"{STAGING}{number}")
        try:
            os.mkdir(staging)
        except FileExistsError:
            continue                 # another push claimed `number` first
        if os.path.lexists(Path(base_path, str(number))):
            # Published (renamed from its staging folder) while this
            # listing ran: the number is taken after all.
            os.rmdir(staging)
            continue
        marker = staging / SOURCE_FILE
        marker.parent.mkdir(parents=True)
        marker.write_text(model_uri + "\n")
        return number
    raise RuntimeError(f"Could not claim a version number under {base_path} "
                       f"in {attempts} tries: too many concurrent pushes.")


def _numbers_in_use(base_path: str) -> List[int]:
    """Every number a version or a claim holds, whatever the entry is: a
    stray file or a dangling link named `3` or `.staging-3` is skipped, not
    overwritten (and does not stall the claim, as a folders-only listing
    would: its mkdir would fail on every try)."""
    numbers = []
    for name in os.listdir(base_path):
        digits = name[len(STAGING):] if name.startswith(STAGING) else name
        if digits.isdigit():
            numbers.append(int(digits))
    return numbers


def gcs_top_level(base: str) -> Tuple[Dict[int, bool], Dict[int, str]]:
    """({version: has saved_model.pb}, {staging number: its prefix}) in a
    gs:// base path, from one listing."""
    versions: Dict[int, bool] = {}
    staged: Dict[int, str] = {}
    for name in gcs.list_names(base):
        head, _, rest = name.partition("/")
        if head.isdigit():
            versions[int(head)] = versions.get(int(head), False) or \
                rest == SAVED_MODEL
        elif head.startswith(STAGING) and head[len(STAGING):].isdigit():
            staged[int(head[len(STAGING):])] = head
    return versions, staged


def list_versions(base: str, complete_only: bool = False) -> List[int]:
    """Version numbers under `base`, ascending; with `complete_only`, only
    those holding a saved_model.pb (what a model server can load)."""
    base = str(base)
    if gcs.is_gcs(base):
        versions = gcs_top_level(base)[0]
        return sorted(v for v, complete in versions.items()
                      if complete or not complete_only)
    return sorted(v for v, folder in version_folders(base).items()
                  if not complete_only or (folder / SAVED_MODEL).exists())


def version_uri(base: str, version: int) -> str:
    return f"{str(base).rstrip('/')}/{version}"


def same_location(first: str, second: str) -> bool:
    """Whether two artifact URIs name one place: local paths compared with
    symbolic links resolved (one output folder may be reached through a
    link by one run and by its real path by the next), others as written."""
    if "://" in first or "://" in second:
        return first.rstrip("/") == second.rstrip("/")
    return os.path.realpath(first) == os.path.realpath(second)


def source_model(version_dir: str) -> Optional[str]:
    """The model artifact URI a version was pushed from, if recorded."""
    marker = f"{str(version_dir).rstrip('/')}/{SOURCE_FILE}"
    if gcs.is_gcs(marker):
        data, _ = gcs.read(marker)
        return data.decode().strip() if data is not None else None
    try:
        return Path(marker).read_text().strip()
    except OSError:
        return None


def version_holding(base: str, model_uri: str) -> Optional[int]:
    """The complete version already serving the model at `model_uri`."""
    for version in list_versions(base, complete_only=True):
        source = source_model(version_uri(base, version))
        if source is not None and same_location(source, model_uri):
            return version
    return None


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
