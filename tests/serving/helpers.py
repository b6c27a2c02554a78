"""Helpers for the serving tests: the real server (uvicorn on 127.0.0.1, a
free port) in a background thread, versions pushed the way the pusher does,
and polling with a deadline."""
from __future__ import annotations

import base64
import contextlib
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

import httpx

from tests.ports import free_port


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


def push_copy(source: Path, base: Path, version: int) -> Path:
    """A new version, appearing whole (copy to staging, then rename)."""
    staging = base / f".staging-{version}"
    shutil.copytree(source, staging)
    target = base / str(version)
    staging.rename(target)
    return target


def wait_until(condition: Callable[[], bool], timeout: float = 60,
               what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


@contextlib.contextmanager
def running_server(model_dir: Path, model_config: Optional[Path] = None,
                   **app_settings) -> Iterator[httpx.Client]:
    """The real uvicorn server in a thread; yields a client bound to it."""
    from imgpipe.serving.app import AppSettings
    from imgpipe.serving.server import (ServerSettings, bound_port,
                                         build_server)

    app_settings.setdefault("poll_seconds", 0.2)
    server = build_server(ServerSettings(
        model_dir=model_dir, model_config=model_config, port=0,
        app=AppSettings(**app_settings)))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 120,
                   "the server to start")
        assert server.started, "the server failed to start"
        url = f"http://127.0.0.1:{bound_port(server)}"
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        assert not thread.is_alive(), "the server did not stop"


def version_states(client: httpx.Client, model: str = "digits") -> dict:
    response = client.get(f"/v1/models/{model}")
    if response.status_code != 200:
        return {}
    return {int(row["version"]): row for row in
            response.json()["model_version_status"]}


def served_version(client: httpx.Client, path: str, png: bytes) -> str:
    response = client.post(path, json={"instances": [b64(png)]})
    assert response.status_code == 200, response.text
    return response.headers["x-model-version"]


class SteadyLoad:
    """Clients posting predictions from several threads until stopped, each
    at least `min_requests` and at most `max_requests` times (bounded),
    recording (path, HTTP status, version that answered, error text)."""

    def __init__(self, base_url: str, paths: list, png: bytes,
                 threads: int = 4, min_requests: int = 50,
                 max_requests: int = 600, pause_s: float = 0.005):
        self._base_url, self._paths, self._png = base_url, paths, png
        self._threads, self._min, self._max = threads, min_requests, max_requests
        self._pause = pause_s
        self._stop = threading.Event()
        self._workers = []
        self.results: list = []
        self._lock = threading.Lock()

    def _run(self, worker: int) -> None:
        body = {"instances": [b64(self._png)]}
        with httpx.Client(base_url=self._base_url, timeout=60) as client:
            for count in range(self._max):
                if count >= self._min and self._stop.is_set():
                    return
                path = self._paths[(worker + count) % len(self._paths)]
                try:
                    response = client.post(path, json=body)
                    outcome = (path, response.status_code,
                               response.headers.get("x-model-version"),
                               "" if response.status_code == 200
                               else response.text)
                except httpx.HTTPError as error:
                    outcome = (path, None, None, repr(error))
                with self._lock:
                    self.results.append(outcome)
                time.sleep(self._pause)

    def __enter__(self) -> "SteadyLoad":
        self._workers = [threading.Thread(target=self._run, args=(i,))
                         for i in range(self._threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=300)

    def errors(self) -> list:
        return [r for r in self.results if r[1] != 200]

    def versions_seen(self, path: str) -> set:
        return {r[2] for r in self.results if r[0] == path and r[1] == 200}


IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


class ServerProcess:
    """`imgpipe serve` as its own process on 127.0.0.1, its log in a file:
    what an operator runs, with TensorFlow and the allocator of its own."""

    def __init__(self, log_file: Path, *args: str):
        self.port = free_port()
        self.log_file = log_file
        self._log = log_file.open("w")
        self.process = subprocess.Popen(
            [IMGPIPE, "serve", "--port", str(self.port), *map(str, args)],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def live(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz/live",
                             timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_started(self, timeout: float = 240) -> "ServerProcess":
        wait_until(lambda: self.live() or self.process.poll() is not None,
                   timeout, "the server to start")
        assert self.process.poll() is None, self.log()
        return self

    def wait_exit(self, timeout: float = 240) -> int:
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        self._log.flush()
        return self.log_file.read_text()

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text(
                ).splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS for the server process")

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *_exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._log.close()
