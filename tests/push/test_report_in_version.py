"""The model report travels inside each pushed version (local disk), and
the pipeline runs ModelReport before the Pusher that needs it."""
from __future__ import annotations

import re

from imgpipe_components.push import extras
from imgpipe_components.model_store import versions
from tests.push.harness import REPORT_FILES, model_folder, report_folder, \
    run_push


def test_a_local_push_carries_the_report_with_working_links(tmp_path):
    base = tmp_path / "serving" / "digits"
    model = model_folder(tmp_path / "model" / "1", "a")
    run_push(model, str(base), report_folder(tmp_path / "report" / "3"))
    report = base / "1" / extras.REPORT_DIR
    assert {p.name for p in report.iterdir()} == set(REPORT_FILES)
    page = (report / "report.html").read_text()
    for link in re.findall(r'src="([^":]+)"', page):   # relative links only
        assert (report / link).is_file(), link
    assert (base / "1" / extras.WARMUP_FILE).is_file()
    assert not list(base.glob(".staging-*"))


def test_a_push_without_a_report_still_pushes(tmp_path):
    base = tmp_path / "serving" / "digits"
    run_push(model_folder(tmp_path / "model" / "1", "a"), str(base))
    assert versions.list_versions(str(base)) == [1]
    assert not (base / "1" / extras.REPORT_DIR).exists()


def test_the_pusher_takes_the_report_as_an_input(tmp_path):
    from imgpipe.config import PipelineConfig
    from imgpipe.pipeline import create_pipeline
    from imgpipe.runners.local.layout import LocalLayout

    (tmp_path / "data" / "a").mkdir(parents=True)
    pipeline = create_pipeline(PipelineConfig(), LocalLayout(
        tmp_path / "data", tmp_path / "out").locations("digits"))
    nodes = {node.id: node for node in pipeline.components}
    pusher = nodes["Pusher"]
    assert "ModelReport" in {node.id for node in pusher.upstream_nodes}
    assert pusher.inputs["model_report"].producer_component_id == \
        "ModelReport"
    order = [node.id for node in pipeline.components]
    assert order.index("ModelReport") < order.index("Pusher")
