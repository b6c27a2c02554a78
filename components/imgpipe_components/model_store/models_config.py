"""models.config: TF Serving's ModelServerConfig, where promotion state lives.

Layout, beside the model folders it describes:

    <output>/serving/models.config              this file (text proto)
    <output>/serving/promotion_history.jsonl    who moved which label, why
    <output>/serving/<model>/1/, 2/, ...        the versions

Each model has one `config { ... }` entry: its base path, the labels
`stable` and `canary`, and a `specific` version policy listing exactly the
labelled versions (TF Serving only lets a label point at a loaded version,
and loads only what the policy names).

Writes go to a temporary file in the same folder, are flushed to disk, then
renamed over the old file: TF Serving (or our server) polling the file sees
the old config or the new one, never half of one. An exclusive lock on a
side file serialises writers (two promotions at once would lose one).
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional

CONFIG_NAME = "models.config"
HISTORY_NAME = "promotion_history.jsonl"
STABLE, CANARY = "stable", "canary"


class ConfigError(Exception):
    """models.config exists but cannot be used."""


@dataclasses.dataclass(frozen=True)
class ServingPaths:
    model_dir: Path          # the model's base path: numbered versions inside
    model_name: str

    @classmethod
    def for_model(cls, model_dir: Path, model_name: Optional[str] = None
                  ) -> "ServingPaths":
        model_dir = Path(os.path.abspath(model_dir))
        return cls(model_dir, model_name or model_dir.name)

    @property
    def config(self) -> Path:
        return self.model_dir.parent / CONFIG_NAME

    @property
    def history(self) -> Path:
        return self.model_dir.parent / HISTORY_NAME

    @property
    def lock(self) -> Path:
        return self.model_dir.parent / f".{CONFIG_NAME}.lock"

    def version_dir(self, version: int) -> Path:
        return self.model_dir / str(version)


def parse_config(text: Optional[str], where: object):
    """A ModelServerConfig from its text proto; empty for None (no file)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    if text is None:
        return config
    try:
        return text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise ConfigError(f"{where} is not a valid ModelServerConfig text "
                          f"proto: {error}") from None


def config_text(config) -> str:
    from google.protobuf import text_format
    return ("# TF Serving model config, written by `imgpipe` (push/promote/"
            "rollback).\n# Edit with those commands: they keep "
            "promotion_history.jsonl in step.\n"
            + text_format.MessageToString(config))


def read_config(path: Path):
    """The parsed config; an empty one if the file does not exist."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        text = None
    return parse_config(text, path)


def write_config_atomically(path: Path, config) -> None:
    path = Path(path)
    text = config_text(config)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.",
                                         suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Makes the rename itself survive a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def locked(paths: ServingPaths) -> Iterator[None]:
    """The writers' lock, on a side file beside the model folder; creates
    no folder (a command on the wrong path must leave nothing behind)."""
    with open(paths.lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find_model(config, name: str):
    for entry in config.model_config_list.config:
        if entry.name == name:
            return entry
    return None


def add_model(config, name: str, base_path: str):
    entry = config.model_config_list.config.add()
    entry.name = name
    entry.base_path = base_path
    entry.model_platform = "tensorflow"
    return entry


def labels_of(entry) -> Dict[str, int]:
    return dict(entry.version_labels) if entry is not None else {}


def set_labels(entry, labels: Dict[str, int]) -> None:
    """Labels, and a policy that loads exactly the labelled versions."""
    entry.ClearField("version_labels")
    for label, version in labels.items():
        entry.version_labels[label] = version
    entry.model_version_policy.ClearField("specific")
    entry.model_version_policy.specific.versions.extend(
        sorted(set(labels.values())))
