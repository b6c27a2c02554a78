"""A real headless Chromium for the UI tests, and the UI server they drive.

Debian's chromium and chromium-driver (/usr/bin): Selenium is given the
driver's path, so Selenium Manager never looks for (or downloads) one.
The flags keep Chromium off the network (these machines have none) and
out of any profile but a fresh one.
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (390, 844)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def missing_browser() -> Optional[str]:
    absent = [path for path in (CHROMIUM, CHROMEDRIVER)
              if not os.path.exists(path)]
    return (f"{' and '.join(absent)} missing: apt-get install chromium "
            "chromium-driver" if absent else None)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="imgpipe-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",
                         f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def use_size(driver, size) -> None:
    """Desktop: the window as it is; phone: a 390x844 touch screen."""
    if size == PHONE:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2,
            "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def screenshot(driver, path: Path, screens: float = 2.5) -> None:
    """The page from the top, beyond the window, up to `screens` window
    heights; 256 colours (a tenth of the bytes, no visible loss on pages
    of text), for the docs."""
    import io

    from PIL import Image

    width, height, window = driver.execute_script(
        "var d = document.documentElement;"
        "return [d.clientWidth, d.scrollHeight, window.innerHeight];")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "scale": 1,
                 "height": min(height, int(window * screens))}})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"])))
    image.convert("RGB").quantize(256).save(path, optimize=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def ui_server(output: Path, *options: str, timeout_s: float = 60
              ) -> Iterator[str]:
    """`imgpipe ui` in a subprocess on a free loopback port; yields its
    base URL once it answers, and stops it (SIGTERM) afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "imgpipe.cli.main", "ui", "--output",
         str(output), "--port", str(port), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError("imgpipe ui exited: "
                                   + process.stdout.read())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/api/live", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"imgpipe ui did not answer on {url}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
