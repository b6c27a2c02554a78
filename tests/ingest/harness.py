"""The harness of ingestion tests and benchmarks: the real ExampleGen
executor on real files, and a GCS emulator.

`run_example_gen` builds the component with the production factory, takes
its exec properties and calls `Executor.Do` with a real Examples artifact in
a temporary folder, as TFX's own executor tests do; `simulate_driver` first
resolves spans the way the local ExampleGen driver does. `start_emulator`
starts `gcp-storage-emulator` as a separate process on 127.0.0.1 and points
the google-cloud-storage client at it through STORAGE_EMULATOR_HOST.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import List, Optional

from tests.ports import free_port

MAX_PIXELS = 1_000_000


@dataclasses.dataclass
class Ingested:
    uri: str
    artifact: object
    quarantine: List[dict]
    rows: object            # pandas DataFrame of metadata, train + eval

    def reasons(self) -> dict:
        return {q["image_id"]: q["reason"] for q in self.quarantine}


def example_gen_properties(input_base: str, ingest=None, train_buckets=8,
                           eval_buckets=2, max_pixels=MAX_PIXELS) -> dict:
    from tfx.utils import proto_utils

    import dataclasses

    from imgpipe_components.image_example_gen.component import (
        detect_format, image_example_gen)
    from imgpipe_components.image_example_gen.settings import IngestConfig

    # As the local runner does: the format detected before the graph is built.
    ingest = dataclasses.replace(ingest or IngestConfig(),
                                 train_buckets=train_buckets,
                                 eval_buckets=eval_buckets)
    component = image_example_gen(input_base, max_pixels,
                                  detect_format(input_base, ingest))
    return {key: value if value is None or isinstance(value, (str, int))
            else proto_utils.proto_to_json(value)
            for key, value in component.exec_properties.items()}


def simulate_driver(properties: dict) -> dict:
    """What our ExampleGen's driver (TFX's FileBasedDriver, tolerant of
    unreadable files) does before the executor on local runs."""
    from imgpipe_components.image_example_gen.driver import \
        ReadableFilesDriver
    from tfx.orchestration import data_types

    resolved = ReadableFilesDriver(metadata_handle=None) \
        .resolve_exec_properties(dict(properties),
                                 data_types.PipelineInfo("", ""),
                                 data_types.ComponentInfo("", "", None))
    return resolved


def run_executor(properties: dict, output: Path) -> Ingested:
    from tfx.types import standard_artifacts

    from imgpipe_components.data_gate.metadata_table import read_metadata
    from imgpipe_components.image_example_gen.executor import (Executor,
                                                       read_quarantine)
    import pandas as pd

    examples = standard_artifacts.Examples()
    examples.uri = str(output)
    output.mkdir(parents=True, exist_ok=True)
    Executor().Do({}, {"examples": [examples]}, properties)
    rows = pd.concat([read_metadata(str(output), s) for s in ("train", "eval")],
                     ignore_index=True)
    return Ingested(str(output), examples, read_quarantine(str(output)), rows)


def run_example_gen(input_base, output: Path, ingest=None, driver=False,
                    **kwargs) -> Ingested:
    properties = example_gen_properties(str(input_base), ingest, **kwargs)
    if driver:
        properties = simulate_driver(properties)
    return run_executor(properties, output)


# -- gs:// through gcp-storage-emulator ------------------------------------

def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gcp-storage-emulator exited at start-up")
        try:
            urllib.request.urlopen(url + "/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gcp-storage-emulator did not answer at {url}")


@dataclasses.dataclass
class Emulator:
    url: str
    port: int

    def client(self):
        from google.cloud import storage
        return storage.Client()

    def upload_tree(self, local_root: Path, bucket: str, prefix: str) -> None:
        client = self.client()
        target = client.lookup_bucket(bucket) or client.create_bucket(bucket)
        for path in sorted(local_root.rglob("*")):
            if path.is_file():
                name = f"{prefix}/{path.relative_to(local_root).as_posix()}"
                target.blob(name).upload_from_filename(str(path))


def point_client_at(url: Optional[str]) -> None:
    """Sets STORAGE_EMULATOR_HOST and drops the cached client."""
    from imgpipe_components.storage import files as storage
    if url is None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    else:
        os.environ["STORAGE_EMULATOR_HOST"] = url
    storage.client.cache_clear()


def start_emulator() -> "tuple[subprocess.Popen, Emulator]":
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host",
         "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
    except RuntimeError:
        process.kill()
        raise
    point_client_at(url)
    return process, Emulator(url, port)


def stop_emulator(process: subprocess.Popen) -> None:
    point_client_at(None)
    process.terminate()
    process.wait(timeout=10)
