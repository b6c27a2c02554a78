"""Pushes and rollbacks reach a running TF Serving that polls models.config.

`PollingServer` replays what TF Serving 2.16 does with each poll of the
file (tensorflow_serving/model_servers/server.cc,
PollFilesystemAndReloadConfig; server_core.cc, ReloadConfig and
UpdateModelVersionLabelMap, with --allow_version_labels_for_unavailable_models
as infra/k8s/base sets it): a label may point at a version that is not
AVAILABLE only if the server has no such label yet; the labels are checked
before the policy's versions load, so a refused config loads nothing and
is tried again at the next poll. Loading takes one poll here: a version
the accepted policy names is AVAILABLE from the next poll on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Set

import pytest

from imgpipe_components.model_store import (promote, register_pushed_version,
                                            rollback)
from imgpipe_components.model_store.models_config import (find_model,
                                                          labels_of,
                                                          read_config)

SETTLE_S = 45


class PollingServer:
    def __init__(self, config_path: Path, model: str = "digits"):
        self.path, self.model = config_path, model
        self.labels: Dict[str, int] = {}
        self.available: Set[int] = set()
        self.loading: Set[int] = set()
        self.refusals: List[str] = []

    def poll(self) -> None:
        self.available |= self.loading     # what the last policy asked for
        self.loading = set()
        entry = find_model(read_config(self.path), self.model)
        labels = labels_of(entry)
        for label, version in labels.items():
            moved = label in self.labels and self.labels[label] != version
            if moved and version not in self.available:
                self.refusals.append(
                    f"Request to assign label to version {version} of model "
                    f"{self.model}, which is not currently available")
                return
        self.labels = labels
        wanted = set(entry.model_version_policy.specific.versions)
        self.loading = wanted - self.available
        self.available &= wanted


def _pushed(store: Path, version: int) -> None:
    """A complete version with its evaluation, as the Pusher leaves it."""
    folder = store / "digits" / str(version)
    (folder / "assets.extra").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"model")
    (folder / "assets.extra" / "evaluation.json").write_text(
        '{"accuracy": %s}' % (0.90 + version / 100))


@pytest.fixture()
def store_and_servers(tmp_path):
    """Version 1 pushed and served by two pods that poll at different
    moments."""
    store = tmp_path / "serving"
    _pushed(store, 1)
    register_pushed_version(store / "digits", 1)
    servers = [PollingServer(store / "models.config") for _ in range(2)]
    for server in servers:
        server.poll()
        server.poll()
    assert all(s.labels == {"stable": 1, "canary": 1} for s in servers)
    return store, servers


def _every_server_polls(servers, waits: List[float]):
    """`sleep` for the actions: the wait is recorded, and every running
    server polls once meanwhile (the least that `settle_s`, one poll period
    or more, guarantees)."""
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        for server in servers:
            server.poll()
    return sleep


def _settle(servers, polls: int = 2) -> None:
    for _ in range(polls):
        for server in servers:
            server.poll()


def test_a_push_reaches_running_servers_in_two_steps(store_and_servers):
    store, servers = store_and_servers
    _pushed(store, 2)
    waits: List[float] = []
    result = register_pushed_version(
        store / "digits", 2, settle_s=SETTLE_S,
        sleep=_every_server_polls(servers, waits))
    assert waits == [SETTLE_S]
    assert [(c.label, c.from_version, c.to_version) for c in result.changes] \
        == [("canary", 1, 2)]
    _settle(servers)
    for server in servers:
        assert server.labels == {"stable": 1, "canary": 2}
        assert server.available == {1, 2}


def test_a_rollback_reaches_running_servers_in_two_steps(store_and_servers):
    store, servers = store_and_servers
    _pushed(store, 2)
    register_pushed_version(store / "digits", 2, settle_s=SETTLE_S,
                            sleep=_every_server_polls(servers, []))
    _settle(servers)
    promote(store / "digits")                     # v2 is loaded: one write
    _settle(servers)
    assert all(s.labels == {"stable": 2, "canary": 2} and
               s.available == {2} for s in servers)

    waits: List[float] = []
    rollback(store / "digits", reason="bad canary", settle_s=SETTLE_S,
             sleep=_every_server_polls(servers, waits))
    assert waits == [SETTLE_S]
    _settle(servers)
    for server in servers:
        assert server.labels == {"stable": 1, "canary": 1}
        assert server.available == {1}


def test_one_write_leaves_a_running_server_refusing_for_good(
        store_and_servers):
    """Why the two steps: the same push written at once (settle_s=0) is
    refused by a server that polls after it, on every poll, because the
    refused config never loads the version its label needs."""
    store, servers = store_and_servers
    _pushed(store, 2)
    register_pushed_version(store / "digits", 2)
    _settle(servers, polls=5)
    for server in servers:
        assert server.labels == {"stable": 1, "canary": 1}
        assert len(server.refusals) == 5
        assert "version 2" in server.refusals[-1]


def test_the_first_push_and_a_promotion_need_no_wait(tmp_path):
    store = tmp_path / "serving"
    _pushed(store, 1)
    waits: List[float] = []
    register_pushed_version(store / "digits", 1, settle_s=SETTLE_S,
                            sleep=waits.append)
    assert waits == []                   # new labels: TF Serving allows them
    _pushed(store, 2)
    register_pushed_version(store / "digits", 2, settle_s=SETTLE_S,
                            sleep=waits.append)
    assert waits == [SETTLE_S]
    promote(store / "digits")            # onto a loaded version
    assert waits == [SETTLE_S]
