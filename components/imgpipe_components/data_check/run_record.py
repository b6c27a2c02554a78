"""Where a Kubeflow run keeps its notes and the completed-run record.

Every place is derived from an output URI the KFP launcher gave the step,
`<pipeline root>/<pipeline name>/<run id>/<task>/...` (kubeflow/pipelines
backend/src/v2/driver/driver.go provisionOutputs, metadata/client.go
GenerateOutputURI), so `imgpipe kubeflow submit --pipeline-root` moves them
with the run:

- the run's notes, one JSON file per step (`entrypoint` writes them as a step
  ends, DataCheck its decision): `<run root>/imgpipe-run/<task>.json`;
  the exit handler reads them, since KFP gives it no artifact of the run
  and an empty error in the final status;
- the completed-run record, keyed by namespace and pipeline:
  `<pipeline root>/.last_completed_run/<namespace>/<pipeline>.json`,
  written only if nobody changed it since it was read (a generation
  precondition: GCS's `ifGenerationMatch`; locally a lock file and an
  identity check before an atomic rename).

Plain Python over the storage module: no TFX, so the exit handler and the
tests import it cheaply.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Dict, Optional, Tuple

from imgpipe_components.storage import gcs

RECORD_FOLDER = ".last_completed_run"
NOTES_FOLDER = "imgpipe-run"
NAMESPACE_ENV = "IMGPIPE_NAMESPACE"
# Every pod sees its namespace here (Kubernetes' service account mount).
NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
DEFAULT_NAMESPACE = "default"
# A lock older than this is left by a killed writer: it is broken.
STALE_LOCK_S = 60.0


class RecordConflict(Exception):
    """Another run changed the record since this one read it."""


@dataclasses.dataclass(frozen=True)
class RunPlace:
    pipeline_root: str
    pipeline: str
    run_id: str

    @property
    def run_root(self) -> str:
        return f"{self.pipeline_root}/{self.pipeline}/{self.run_id}"

    def note_uri(self, task: str) -> str:
        return f"{self.run_root}/{NOTES_FOLDER}/{task}.json"

    def record_uri(self, namespace: str) -> str:
        return (f"{self.pipeline_root}/{RECORD_FOLDER}/{namespace}/"
                f"{self.pipeline}.json")


def run_place(output_uri: str, task: str) -> RunPlace:
    """The run an output URI of `task` belongs to."""
    marker = f"/{task}/"
    if marker not in output_uri:
        raise ValueError(
            f"{output_uri}: not an output of step {task} laid out by KFP "
            "(<pipeline root>/<pipeline>/<run id>/<task>/...)")
    run_root = output_uri[:output_uri.rindex(marker)]
    rest, run_id = run_root.rsplit("/", 1)
    pipeline_root, pipeline = rest.rsplit("/", 1)
    return RunPlace(pipeline_root, pipeline, run_id)


def namespace() -> str:
    if os.environ.get(NAMESPACE_ENV):
        return os.environ[NAMESPACE_ENV]
    try:
        with open(NAMESPACE_FILE) as handle:
            return handle.read().strip() or DEFAULT_NAMESPACE
    except OSError:
        return DEFAULT_NAMESPACE


def _local_generation(path: str) -> int:
    """Changes whenever the file is replaced (a new inode) or rewritten."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return 0
    return int(f"{stat.st_ino}{stat.st_mtime_ns}")


def read_json(uri: str) -> Tuple[Optional[dict], int]:
    """(content, generation); (None, 0) when absent. A torn or foreign file
    reads as None with its generation, so it can still be replaced."""
    if gcs.is_gcs(uri):
        data, generation = gcs.read(uri)
    else:
        generation = _local_generation(uri)
        try:
            with open(uri, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None, 0
    try:
        content = json.loads(data) if data else None
    except ValueError:
        content = None
    return (content if isinstance(content, dict) else None), generation


def write_json(uri: str, content: dict) -> None:
    """Unconditionally (a run's own notes have one writer)."""
    data = json.dumps(content, indent=2, sort_keys=True).encode()
    if gcs.is_gcs(uri):
        gcs.write(uri, data, content_type="application/json")
        return
    os.makedirs(os.path.dirname(uri), exist_ok=True)
    _replace_local(uri, data)


def _replace_local(path: str, data: bytes) -> None:
    """A temporary file renamed over `path`: a reader sees the old or the
    new file, never a torn one."""
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def write_if_unchanged(uri: str, content: dict, generation: int) -> None:
    """Writes `content` only if the object is still at `generation` (0: only
    if absent); otherwise raises RecordConflict and changes nothing."""
    data = json.dumps(content, indent=2, sort_keys=True).encode()
    if gcs.is_gcs(uri):
        try:
            gcs.write(uri, data, if_generation_match=generation,
                      content_type="application/json")
        except gcs.PreconditionFailed as error:
            raise RecordConflict(str(error)) from error
        return
    os.makedirs(os.path.dirname(uri), exist_ok=True)
    lock = f"{uri}.lock"
    _take_lock(lock, uri)
    try:
        if _local_generation(uri) != generation:
            raise RecordConflict(f"{uri} changed since it was read: another "
                                 "run wrote it first")
        _replace_local(uri, data)
    finally:
        os.remove(lock)


def _take_lock(lock: str, uri: str) -> None:
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return
    except FileExistsError:
        pass
    try:
        stale = time.time() - os.stat(lock).st_mtime > STALE_LOCK_S
    except FileNotFoundError:
        stale = True
    if not stale:
        raise RecordConflict(f"{uri} is being written by another run")
    try:
        os.remove(lock)
    except FileNotFoundError:
        pass
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError as error:
        raise RecordConflict(
            f"{uri} is being written by another run") from error


def read_notes(place: RunPlace) -> Dict[str, dict]:
    """Task -> its note, for every step of the run that wrote one."""
    folder = f"{place.run_root}/{NOTES_FOLDER}"
    if gcs.is_gcs(folder):
        uris = [gcs.join(folder, name) for name in gcs.list_names(folder)
                if name.endswith(".json") and "/" not in name]
    elif os.path.isdir(folder):
        uris = [os.path.join(folder, n) for n in sorted(os.listdir(folder))
                if n.endswith(".json")]
    else:
        uris = []
    notes = {}
    for uri in uris:
        content, _ = read_json(uri)
        if content is not None:
            notes[os.path.basename(uri)[:-len(".json")]] = content
    return notes
