"""Pushing a version to a `gs://` model base path without a half-visible state.

An object store has no folders and no atomic rename. TF Serving lists the
base path for numbered "folders" and loads one once its `saved_model.pb`
exists (before that a load attempt fails and is retried), so:

1. Claim a version number: create `<base>/.staging-<N>/assets.extra/
   source_model.txt` (the model's URI) with `if_generation_match=0`. Only
   one pusher can create it; a loser re-lists and takes N+1. TF Serving
   ignores `.staging-N` (not a number).
2. Upload the whole version (model, evaluation, warm-up requests, report)
   under that hidden prefix: the slow, failure-prone part, out of sight.
3. Copy server-side into `<N>/`: the source marker first (a copy cut short
   is then recognised as this model's and resumed), `saved_model.pb` last,
   so `<N>/` becomes loadable only once every other file is in place; the
   copy takes seconds, with no bytes through this machine.
4. Delete the staging prefix.

A re-push of the same model finds its marker: a complete version is left
alone, an incomplete one (a crash in 2 or 3) is finished in the same N.
"""
from __future__ import annotations

import os
import tempfile
from typing import Callable, List, Optional, Tuple

from imgpipe_components.model_store.versions import (SAVED_MODEL, SOURCE_FILE, STAGING,
                                          gcs_top_level, source_model)
from imgpipe_components.storage import gcs

def find_push(base: str, model_uri: str) -> Tuple[Optional[int], bool]:
    """(version holding or claimed for `model_uri`, whether it is complete)."""
    versions, staged = gcs_top_level(base)
    for version in sorted(versions):
        if source_model(gcs.join(base, str(version))) == model_uri:
            return version, versions[version]
    for number in sorted(staged):
        if source_model(gcs.join(base, staged[number])) == model_uri:
            return number, False
    return None, False


def claim_version(base: str, model_uri: str, attempts: int = 20) -> int:
    """The next free number, reserved for this model (see step 1)."""
    for _ in range(attempts):
        versions, staged = gcs_top_level(base)
        number = max([*versions, *staged, 0]) + 1
        try:
            gcs.write(gcs.join(base, f"{STAGING}{number}", SOURCE_FILE),
                      (model_uri + "\n").encode(), if_generation_match=0)
            return number
        except gcs.PreconditionFailed:
            continue            # another pusher took `number`: look again
    raise RuntimeError(f"Could not claim a version number under {base} in "
                       f"{attempts} tries: too many concurrent pushes.")


def publish(staging_uri: str, version_uri: str, names: List[str]) -> None:
    """Step 3: marker first, saved_model.pb last."""
    order = sorted(names, key=lambda n: (n != SOURCE_FILE, n == SAVED_MODEL, n))
    if SAVED_MODEL not in order:
        raise ValueError(f"{staging_uri} holds no {SAVED_MODEL}: not a "
                         "SavedModel, not published.")
    for name in order:
        gcs.copy(gcs.join(staging_uri, name), gcs.join(version_uri, name))


def push(model_path: str, base: str, model_uri: str,
         build: Callable[[str, str], None]) -> Tuple[int, bool]:
    """Pushes the model to `base` as a new version unless already there.

    `build(model_path, folder)` writes the complete version into a local
    folder (SavedModel, marker, extras). Returns (version, pushed now)."""
    version, complete = find_push(base, model_uri)
    if complete:
        return version, False
    if version is None:
        version = claim_version(base, model_uri)
    staging = gcs.join(base, f"{STAGING}{version}")
    with tempfile.TemporaryDirectory(prefix="push-") as local:
        folder = os.path.join(local, str(version))
        build(model_path, folder)
        names = gcs.upload_tree(folder, staging)
    publish(staging, gcs.join(base, str(version)), names)
    gcs.delete_tree(staging)
    return version, True
