"""`gs://` through google-cloud-storage: one client per process, shared by
ingestion and the model store, and the object operations a model store needs.

The pusher and promotion use the client rather than `tf.io.gfile`: TF's GCS
filesystem ignores STORAGE_EMULATOR_HOST (so it cannot be tested here, see
components/imgpipe_components/storage/files.py) and has no preconditions, which
are what make writes safe against concurrent writers: a write with
`if_generation_match=G` succeeds only if the object is still at generation
G (0: only if it does not exist), else GCS answers 412 and nothing changes.

No TensorFlow here: `imgpipe promote` on a gs:// serving base starts fast.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from imgpipe_components.storage import StorageError

GCS_SCHEME = "gs://"

__all__ = ["PreconditionFailed", "client", "is_gcs", "split_gcs_uri", "join",
           "list_names", "read", "write", "exists", "upload_tree", "copy", "delete_tree"]


def is_gcs(uri: str) -> bool:
    return str(uri).startswith(GCS_SCHEME)


def split_gcs_uri(uri: str) -> Tuple[str, str]:
    bucket, _, name = uri[len(GCS_SCHEME):].partition("/")
    return bucket, name


@functools.lru_cache(maxsize=None)
def client():
    """One client per process (Beam workers included); it pools connections.

    With STORAGE_EMULATOR_HOST set the library talks to that emulator with
    anonymous credentials: the same code path as a real bucket.
    """
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage
    try:
        return storage.Client()
    except DefaultCredentialsError as error:
        raise StorageError(
            "No Google Cloud credentials for gs:// input: run `gcloud auth "
            "application-default login` or set GOOGLE_APPLICATION_CREDENTIALS "
            f"({error}).") from error


class PreconditionFailed(Exception):
    """The object changed since it was read: another writer came first."""


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def _blob(uri: str):
    bucket, name = split_gcs_uri(uri)
    return client().bucket(bucket).blob(name)


def list_names(prefix_uri: str) -> List[str]:
    """Every object under `prefix_uri/`, as a path relative to it."""
    bucket, prefix = split_gcs_uri(prefix_uri.rstrip("/") + "/")
    return sorted(blob.name[len(prefix):]
                  for blob in client().list_blobs(bucket, prefix=prefix))


def read(uri: str) -> Tuple[Optional[bytes], int]:
    """(content, generation); (None, 0) when the object does not exist.

    The content is read *at* the generation returned (a download
    precondition), so a caller that writes back with
    `if_generation_match=generation` never overwrites a change it did not
    see."""
    from google.api_core import exceptions

    bucket, name = split_gcs_uri(uri)
    for _ in range(10):
        blob = client().bucket(bucket).get_blob(name)
        if blob is None:
            return None, 0
        generation = int(blob.generation)
        try:
            return (blob.download_as_bytes(if_generation_match=generation),
                    generation)
        except (exceptions.PreconditionFailed, exceptions.NotFound):
            continue                # rewritten between the two calls
    raise PreconditionFailed(f"{uri} keeps changing while it is read")


def write(uri: str, data: bytes, if_generation_match: Optional[int] = None,
          content_type: str = "text/plain") -> int:
    """Writes the object; with `if_generation_match` only if it is still at
    that generation (0: only if absent). Returns the new generation."""
    from google.api_core import exceptions

    blob = _blob(uri)
    try:
        blob.upload_from_string(data, content_type=content_type,
                                if_generation_match=if_generation_match)
    except exceptions.PreconditionFailed as error:
        raise PreconditionFailed(
            f"{uri} is no longer at generation {if_generation_match}: "
            "another writer changed it") from error
    return int(blob.generation or 0)


def exists(uri: str) -> bool:
    return _blob(uri).exists()


def upload_tree(local_dir: str, uri: str) -> List[str]:
    """Uploads every file under `local_dir` to `uri/<relative path>`;
    returns the relative paths."""
    names = []
    for path in sorted(Path(local_dir).rglob("*")):
        if path.is_file():
            name = path.relative_to(local_dir).as_posix()
            _blob(join(uri, name)).upload_from_filename(str(path))
            names.append(name)
    return names


def copy(source_uri: str, target_uri: str) -> None:
    """A server-side copy (no bytes through this machine). `rewrite` rather
    than `copy_blob`: it also works for large objects and across storage
    classes, in as many calls as GCS asks for."""
    target, source = _blob(target_uri), _blob(source_uri)
    token, _, _ = target.rewrite(source)
    while token is not None:
        token, _, _ = target.rewrite(source, token=token)


def delete_tree(uri: str, names: Optional[Iterable[str]] = None) -> None:
    from google.api_core import exceptions

    for name in (names if names is not None else list_names(uri)):
        try:
            _blob(join(uri, name)).delete()
        except exceptions.NotFound:
            pass                    # already gone: that is the aim

