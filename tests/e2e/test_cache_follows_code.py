"""A code change re-runs the component it touches and what consumes its
output, and nothing upstream: checked in ML Metadata on a real re-run.

The edit is simulated at the one place code reaches the cache key
(`code_fingerprint.fingerprint_of`): Augment's fingerprint changes as an
edit of components/imgpipe_components/augment/ops.py changes it (tests/unit/
test_code_fingerprint.py shows that edit changes exactly that node).
"""
from __future__ import annotations

import shutil

UPSTREAM = {"ImageExampleGen", "StatisticsGen", "SchemaGen",
            "ExampleValidator", "DataGate"}
DOWNSTREAM = {"Augment", "Transform", "Trainer", "Evaluator", "ModelReport",
              "Pusher"}


def test_an_augment_edit_reruns_augment_and_downstream_only(
        pipeline_run, tmp_path, monkeypatch):
    from imgpipe import code_fingerprint
    from imgpipe.runners.local.layout import LocalLayout
    from imgpipe.runners.local.runner import run_pipeline

    original = code_fingerprint.fingerprint_of

    def edited(modules, roots=code_fingerprint.ROOTS):
        value = original(modules, roots)
        if "imgpipe_components.augment.component" in modules:
            return value[:-4] + "edit"
        return value

    monkeypatch.setattr(code_fingerprint, "fingerprint_of", edited)
    output = tmp_path / "output"
    shutil.copytree(pipeline_run.layout.output_root, output)
    layout = LocalLayout(pipeline_run.layout.data_root, output)

    summary = run_pipeline(pipeline_run.config, layout)

    states = {node.node_id: node.state for node in summary.nodes}
    assert {node: states[node] for node in UPSTREAM} == \
        {node: "CACHED" for node in UPSTREAM}
    assert {node: states[node] for node in DOWNSTREAM} == \
        {node: "COMPLETE" for node in DOWNSTREAM}
