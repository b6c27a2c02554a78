"""Faults from issue 15 against a real `imgpipe serve` process on 127.0.0.1:
what a probe, a promotion and a slow or hostile client meet. Each fault is
bounded in count and time, and nothing leaves the loopback interface."""
from __future__ import annotations

import re
import shutil
import socket
import struct
import time
import zlib

import httpx
import pytest

from imgpipe_components.model_store import register_pushed_version
from tests.serving.helpers import (ServerProcess, b64, push_copy,
                                   running_server, wait_until)

pytestmark = pytest.mark.timeout(600)
PREDICT = "/v1/models/digits:predict"
STALLED_UPLOADS = 64                # the server's default --max-in-flight
STALL_SECONDS = 20
BODY_TIMEOUT_S = 25                 # > STALL_SECONDS: slots, not timeouts,
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "    # are what is tested


def png_declaring(width: int, height: int) -> bytes:
    """A valid grey PNG of `width` x `height` black pixels: zeros compress
    about 1000:1, so a small file claims a huge bitmap."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    packer, row, parts = zlib.compressobj(9), b"\x00" * (width + 1), []
    for _ in range(height):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def served(tmp_path_factory, pushed_version):
    """One server for the request-level faults, labels in a models.config."""
    base = tmp_path_factory.mktemp("adversarial") / "serving" / "digits"
    base.mkdir(parents=True)
    push_copy(pushed_version, base, 1)
    register_pushed_version(base, 1)
    with ServerProcess(base.parent / "server.log", "--model-dir", base,
                       "--body-timeout-s", BODY_TIMEOUT_S) as server:
        yield server.wait_started()


# -- 1. readiness means "can answer predictions" ----------------------------

def test_a_corrupt_only_version_keeps_the_port_closed(model_base, tmp_path):
    (model_base / "1" / "saved_model.pb").write_bytes(b"\x08garbage")
    with ServerProcess(tmp_path / "server.log", "--model-dir",
                       model_base) as server:
        assert server.wait_exit() == 1
        assert not server.live()
        log = server.log()
    assert "Not serving: model digits has no version AVAILABLE" in log
    assert "version 1 END (DATA_LOSS" in log
    assert "Traceback" not in log


def test_ready_only_once_a_version_is_available(tmp_path, pushed_version,
                                                digit_pngs):
    base = tmp_path / "serving" / "digits"
    base.mkdir(parents=True)
    with running_server(base) as client:
        not_ready = client.get("/healthz/ready")
        assert not_ready.status_code == 503
        assert "no version folder under" in not_ready.json()["error"]
        assert client.get("/healthz/live").status_code == 200
        push_copy(pushed_version, base, 1)
        wait_until(lambda: client.get("/healthz/ready").status_code == 200,
                   120, "readiness after the first version loads")
        body = {"instances": [b64(digit_pngs["3"])]}
        assert client.post(PREDICT, json=body).status_code == 200


# -- 2. a broken models.config at start-up ----------------------------------

def test_a_truncated_config_at_start_stops_the_server(model_base, tmp_path):
    register_pushed_version(model_base, 1)
    config = model_base.parent / "models.config"
    text = config.read_text()
    config.write_text(text[:len(text) // 2])
    with ServerProcess(tmp_path / "server.log", "--model-dir",
                       model_base) as server:
        assert server.wait_exit() == 1
        log = server.log()
    assert "is not a valid ModelServerConfig" in log
    assert "keeping the previous" not in log
    assert "Loaded digits" not in log          # nothing served unlabelled


# -- 3. stalled uploads ------------------------------------------------------

def stall(port: int) -> socket.socket:
    """Headers and one byte of a 100 kB body, then nothing."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=60)
    connection.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: 100000\r\n\r\n{".encode())
    return connection


def test_stalled_uploads_do_not_starve_a_normal_client(served, digit_pngs):
    stalled = [stall(served.port) for _ in range(STALLED_UPLOADS)]
    body, outcomes = {"instances": [b64(digit_pngs["5"])]}, []
    try:
        with httpx.Client(base_url=served.url, timeout=30) as client:
            deadline = time.monotonic() + STALL_SECONDS
            while time.monotonic() < deadline:
                outcomes.append(client.post(PREDICT, json=body).status_code)
                time.sleep(0.02)
        rate = outcomes.count(200) / len(outcomes)
        print(f"\n{STALLED_UPLOADS} stalled uploads for {STALL_SECONDS} s: "
              f"{outcomes.count(200)}/{len(outcomes)} predicts succeeded "
              f"({rate:.1%})")
        assert rate >= 0.95, sorted(set(outcomes))
        # Past --body-timeout-s each stalled upload is answered 408.
        for connection in stalled:
            connection.settimeout(BODY_TIMEOUT_S + 30)
            assert connection.recv(64).startswith(b"HTTP/1.1 408"), \
                "a stalled upload was not timed out"
    finally:
        for connection in stalled:
            connection.close()


# -- 6. pixel limit, checked before decoding ---------------------------------

def test_a_40_megapixel_image_gets_413_for_little_memory(served, digit_pngs):
    with httpx.Client(base_url=served.url, timeout=120) as client:
        ok = {"instances": [b64(digit_pngs["1"])]}
        assert client.post(PREDICT, json=ok).status_code == 200
        before = served.rss_mb()
        for width, height in ((8000, 5000), (16000, 16000)):
            huge = {"instances": [b64(png_declaring(width, height))]}
            answer = client.post(PREDICT, json=huge)
            assert answer.status_code == 413, answer.text
            assert "--max-pixels" in answer.json()["error"]
        grown = served.rss_mb() - before
        print(f"\nserver RSS grew {grown:.1f} MB for a 40 MP and a 256 MP "
              "image")
        assert grown < 300
        assert client.post(PREDICT, json=ok).status_code == 200


# -- 7. deeply nested JSON ----------------------------------------------------

@pytest.mark.parametrize("body", [
    b"[" * 100_000,
    b'{"instances": ' + b"[" * 900 + b"]" * 900 + b"}",     # > 32 dims
    b'{"instances": [' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"]}",
])
def test_deeply_nested_json_is_a_400_not_a_500(served, body):
    answer = httpx.post(served.url + PREDICT, content=body, timeout=60)
    assert answer.status_code == 400, answer.text
    assert "Traceback" not in answer.text
    assert "nested" in answer.json()["error"]


# -- 9. operational log ------------------------------------------------------

def test_loads_label_changes_and_held_labels_are_logged_once(
        model_base, pushed_version, tmp_path):
    register_pushed_version(model_base, 1)
    with ServerProcess(tmp_path / "server.log", "--model-dir", model_base,
                       "--poll-seconds", "0.1") as server:
        server.wait_started()
        register_pushed_version(model_base, 2)     # canary -> 2, not there
        time.sleep(2)                               # about 20 polls
        push_copy(pushed_version, model_base, 2)
        wait_until(lambda: "Label canary of digits: version 1 -> 2"
                   in server.log(), 120, "the label change in the log")
        log = server.log()
    assert re.search(TIMESTAMP + r"INFO imgpipe.serve: Loaded digits "
                     r"version 1 ", log)
    assert re.search(TIMESTAMP + r"INFO imgpipe.serve: Loaded digits "
                     r"version 2 ", log)
    held = "Label canary of digits stays on version 1: version 2 is not"
    assert log.count(held) == 1, log



# -- 5. base_path in models.config against --model-dir -----------------------

def test_a_copied_serving_folder_is_not_served_from_the_old_place(
        model_base, tmp_path):
    register_pushed_version(model_base, 1)
    copy = tmp_path / "copy" / "serving"
    shutil.copytree(model_base.parent, copy)
    with ServerProcess(tmp_path / "server.log", "--model-dir",
                       copy / "digits") as server:
        assert server.wait_exit() == 1
        log = server.log()
    said = " ".join(log.split())
    assert f"base_path {model_base}, not the model dir {copy / 'digits'}" \
        in said, said
    assert "Loaded digits" not in log
