"""The model store page and its two actions, in the browser.

Read-only unless started with --allow-actions (403 otherwise, and for a
POST from another origin); with it, the buttons go through the model
store's promote/rollback and the CLI's servability check, and the change
lands in models.config and the promotion history. Actions run on a copy
of the session's folder: the other tests read its labels.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.ui import browser

pytestmark = pytest.mark.e2e

_POST = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {method: "POST", body: new URLSearchParams({reason: "x"})})
  .then(function (r) { return r.text().then(function (t) {
    done([r.status, t]); }); });
"""


def test_read_only_ui_shows_no_buttons_and_refuses_a_post(ui_history,
                                                         chromium):
    history, url, _ = ui_history
    chromium.get(url + "/models")
    assert not chromium.find_elements(By.CSS_SELECTOR, "form[method=post]")
    page = chromium.find_element(By.TAG_NAME, "main").text
    assert "stable v2" in page and "canary v2" in page
    rows = chromium.find_elements(By.CSS_SELECTOR, "table.history tbody tr")
    assert rows[0].find_element(By.CSS_SELECTOR, "[data-label=Action]"
                                ).text in ("promote", "force-promote")
    status, text = chromium.execute_async_script(
        _POST, url + "/models/digits/rollback")
    assert status == 403 and "started read-only" in text
    assert httpx.get(url + "/models/digits/rollback").status_code == 403


def test_rollback_button_moves_stable_back_and_records_who(ui_history,
                                                           chromium,
                                                           tmp_path):
    from imgpipe_components.model_store import current_labels, show_history

    history, _, _ = ui_history
    output = shutil.copytree(history.output, tmp_path / "output")
    serving = output / "serving" / history.config.model_name
    with browser.ui_server(output, "--allow-actions") as url:
        refused = httpx.post(url + "/models/digits/rollback",
                             data={"reason": "x"},
                             headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        assert current_labels(serving) == {"stable": 2, "canary": 2}

        chromium.get(url + "/models")
        forms = chromium.find_elements(
            By.CSS_SELECTOR, "form[action='/models/digits/rollback']")
        assert forms, chromium.find_element(By.TAG_NAME, "body").text
        form = forms[0]
        form.find_element(By.NAME, "reason").send_keys("ui test rollback")
        form.find_element(By.TAG_NAME, "button").click()
        notice = chromium.find_element(By.CSS_SELECTOR, "p.notice").text
        assert notice == "digits: stable 2 -> 1, canary 2 -> 1"
        first = chromium.find_element(By.CSS_SELECTOR,
                                      "table.history tbody tr").text
        assert "rollback" in first and "via imgpipe ui" in first
        if os.environ.get("IMGPIPE_UI_SCREENSHOTS"):
            browser.screenshot(chromium, Path(os.environ[
                "IMGPIPE_UI_SCREENSHOTS"]) / "ui-models-actions-desktop.png")

        # Nothing left to roll back to: the refusal is the model store's.
        chromium.find_element(
            By.CSS_SELECTOR, "form[action='/models/digits/rollback'] button"
        ).click()
        error = chromium.find_element(By.CSS_SELECTOR, "p.notice.bad").text
        assert "first stable version" in error
    assert current_labels(serving) == {"stable": 1, "canary": 1}
    last = show_history(serving)[-1]
    assert (last.action, last.reason) == ("rollback", "ui test rollback")
