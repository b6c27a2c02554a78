"""The UI tests' fixtures: one real output folder with every kind of run,
`imgpipe ui` serving it, and a headless Chromium.

The folder is built once per session (run_history.py) while the UI
already serves it and the browser watches the runs page, so the live
updates of a running run are observed as they happen (`live_samples`).
"""
from __future__ import annotations

import threading
import time

import pytest

from tests.ui import browser, run_history

# How often the watcher looks at the running row (the page polls /api/live
# every second).
SAMPLE_EVERY_S = 0.4

_SAMPLE = """
if (!window.__loaded) { window.__loaded = Date.now(); }
var row = document.querySelector("tr.run[data-live]");
function text(selector) {
  var element = row && row.querySelector(selector);
  return element ? element.textContent.trim() : null;
}
var first = document.querySelector("tr.run");
return {page: window.__loaded, running: !!row,
        newest: first ? first.getAttribute("data-run") : null,
        newest_state: first ? first.querySelector(".state").textContent : null,
        current: text("[data-live-current]"),
        seconds: text("[data-live-seconds]")};
"""


@pytest.fixture(scope="session")
def chromium():
    missing = browser.missing_browser()
    if missing:
        pytest.skip(missing)
    with browser.chromium() as driver:
        yield driver


def _watch(driver, url: str, stop: threading.Event, samples: list) -> None:
    driver.get(url + "/")
    while not stop.is_set():
        try:
            samples.append(driver.execute_script(_SAMPLE))
        except Exception as error:  # noqa: BLE001 - a page mid-reload
            samples.append({"error": str(error)})
        time.sleep(SAMPLE_EVERY_S)
    samples.append(driver.execute_script(_SAMPLE))


@pytest.fixture(scope="session")
def ui_history(pipeline_run, tmp_path_factory, chromium):
    """(History, the read-only UI's URL, what the browser saw during the
    retrained run)."""
    work = tmp_path_factory.mktemp("ui")
    history = run_history.start(pipeline_run, work)
    with browser.ui_server(history.output) as url:
        samples: list = []
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, daemon=True,
                                   args=(chromium, url, stop, samples))
        watcher.start()
        try:
            run_history.retrain(history)
            time.sleep(3)              # the page's next poll sees the end
        finally:
            stop.set()
            watcher.join(timeout=30)
        history.promotion = run_history.promote_canary(history)
        run_history.stop_at_gate_and_fail(history, work)
        yield history, url, samples
