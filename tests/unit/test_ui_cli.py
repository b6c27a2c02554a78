"""`imgpipe ui` refuses what it cannot do in one clear paragraph, before
starting a server; over a folder with no runs yet it still answers."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.ui.browser import ui_server

IMGPIPE = [str(Path(sys.executable).parent / "imgpipe")]


def run_ui(*args):
    return subprocess.run(IMGPIPE + ["ui", *args], capture_output=True,
                          text=True, timeout=60)


def refused(result, *words):
    text = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, text
    assert "Traceback" not in text
    for word in words:
        assert word in text, text


def test_a_missing_output_folder_is_named(tmp_path):
    refused(run_ui("--output", str(tmp_path / "nowhere")),
            "is not a folder", "--output folder of `imgpipe run`")


def test_a_non_loopback_address_needs_allow_remote(tmp_path):
    refused(run_ui("--output", str(tmp_path), "--host", "0.0.0.0"),
            "Refusing to listen on 0.0.0.0", "the UI has no authentication",
            "--allow-remote")


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(run_ui("--output", str(tmp_path), "--port", str(port)),
                f"Port {port} on 127.0.0.1 is in use", "--port")


def test_a_folder_without_runs_answers_with_what_to_do(tmp_path):
    with ui_server(tmp_path) as url:
        pages = {page: httpx.get(url + page) for page in
                 ("/", "/compare", "/models", "/api/live", "/runs/x")}
    assert {page: r.status_code for page, r in pages.items()} == {
        "/": 200, "/compare": 200, "/models": 200, "/api/live": 200,
        "/runs/x": 404}
    assert "No runs in this folder yet" in pages["/"].text
    assert "Nothing pushed into" in pages["/models"].text
    assert "this folder has 0" in pages["/compare"].text
    assert pages["/api/live"].json() == {"run_id": None, "state": None}
    assert "There is no run &#39;x&#39;" in pages["/runs/x"].text
    assert not (tmp_path / "metadata.sqlite").exists()   # never created
