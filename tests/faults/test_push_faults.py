"""Disk full or permission denied while a version is written.

The real server serves version 1 under a bounded load; the push of version
2 fails half-way (the copy raises ENOSPC or EACCES after writing part of
the model: these machines run tests as root, which no permission bit
stops, and no small filesystem can be mounted without privileges, so the
error is raised at the copy call the Pusher really makes). The push must
fail with a clear error, leave nothing of version 2 where the server looks,
and version 1 must keep answering every request.
"""
from __future__ import annotations

import errno
import shutil

import pytest

from imgpipe_components.push import executor
from imgpipe_components.model_store import versions
from tests.serving.helpers import SteadyLoad, running_server, served_version

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES],
                         ids=["disk-full", "permission-denied"])
def test_failed_push_publishes_nothing_and_the_old_version_serves(
        model_base, pushed_version, digit_pngs, monkeypatch, code):
    def copy_then_fail(source, destination, **_):
        shutil.copytree(source, destination, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("variables"))
        raise OSError(code, "injected by the test", destination)
    monkeypatch.setattr(executor.io_utils, "copy_dir", copy_then_fail)

    png = digit_pngs["7"]
    with running_server(model_base) as client:
        with SteadyLoad(str(client.base_url), ["/v1/models/digits:predict"],
                        png) as load:
            with pytest.raises(executor.PushError) as failure:
                executor._copy_atomically(str(pushed_version),
                                          str(model_base), 2, "uri-2")
            assert served_version(client, "/v1/models/digits:predict",
                                  png) == "1"
        assert load.errors() == []
        assert load.versions_seen("/v1/models/digits:predict") == {"1"}

    message = str(failure.value)
    assert "Could not write version 2" in message
    assert "Nothing was published" in message
    assert sorted(p.name for p in model_base.iterdir()) == ["1"]
    assert versions.list_versions(str(model_base)) == [1]

    # Space is back: the same push completes as version 2.
    monkeypatch.undo()
    executor._copy_atomically(str(pushed_version), str(model_base), 2,
                              "uri-2")
    assert versions.list_versions(str(model_base)) == [1, 2]
