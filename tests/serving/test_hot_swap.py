"""Versions and labels change under load, without a restart or an error.

Real server, real model, 4 client threads on loopback: a new version is
pushed and labelled canary, promoted to stable and rolled back; a corrupt
and an incomplete version are refused while the old one keeps serving.
"""
from __future__ import annotations

import shutil

import pytest

from imgpipe_components.model_store import promote, register_pushed_version, rollback
from tests.serving.helpers import (SteadyLoad, push_copy, running_server,
                                   served_version, version_states, wait_until)

pytestmark = pytest.mark.timeout(300)

LATEST = "/v1/models/digits:predict"
STABLE = "/v1/models/digits/labels/stable:predict"
CANARY = "/v1/models/digits/labels/canary:predict"


def test_push_promote_and_rollback_under_load(model_base, pushed_version,
                                              digit_pngs):
    png = digit_pngs["4"]
    register_pushed_version(model_base, 1)
    with running_server(model_base) as client:
        with SteadyLoad(str(client.base_url), [LATEST, STABLE, CANARY],
                        png) as load:
            push_copy(pushed_version, model_base, 2)
            register_pushed_version(model_base, 2)        # canary -> 2
            wait_until(lambda: served_version(client, CANARY, png) == "2",
                       what="canary to move to version 2")
            assert served_version(client, STABLE, png) == "1"
            promote(model_base, reason="test")            # stable -> 2
            wait_until(lambda: served_version(client, STABLE, png) == "2",
                       what="stable to move to version 2")
            wait_until(lambda: version_states(client)[1]["state"] == "END",
                       what="version 1 to be unloaded")
            rollback(model_base, reason="test")           # both -> 1 again
            wait_until(lambda: served_version(client, STABLE, png) == "1",
                       what="stable to return to version 1")
        assert load.errors() == []
        assert all(len([r for r in load.results if r[0] == p]) >= 50
                   for p in (LATEST, STABLE, CANARY))
        # The swaps happened while the load ran.
        assert load.versions_seen(STABLE) == {"1", "2"}
        assert load.versions_seen(CANARY) == {"1", "2"}


def corrupt_version(base, version):
    folder = base / str(version)
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"\x08\x01not a protobuf at all")
    return folder


def test_corrupt_and_incomplete_versions_are_refused_while_the_old_serves(
        model_base, pushed_version, digit_pngs):
    png = digit_pngs["8"]
    with running_server(model_base) as client:
        with SteadyLoad(str(client.base_url), [LATEST], png) as load:
            corrupt_version(model_base, 2)
            wait_until(lambda: version_states(client).get(2, {}).get("state")
                       == "END", what="version 2 to be refused")
            refused = version_states(client)[2]["status"]
            assert refused["error_code"] != "OK"
            assert "Could not load" in refused["error_message"]
            # Incomplete: a copy that has not reached saved_model.pb yet.
            incomplete = model_base / "3"
            shutil.copytree(pushed_version / "variables", incomplete / "variables")
            wait_until(lambda: version_states(client).get(3, {}).get(
                "status", {}).get("error_code") == "NOT_FOUND",
                what="version 3 to be refused")
            assert served_version(client, LATEST, png) == "1"
            for item in pushed_version.iterdir():     # the copy completes
                if not (incomplete / item.name).exists():
                    copy = shutil.copytree if item.is_dir() else shutil.copy2
                    copy(item, incomplete / item.name)
            wait_until(lambda: served_version(client, LATEST, png) == "3",
                       what="the completed version 3 to serve")
        assert load.errors() == []
        assert load.versions_seen(LATEST) == {"1", "3"}
        states = version_states(client)
        assert states[3]["state"] == "AVAILABLE" and states[1]["state"] == "END"
        assert states[2]["state"] == "END"          # still refused
        metrics = client.get("/monitoring/prometheus/metrics").text
        assert 'imgpipe_serving_versions_refused{model="digits"} 1.0' in metrics
