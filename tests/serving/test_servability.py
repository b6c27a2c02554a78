"""Promotion moves `stable` only onto a version that can be served: one the
server refused (corrupt saved_model.pb) or whose folder is gone is refused
even with --force, and `--server` asks the running server as well. Without
this, a fresh server started on the config would serve nothing."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import functools

from imgpipe_components import model_store
from imgpipe_components.model_store import (PromotionError, current_labels,
                                 register_pushed_version)
from imgpipe.serving.servability import check_servable
from tests.serving.helpers import push_copy, running_server

# As `imgpipe promote` and `rollback` call them: with the server's check.
promote = functools.partial(model_store.promote, check=check_servable)
rollback = functools.partial(model_store.rollback, check=check_servable)

pytestmark = pytest.mark.timeout(300)


def with_accuracy(folder, accuracy: float) -> None:
    (folder / "assets.extra" / "evaluation.json").write_text(
        json.dumps({"accuracy": accuracy}))


@pytest.fixture
def labelled(model_base, pushed_version):
    """Version 1 stable, version 2 (a better copy) canary."""
    with_accuracy(model_base / "1", 0.90)
    register_pushed_version(model_base, 1)
    with_accuracy(push_copy(pushed_version, model_base, 2), 0.95)
    register_pushed_version(model_base, 2)
    return model_base


def test_a_canary_that_does_not_load_is_refused_even_forced(labelled):
    (labelled / "2" / "saved_model.pb").write_bytes(b"\x08garbage")
    for force in (False, True):
        with pytest.raises(PromotionError, match="does not load") as refused:
            promote(labelled, force=force, reason="hotfix")
        assert "DATA_LOSS" in str(refused.value)
    assert current_labels(labelled)["stable"] == 1


def test_force_refuses_a_version_whose_folder_is_gone(labelled):
    shutil.rmtree(labelled / "2")
    with pytest.raises(PromotionError, match="does not exist"):
        promote(labelled, force=True, reason="hotfix")
    assert current_labels(labelled)["stable"] == 1


def test_a_canary_whose_warmup_fails_is_refused(labelled):
    warmup = labelled / "2" / "assets.extra" / "tf_serving_warmup_requests"
    warmup.write_bytes(b"\x00" * 40)
    with pytest.raises(PromotionError, match="warm-up"):
        promote(labelled)


def test_with_server_the_version_must_be_available_there(labelled,
                                                        pushed_version):
    pb = labelled / "2" / "saved_model.pb"
    pb.write_bytes(b"\x08garbage")
    # The server refuses version 2 at start and, polling rarely, has not
    # retried it when the folder is repaired: only the server can tell.
    with running_server(labelled, poll_seconds=3600) as client:
        shutil.copy(pushed_version / "saved_model.pb", pb)
        with pytest.raises(PromotionError, match="does not have it AVAILABLE"
                           ) as refused:
            promote(labelled, server=str(client.base_url))
        assert "Could not load" in str(refused.value)
        assert current_labels(labelled)["stable"] == 1
    with running_server(labelled) as client:
        assert promote(labelled, server=str(client.base_url)).changed
    assert current_labels(labelled)["stable"] == 2


def test_rollback_refuses_a_target_that_no_longer_loads(labelled):
    promote(labelled)
    (labelled / "1" / "variables" / "variables.index").write_bytes(b"x")
    with pytest.raises(PromotionError, match="Not rolling back to version 1"):
        rollback(labelled)
    assert current_labels(labelled)["stable"] == 2


def test_a_refused_promotion_does_not_import_tensorflow(labelled):
    """Policy refusals (no load needed) stay fast: no TensorFlow import."""
    with_accuracy(labelled / "2", 0.10)
    code = ("import sys\nfrom imgpipe_components.model_store import promote, "
            "PromotionError\ntry:\n    promote(sys.argv[1])\n"
            "except PromotionError:\n    pass\n"
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(labelled)],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
