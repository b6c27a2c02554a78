"""One model's versions and labels as the server sees them, swapped safely.

Readers (request threads) take an immutable `Snapshot` with one attribute
read and keep using it to the end of their request, so a swap never pulls a
model out from under a request in flight; the replaced model is freed when
its last request lets go of it. Only the poller thread writes.

Like TF Serving's availability-preserving policy, a new version replaces
nothing until it is loaded and warmed up, and the old ones are unloaded only
once a wanted version is available. A version that fails to load is refused
(state END with the error, in the status endpoint) and retried only when its
folder changes.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import Callable, Dict, Mapping, Optional, Tuple

from imgpipe.serving.errors import ServingError, invalid_argument, not_found
from imgpipe_components.model_store.versions import folder_fingerprint, version_folders
from imgpipe.serving.version_policy import aspired_versions

log = logging.getLogger("imgpipe.serve")


@dataclasses.dataclass(frozen=True)
class VersionState:
    """A ModelVersionStatus: START, LOADING, AVAILABLE, UNLOADING or END."""
    state: str
    error_code: str = "OK"
    error_message: str = ""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    versions: Mapping[int, object]      # version -> LoadedVersion
    labels: Mapping[str, int]


class ServedModel:

    def __init__(self, name: str, base_path: str,
                 load: Callable[[str, int, Path], object]):
        self.name, self.base_path = name, base_path
        self._load = load
        self._snapshot = Snapshot({}, {})
        self._states: Dict[int, VersionState] = {}
        self._states_lock = threading.Lock()
        self._refused: Dict[int, str] = {}     # version -> folder fingerprint
        # label -> the version it waits for: warned once per wait, not on
        # every poll.
        self._held: Dict[str, int] = {}

    # -- read side: request threads ------------------------------------

    def resolve(self, version: Optional[int] = None,
                label: Optional[str] = None):
        """The servable for a request, with TF Serving's error messages."""
        snapshot = self._snapshot
        if label is not None:
            if label not in snapshot.labels:
                raise invalid_argument(
                    f"Unrecognized servable version label: {label}")
            version = snapshot.labels[label]
        if version is None:
            if not snapshot.versions:
                raise not_found(f"Servable not found for request: "
                                f"Latest({self.name})")
            return snapshot.versions[max(snapshot.versions)]
        if version not in snapshot.versions:
            raise not_found(f"Servable not found for request: "
                            f"Specific({self.name}, {version})")
        return snapshot.versions[version]

    def states(self) -> Dict[int, VersionState]:
        with self._states_lock:
            return dict(self._states)

    def labels(self) -> Dict[str, int]:
        return dict(self._snapshot.labels)

    # -- write side: the poller thread ----------------------------------

    def _set_state(self, version: int, state: VersionState) -> None:
        with self._states_lock:
            self._states[version] = state

    def reconcile(self, policy, wanted_labels: Mapping[str, int]) -> None:
        """Bring what is served in line with the disk and the config."""
        folders = version_folders(self.base_path)
        aspired = aspired_versions(policy, folders)
        loaded = dict(self._snapshot.versions)
        for version in sorted(aspired - set(loaded), reverse=True):
            servable = self._try_load(version, folders[version])
            if servable is not None:
                loaded[version] = servable
        labels = self._labels_for(wanted_labels, loaded)
        if aspired & set(loaded):
            keep = aspired | set(labels.values())
            for version in [v for v in loaded if v not in keep]:
                del loaded[version]
                self._set_state(version, VersionState("END"))
                log.info("Unloaded %s version %d", self.name, version)
        self._log_label_changes(labels)
        self._snapshot = Snapshot(loaded, labels)

    def _log_label_changes(self, labels: Mapping[str, int]) -> None:
        before = self._snapshot.labels
        for label in sorted(set(before) | set(labels)):
            old, new = before.get(label), labels.get(label)
            if old != new:
                log.info("Label %s of %s: version %s -> %s", label, self.name,
                         "none" if old is None else old,
                         "none" if new is None else new)

    def _try_load(self, version: int, folder: Path):
        fingerprint = folder_fingerprint(folder)
        if self._refused.get(version) == fingerprint:
            return None          # unchanged since it failed: do not retry
        self._set_state(version, VersionState("LOADING"))
        try:
            servable = self._load(self.name, version, folder)
        except ServingError as error:
            return self._refuse(version, fingerprint, error.code, error.message)
        except Exception as error:  # noqa: BLE001 - a bad folder must not
            # stop the poller; it is refused and reported instead.
            return self._refuse(version, fingerprint, "UNKNOWN",
                                f"{type(error).__name__}: {error}")
        self._refused.pop(version, None)
        self._set_state(version, VersionState("AVAILABLE"))
        return servable

    def _refuse(self, version: int, fingerprint: str, code: str,
                message: str) -> None:
        self._refused[version] = fingerprint
        self._set_state(version, VersionState("END", code, message))
        log.error("Refused %s version %d (%s): %s; still serving %s",
                  self.name, version, code, message,
                  sorted(self._snapshot.versions) or "nothing")
        return None

    def _labels_for(self, wanted: Mapping[str, int],
                    loaded: Mapping[int, object]) -> Dict[str, int]:
        """A label moves only to a loaded version (TF Serving's rule); until
        then it keeps pointing where it did."""
        labels = {}
        current = self._snapshot.labels
        for label, version in wanted.items():
            if version in loaded:
                labels[label] = version
                self._held.pop(label, None)
                continue
            if label in current and current[label] in loaded:
                labels[label] = current[label]
            if self._held.get(label) != version:
                self._held[label] = version
                log.warning("Label %s of %s %s: version %d is not available",
                            label, self.name,
                            f"stays on version {labels[label]}"
                            if label in labels else "not set", version)
        return labels

    def unload_all(self) -> None:
        for version in self._snapshot.versions:
            self._set_state(version, VersionState("END"))
        self._snapshot = Snapshot({}, {})


def version_status_entries(model: ServedModel, version: Optional[int]
                           ) -> Tuple[Tuple[int, VersionState], ...]:
    """Status rows, newest first as TF Serving lists them; errors as its
    GetModelStatus reports a model or version it never saw."""
    states = model.states()
    if version is None:
        if not states:
            raise not_found(f"Could not find any versions of model {model.name}")
        return tuple(sorted(states.items(), reverse=True))
    if version not in states:
        raise not_found(f"Could not find version {version} of model {model.name}")
    return ((version, states[version]),)
