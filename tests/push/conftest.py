"""A GCS emulator that enforces generation preconditions, for the session,
plus a bucket per test."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest

from tests.ingest.harness import Emulator, _wait_until_up, point_client_at
from tests.ports import free_port

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def gcs(tmp_path_factory):
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.push.precondition_emulator", "start",
         "--host", "127.0.0.1", "--port", str(port), "--in-memory",
         "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        point_client_at(url)
        yield Emulator(url, port)
    finally:
        point_client_at(previous)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def bucket(gcs) -> str:
    """A fresh, empty bucket: its name."""
    name = f"serving-{os.getpid()}-{next(_buckets)}"
    gcs.client().create_bucket(name)
    return name
