"""Fixtures for ingestion tests; the helpers live in `harness.py`."""
from __future__ import annotations

import os

import pytest

from tests.ingest.harness import point_client_at, start_emulator, stop_emulator


@pytest.fixture(scope="session")
def gcs_emulator():
    """gcp-storage-emulator in its own process, for the whole session."""
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    process, emulator = start_emulator()
    try:
        yield emulator
    finally:
        stop_emulator(process)
        point_client_at(previous)
