"""Where promotion state lives: a local serving folder or a gs:// bucket.

Both hold the same files beside the model's base path (models.config,
promotion_history.jsonl, <model>/<N>/). They differ in how concurrent
writers are kept apart:

- local disk: an exclusive file lock around read-decide-write, a temporary
  file renamed over models.config, O_APPEND for the history;
- gs://: no locks and no rename, so optimistic concurrency: models.config
  is read with its generation and written back with
  `if_generation_match=<that generation>` (0: only if absent). A writer
  that lost the race gets PreconditionFailed, and the action starts again
  from a fresh read (actions._transact). Objects cannot be appended to:
  the history is rewritten whole, with the same precondition, retried until
  it lands on top of the latest version. Each record carries the config
  generation it wrote and the history is kept in that order: writers reach
  the history in any order, but their config writes have one. Each write
  is a whole object, so TF Serving polling the bucket sees the old config
  or the new one.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import List, Optional, Tuple, Union

from imgpipe_components.model_store import history
from imgpipe_components.model_store.models_config import (CONFIG_NAME, HISTORY_NAME,
                                              ServingPaths, config_text,
                                              locked, parse_config,
                                              read_config,
                                              write_config_atomically)
from imgpipe_components.model_store.policy import EVALUATION_FILE, read_evaluation

GCS = "gs://"


class ConcurrentUpdate(Exception):
    """models.config changed between our read and our write."""


class LocalStore:

    def __init__(self, model_dir: Union[str, Path],
                 model_name: Optional[str] = None):
        self.paths = ServingPaths.for_model(Path(model_dir), model_name)
        self.model_name = self.paths.model_name
        self.base_path = str(self.paths.model_dir)
        self.where = str(self.paths.config)

    def exists(self) -> bool:
        """Whether the model's base path is there: actions write nothing,
        not even their lock file, beside a folder that is not."""
        return self.paths.model_dir.is_dir()

    def lock(self):
        return locked(self.paths)

    def read_config(self) -> Tuple[object, None]:
        return read_config(self.paths.config), None

    def write_config(self, config, _token) -> None:
        """Returns None: under the lock, appends are already in order."""
        write_config_atomically(self.paths.config, config)   # lock held

    def history(self) -> List[history.LabelChange]:
        return history.read(self.paths.history, self.model_name)

    def append_history(self, changes: List[history.LabelChange]) -> None:
        history.append(self.paths.history, changes)

    def evaluation(self, version: int) -> Optional[dict]:
        return read_evaluation(self.paths.version_dir(version))

    def has_version(self, version: int) -> bool:
        return (self.paths.version_dir(version) / "saved_model.pb").exists()


class GcsStore:

    def __init__(self, model_dir: str, model_name: Optional[str] = None):
        self.base_path = model_dir.rstrip("/")
        parent, _, folder = self.base_path.rpartition("/")
        if not folder or parent in ("gs:", "gs:/"):
            raise ValueError(f"{model_dir}: a gs:// model dir needs a bucket "
                             "and a folder, e.g. gs://bucket/serving/digits")
        self.model_name = model_name or folder
        self.config_uri = f"{parent}/{CONFIG_NAME}"
        self.history_uri = f"{parent}/{HISTORY_NAME}"
        self.where = self.config_uri

    @staticmethod
    def exists() -> bool:
        """A bucket has no folders: an empty models.config reads as no
        labels, and nothing is written before a label moves."""
        return True

    @staticmethod
    def lock():
        return contextlib.nullcontext()      # optimistic: see the docstring

    def read_config(self) -> Tuple[object, int]:
        from imgpipe_components.storage import gcs
        data, generation = gcs.read(self.config_uri)
        return (parse_config(None if data is None else data.decode(),
                             self.config_uri), generation)

    def write_config(self, config, generation: int) -> int:
        """Returns the generation written, which the history records."""
        from imgpipe_components.storage import gcs
        try:
            return gcs.write(self.config_uri, config_text(config).encode(),
                             if_generation_match=generation)
        except gcs.PreconditionFailed as error:
            raise ConcurrentUpdate(str(error)) from error

    def history(self) -> List[history.LabelChange]:
        from imgpipe_components.storage import gcs
        data, _ = gcs.read(self.history_uri)
        return history.parse(data.decode(), self.model_name) if data else []

    def append_history(self, changes: List[history.LabelChange],
                       attempts: int = 50) -> None:
        """Rewrites the history with `changes` placed by config generation:
        a writer whose config write landed first may reach the history
        second, and a rollback reads the order."""
        from imgpipe_components.storage import gcs
        for _ in range(attempts):
            data, generation = gcs.read(self.history_uri)
            records = history.parse(data.decode()) if data else []
            text = history.to_lines(history.in_config_order(records + changes))
            try:
                gcs.write(self.history_uri, text.encode(),
                          if_generation_match=generation,
                          content_type="application/x-ndjson")
                return
            except gcs.PreconditionFailed:
                continue            # someone appended first: on top of theirs
        raise ConcurrentUpdate(f"{self.history_uri} kept changing: "
                               f"{len(changes)} record(s) not appended")

    def evaluation(self, version: int) -> Optional[dict]:
        import json

        from imgpipe_components.storage import gcs
        data, _ = gcs.read(f"{self.base_path}/{version}/"
                           f"{EVALUATION_FILE.as_posix()}")
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None

    def has_version(self, version: int) -> bool:
        from imgpipe_components.storage import gcs
        return gcs.exists(f"{self.base_path}/{version}/saved_model.pb")


def open_store(model_dir: Union[str, Path],
               model_name: Optional[str] = None):
    """The store for a model dir: gs://bucket/... or a local path."""
    text = str(model_dir)
    if text.startswith("gs:/") and not text.startswith(GCS):
        text = GCS + text[len("gs:/"):]     # pathlib folds "gs://" to "gs:/"
    if text.startswith(GCS):
        return GcsStore(text, model_name)
    if "://" in text:
        raise ValueError(f"{text}: promotion works on local paths and gs:// "
                         "only.")
    return LocalStore(text, model_name)
