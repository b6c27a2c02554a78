"""`imgpipe ui` in a real headless Chromium, over a real output folder.

The folder (conftest.ui_history) holds five runs made by the real
pipeline: cold, fully cached, retrained (pushed version 2, then promoted),
stopped by the data gate, failed in the Trainer. Expected figures come
from the project's own run summary (runners/local/summary.py), not from
the UI's data layer.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.ui import browser

pytestmark = pytest.mark.e2e

SCREENSHOTS = os.environ.get("IMGPIPE_UI_SCREENSHOTS")


def summary_of(history, label: str):
    from imgpipe.runners.local import run_record
    from imgpipe.runners.local.summary import build_summary
    store = run_record.open_store(str(history.output / "metadata.sqlite"))
    run_id = history.runs[label]
    return build_summary(history.config, run_id,
                         run_record.node_runs(store, run_id))


def shown_pct(value: float) -> str:
    return f"{value * 100:.2f} %"


def css(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_runs_list_shows_every_run_newest_first(ui_history, chromium):
    history, url, _ = ui_history
    chromium.get(url + "/")
    rows = css(chromium, "tr.run")
    order = ["failed", "gate", "retrained", "cached", "cold"]
    assert [r.get_attribute("data-run") for r in rows] == \
        [history.runs[label] for label in order]
    cells = {label: {td.get_attribute("data-label"): td.text
                     for td in row.find_elements(By.TAG_NAME, "td")}
             for label, row in zip(order, rows)}
    assert [cells[label]["State"].splitlines()[0] for label in order] == [
        "failed", "stopped by the data gate", "complete", "nothing new",
        "complete"]
    assert "in Trainer: ValueError: Input size must be at least 32x32" in \
        cells["failed"]["State"]
    for label in ("cold", "cached", "retrained"):
        summary = summary_of(history, label)
        assert cells[label]["Accuracy"] == shown_pct(summary.accuracy)
        assert cells[label]["Blessed"] == "blessed"
    assert cells["cold"]["Steps"] == "13 executed · 0 cached"
    assert cells["cached"]["Steps"].endswith("12 cached")
    assert cells["cold"]["Pushed"] == "v1"
    assert cells["cached"]["Pushed"] == "v1 (earlier run)"
    assert cells["retrained"]["Pushed"] == "v2"
    assert re.match(r"stable \+ canary · (force-)?promoted \d\d-\d\d ",
                    cells["retrained"]["Promotion"])
    assert cells["cold"]["Promotion"].startswith("no label · was stable ")
    assert cells["gate"]["Images"].startswith("660")      # 600 + 60 copies
    assert cells["gate"]["Accuracy"] == "–"


def _seconds(text: str) -> float:
    minutes = re.search(r"(\d+) min", text)
    seconds = re.search(r"([\d.]+) s", text)
    return (60 * int(minutes.group(1)) if minutes else 0) + \
        float(seconds.group(1))


def test_a_running_run_updates_live(ui_history):
    history, _, samples = ui_history
    running = [s for s in samples if s.get("running")]
    assert running, samples
    assert {s["newest"] for s in running} == {history.runs["retrained"]}
    steps = {s["current"].split(" · ")[0] for s in running
             if s["current"] and " · " in s["current"]}
    assert {"Trainer", "Evaluator"} <= steps, steps
    # Within one page load (no reload), the duration keeps growing: the
    # row is updated in place from /api/live.
    by_page = {}
    for sample in running:
        by_page.setdefault(sample["page"], []).append(
            _seconds(sample["seconds"]))
    longest = max(by_page.values(), key=len)
    assert len(longest) >= 5 and longest[-1] > longest[0] + 2, by_page
    assert longest == sorted(longest)
    # Once it ended the page reloaded on its own and shows the outcome.
    assert samples[-1]["running"] is False
    assert samples[-1]["newest"] == history.runs["retrained"]
    assert samples[-1]["newest_state"] == "complete"


def _node_classes(driver) -> dict:
    return {node.find_element(By.CSS_SELECTOR, "text.name").text:
            node.get_attribute("class").split()[1]
            for node in css(driver, "svg.graph a.node")}


def test_run_page_shows_the_graph_and_opens_the_model_report(ui_history,
                                                             chromium):
    history, url, _ = ui_history
    chromium.get(f"{url}/runs/{history.runs['retrained']}")
    nodes = _node_classes(chromium)
    assert nodes["ImageExampleGen"] == "cached"
    assert nodes["Trainer"] == "executed" and nodes["Pusher"] == "executed"
    assert nodes["EdgeExport"] == "not-run"       # off in this run
    assert len(css(chromium, "svg.graph .edges path")) >= len(nodes) - 1
    links = {a.text: a for a in css(chromium, "ul.links a")}
    assert {"Data Docs", "Data gate report", "Training curves",
            "Model report", "Grad-CAM examples"} <= set(links)
    assert links["Grad-CAM examples"].get_attribute("href").endswith(
        "report.html#:~:text=Grad-CAM%20examples")
    epochs = chromium.find_element(By.XPATH, "//details[summary='Trainer']"
                                   "//tr[th='custom_config.epochs']/td")
    assert epochs.text == "4"

    here = chromium.current_window_handle
    links["Model report"].click()
    opened = [h for h in chromium.window_handles if h != here][0]
    chromium.switch_to.window(opened)
    try:
        heading = chromium.find_element(By.TAG_NAME, "h1").text
        assert heading.startswith("Model report")
        assert "Grad-CAM examples" in chromium.page_source
    finally:
        chromium.close()
        chromium.switch_to.window(here)


def test_failed_run_names_the_step_the_exception_and_its_log(ui_history,
                                                            chromium):
    history, url, _ = ui_history
    chromium.get(f"{url}/runs/{history.runs['failed']}")
    failure = chromium.find_element(By.CSS_SELECTOR, "section.failure")
    assert failure.find_element(By.TAG_NAME, "h2").text == \
        "Failed in Trainer"
    assert "ValueError: Input size must be at least 32x32" in failure.text
    assert _node_classes(chromium)["Trainer"] == "failed"
    assert _node_classes(chromium)["Pusher"] == "not-run"
    failure.find_element(By.PARTIAL_LINK_TEXT, ".log").click()
    log = chromium.find_element(By.TAG_NAME, "body").text
    assert "The run failed in Trainer" in log and "Traceback" in log


def test_data_gate_stop_shows_its_findings(ui_history, chromium):
    history, url, _ = ui_history
    chromium.get(f"{url}/runs/{history.runs['gate']}")
    failure = chromium.find_element(By.CSS_SELECTOR, "section.failure")
    assert "Stopped by the data gate" in failure.text
    assert "leaked_into_eval" in failure.text
    nodes = _node_classes(chromium)
    assert nodes["DataGate"] == "failed"
    assert nodes["StatisticsGen"] == "executed"
    assert {nodes[n] for n in ("Augment", "Trainer", "Pusher")} == \
        {"not-run"}


def test_compare_page_shows_both_confusion_matrices(ui_history, chromium):
    history, url, _ = ui_history
    chromium.get(f"{url}/compare?a={history.runs['cold']}"
                 f"&b={history.runs['retrained']}")
    # Until the TFMA worker has read both evaluations the page shows the
    # rest and reloads itself.
    WebDriverWait(chromium, 90).until(
        lambda driver: len(css(driver, "table.confusion")) == 2)
    matrices = css(chromium, "table.confusion")
    for label, matrix in zip(("cold", "retrained"), matrices):
        rows = matrix.find_elements(By.TAG_NAME, "tr")[1:]
        assert len(rows) == 10
        counts = [int(td.text or 0) for row in rows
                  for td in row.find_elements(By.TAG_NAME, "td")]
        assert sum(counts) == summary_of(history, label).eval_examples
    per_class = css(chromium, "table.per-class tbody tr")
    assert len(per_class) == 10
    accuracy = chromium.find_element(
        By.XPATH, "//table[@class='compare']//tr[th='accuracy']").text
    assert f"{summary_of(history, 'cold').accuracy:.4f}" in accuracy
    assert f"{summary_of(history, 'retrained').accuracy:.4f}" in accuracy


def _pages(history) -> dict:
    runs = history.runs
    return {"runs": "/", "run": f"/runs/{runs['retrained']}",
            "run-failed": f"/runs/{runs['failed']}",
            "run-gate": f"/runs/{runs['gate']}",
            "compare": f"/compare?a={runs['cold']}&b={runs['retrained']}",
            "models": "/models"}


@pytest.mark.parametrize("size", [browser.DESKTOP, browser.PHONE],
                         ids=["desktop", "phone"])
def test_pages_fit_the_screen_and_render_within_a_second(ui_history,
                                                         chromium, size):
    history, url, _ = ui_history
    tag = "phone" if size == browser.PHONE else "desktop"
    browser.use_size(chromium, size)
    try:
        for name, path in _pages(history).items():
            chromium.get(url + path)
            fit = chromium.execute_script(
                "return [document.documentElement.scrollWidth, "
                "document.documentElement.clientWidth]")
            assert fit[0] <= fit[1], (name, tag, fit)
            served = chromium.execute_script(
                "var t = performance.getEntriesByType('navigation')[0];"
                "return t.responseEnd - t.requestStart;")
            assert served < 1000, (name, tag, served)
            if SCREENSHOTS:
                Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
                browser.screenshot(chromium, Path(SCREENSHOTS) /
                                   f"ui-{name}-{tag}.png")
    finally:
        browser.use_size(chromium, browser.DESKTOP)
