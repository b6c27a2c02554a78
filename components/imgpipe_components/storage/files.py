"""Listing and reading the input data on local disk or in `gs://` buckets.

Object stores go through the `google-cloud-storage` client rather than
`tf.io.gfile`: TensorFlow's GCS filesystem neither honours
`STORAGE_EMULATOR_HOST` (measured: it calls www.googleapis.com, so it cannot
be tested here) nor exposes its retry settings. Every request gets a timeout
and the client's own retry predicate (429, 5xx, dropped connections) with the
back-off from `IngestConfig`; a permanent error (no such bucket, no access)
or retries running out stop the run with a `StorageError` that names the URI.

A listing is taken once, as relative paths, so that format detection, span
resolution and the per-format planning are pure functions over strings.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
from typing import List, Optional, Tuple

from imgpipe_components import library_internals
from imgpipe_components.storage import StorageError
from imgpipe_components.storage.gcs import client, is_gcs, split_gcs_uri

__all__ = ["StorageError", "is_gcs", "split_gcs_uri", "Listing",
           "RetrySettings", "list_tree", "read_bytes", "stays_under"]


@dataclasses.dataclass(frozen=True)
class RetrySettings:
    timeout_s: float = 60.0
    initial_s: float = 1.0
    maximum_s: float = 30.0
    multiplier: float = 2.0
    deadline_s: float = 300.0

    @classmethod
    def from_ingest(cls, ingest) -> "RetrySettings":
        return cls(ingest.gcs_timeout_s, ingest.gcs_retry_initial_s,
                   ingest.gcs_retry_max_s, ingest.gcs_retry_multiplier,
                   ingest.gcs_retry_deadline_s)


@dataclasses.dataclass(frozen=True)
class Listing:
    """Everything under `root`, as '/'-separated paths relative to it."""
    root: str
    files: Tuple[str, ...]
    dirs: Tuple[str, ...]
    outside: Tuple[str, ...] = ()  # symlinks whose target leaves the root
    # In a bucket, (relative path, size, generation) of every file: what
    # changes when an object is rewritten, taken from the same listing.
    versions: Tuple[Tuple[str, int, int], ...] = ()

    def uri(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def under(self, folder: str) -> "Listing":
        """The part of this listing inside `folder`, re-rooted there."""
        prefix = folder.rstrip("/") + "/"

        def inside(paths):
            return tuple(p[len(prefix):] for p in paths if p.startswith(prefix))
        return Listing(self.uri(folder.rstrip("/")), inside(self.files),
                       inside(self.dirs), inside(self.outside),
                       tuple((path[len(prefix):], size, generation)
                             for path, size, generation in self.versions
                             if path.startswith(prefix)))

    def top_level(self) -> Tuple[List[str], List[str]]:
        """(folders, files) directly under the root."""
        folders = sorted({p.split("/", 1)[0] for p in self.dirs})
        return folders, sorted(p for p in self.files if "/" not in p)


def list_tree(root: str, settings: RetrySettings = RetrySettings()) -> Listing:
    root = str(root).rstrip("/")
    if is_gcs(root):
        return _list_gcs(root, settings)
    if "://" in root:
        raise StorageError(f"{root}: only local paths and gs:// URIs can be "
                           "ingested.")
    if not os.path.isdir(root):
        raise StorageError(f"The data path {root} does not exist or is not "
                           "a folder.")
    return _list_local(root)


def read_bytes(uri: str, settings: RetrySettings = RetrySettings(),
               limit: Optional[int] = None) -> bytes:
    """The object's bytes; with `limit`, at most its first `limit` bytes
    (a ranged download), enough for an image header."""
    if not is_gcs(uri):
        with open(uri, "rb") as handle:
            return handle.read(-1 if limit is None else limit)
    bucket, name = split_gcs_uri(uri)
    blob = client().bucket(bucket).blob(name)
    # Retried here, around the whole download: the client hands its `retry`
    # to the media layer without the predicate, so a checksum mismatch from
    # a cut connection would not be retried there.
    download = _retry(settings)(functools.partial(
        blob.download_as_bytes, timeout=settings.timeout_s, retry=None,
        **({} if limit is None else {"start": 0, "end": limit - 1})))
    with _gcs_errors(f"reading {uri}", settings):
        return download()


def stays_under(path: str, root: str) -> bool:
    """False for a local path (or symlink) that resolves outside `root`."""
    if is_gcs(path):
        return True  # Object stores have no symlinks or '..'.
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


def _list_local(root: str) -> Listing:
    files, dirs, outside = [], [], []
    seen = {os.path.realpath(root)}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        relative = "" if relative == "." else relative + "/"
        for name in sorted(subfolders):
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if not stays_under(path, root):
                outside.append(relative + name)
            elif real not in seen:  # a symlink loop is listed once
                seen.add(real)
                dirs.append(relative + name)
                continue
            subfolders.remove(name)  # not descended into
        for name in names:
            inside = stays_under(os.path.join(folder, name), root)
            (files if inside else outside).append(relative + name)
    return Listing(root, tuple(sorted(files)), tuple(sorted(dirs)),
                   tuple(sorted(outside)))


def _list_gcs(root: str, settings: RetrySettings) -> Listing:
    bucket, prefix = split_gcs_uri(root)
    prefix = prefix + "/" if prefix else ""
    files, dirs, versions = [], set(), []
    with _gcs_errors(f"listing {root}", settings):
        for blob in client().list_blobs(bucket, prefix=prefix,
                                         timeout=settings.timeout_s,
                                         retry=_retry(settings)):
            relative = blob.name[len(prefix):]
            parts = relative.rstrip("/").split("/")
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
            if relative.endswith("/"):  # a console-made "folder" placeholder
                dirs.add(relative.rstrip("/"))
            elif relative:
                files.append(relative)
                versions.append((relative, int(blob.size or 0),
                                 int(blob.generation or 0)))
    dirs.discard("")
    return Listing(root, tuple(sorted(files)), tuple(sorted(dirs)),
                   versions=tuple(sorted(versions)))


def _retry(settings: RetrySettings):
    from google.api_core.retry import Retry

    def log_retry(error: Exception) -> None:
        logging.getLogger(__name__).warning(
            "gs:// request failed transiently (%s: %s); retrying with back-off",
            type(error).__name__, error)

    return Retry(predicate=_is_transient, initial=settings.initial_s,
                 maximum=settings.maximum_s, multiplier=settings.multiplier,
                 timeout=settings.deadline_s, on_error=log_retry)


def _is_transient(error: Exception) -> bool:
    """The storage client's own predicate (429, 5xx, connection errors),
    plus the two ways a connection cut mid-response shows up here: urllib3
    1.26 does not enforce Content-Length, so a cut listing page arrives as
    truncated JSON, and a cut download as a checksum mismatch."""
    from google.resumable_media.common import DataCorruption
    from requests.exceptions import JSONDecodeError

    return (library_internals.gcs_default_retryable(error)
            or isinstance(error, (JSONDecodeError, DataCorruption)))


class _gcs_errors:
    """Turns the client's exceptions into one StorageError with advice."""

    def __init__(self, action: str, settings: RetrySettings):
        self._action, self._settings = action, settings

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, StorageError):
            return False
        from google.api_core import exceptions
        if isinstance(error, exceptions.NotFound):
            advice = ("the bucket or object does not exist; check the "
                      "bucket name and the path")
        elif isinstance(error, (exceptions.Forbidden, exceptions.Unauthorized)):
            advice = ("access denied; grant this account storage.objects.list "
                      "and storage.objects.get on the bucket")
        elif isinstance(error, exceptions.RetryError):
            cause = error.cause
            advice = (f"gave up after retrying transient errors for "
                      f"{self._settings.deadline_s:g} s (last error: "
                      f"{type(cause).__name__}: {cause}); check the network "
                      "or raise ingest.gcs_retry_deadline_s")
        elif isinstance(error, (OSError, exceptions.GoogleAPIError)):
            advice = f"{type(error).__name__}: {error}"
        else:
            return False
        raise StorageError(f"Failed {self._action}: {advice}.") from error
