"""The `imgpipe serve/promote/rollback/history/predict --server` commands,
and a graceful shutdown on SIGTERM with a request in flight."""
from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from imgpipe_components.model_store import register_pushed_version
from imgpipe.serving.bind import is_loopback
from tests.ports import free_port
from tests.serving.helpers import b64, push_copy, running_server, wait_until

pytestmark = pytest.mark.timeout(300)
IMGPIPE = str(Path(sys.executable).parent / "imgpipe")


def imgpipe(*args, timeout=120):
    return subprocess.run([IMGPIPE, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def in_flight(port: int) -> float:
    page = httpx.get(f"http://127.0.0.1:{port}/monitoring/prometheus/metrics")
    for line in page.text.splitlines():
        if line.startswith("imgpipe_serving_requests_in_flight "):
            return float(line.split()[1])
    return 0.0


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/models/digits",
                         timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_sigterm_lets_the_request_in_flight_finish(model_base, digit_pngs):
    port = free_port()
    server = subprocess.Popen(
        [IMGPIPE, "serve", "--model-dir", str(model_base), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: answers(port) or server.poll() is not None, 240,
                   "the server to answer")
        assert server.poll() is None, server.stdout.read()
        body = json.dumps({"instances": [b64(digit_pngs["6"])]}).encode()
        connection = socket.create_connection(("127.0.0.1", port))
        # Headers and half the body: the request is in flight until the rest
        # arrives, which this test holds back until after SIGTERM.
        connection.sendall(
            b"POST /v1/models/digits:predict HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body[:20])
        wait_until(lambda: in_flight(port) >= 1, 30, "the request to start")
        server.send_signal(signal.SIGTERM)
        wait_until(lambda: not answers(port), 30, "new connections refused")
        assert server.poll() is None          # still waiting for our request
        connection.sendall(body[20:])
        response = http.client.HTTPResponse(connection)
        response.begin()
        assert response.status == 200
        assert json.loads(response.read())["predictions"][0][
            "predicted_class"] in {str(d) for d in range(10)}
        connection.close()
        assert server.wait(timeout=60) == 0
        assert "Shutting down" in server.stdout.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_listening_beyond_loopback_needs_allow_remote(tmp_path):
    result = imgpipe("serve", "--model-dir", tmp_path, "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "--allow-remote" in " ".join(result.stderr.split())
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert is_loopback("localhost") and not is_loopback("0.0.0.0")
    assert not is_loopback("10.0.0.7") and not is_loopback("example.com")


def test_promote_rollback_and_history_commands(tmp_path, pushed_version):
    base = tmp_path / "serving" / "digits"
    base.mkdir(parents=True)
    for version in (1, 2):
        push_copy(pushed_version, base, version)
        register_pushed_version(base, version)
    promoted = imgpipe("promote", "--model-dir", base)
    assert promoted.returncode == 0, promoted.stderr
    assert "stable 1 -> 2" in promoted.stdout
    again = imgpipe("promote", "--model-dir", base)
    assert again.returncode == 0 and "already stable" in again.stdout
    rolled = imgpipe("rollback", "--model-dir", base, "--reason", "drift")
    assert rolled.returncode == 0 and "stable 2 -> 1" in rolled.stdout
    shown = imgpipe("history", "--model-dir", base, "--json")
    changes = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(c["action"], c["label"], c["to_version"]) for c in changes] == [
        ("push", "stable", 1), ("push", "canary", 1), ("push", "canary", 2),
        ("promote", "stable", 2), ("rollback", "stable", 1),
        ("rollback", "canary", 1)]
    assert changes[-1]["reason"] == "drift" and changes[-1]["user"]
    table = imgpipe("history", "--model-dir", base)
    assert "rollback" in table.stdout and "drift" in table.stdout
    forced = imgpipe("promote", "--model-dir", base, "--force")
    assert forced.returncode == 1 and "needs a --reason" in forced.stderr
    missing = imgpipe("promote", "--model-dir", tmp_path / "nothing")
    assert missing.returncode == 2
    assert "no model has been pushed there" in " ".join(missing.stderr.split())
    assert not (tmp_path / ".models.config.lock").exists()


def test_predict_through_the_server(model_base, digit_pngs, tmp_path):
    image = tmp_path / "seven.png"
    image.write_bytes(digit_pngs["7"])
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with running_server(model_base) as client:
        url = str(client.base_url)
        started = time.monotonic()
        result = imgpipe("predict", image, "--model-dir", model_base,
                         "--server", url)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{image}: ")
        assert len(result.stdout.split(",")) == 3          # top 3
        assert time.monotonic() - started < 30     # no TensorFlow import
        labelled = imgpipe("predict", image, "--top-k", "1", "--server",
                           f"{url}/v1/models/digits/versions/1")
        assert labelled.returncode == 0
        assert labelled.stdout.split(": ")[1].split()[0] == \
            result.stdout.split(": ")[1].split()[0]
        bad = imgpipe("predict", junk, "--server", url, "--model-name",
                      "digits")
        assert bad.returncode == 2
        assert "400" in bad.stderr and "Unknown image file format" in bad.stderr
    unreachable = imgpipe("predict", image, "--server", url, "--model-name",
                          "digits")
    assert unreachable.returncode == 2
    assert "Cannot reach the model server" in unreachable.stderr
