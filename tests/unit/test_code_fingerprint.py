"""Cache keys follow the code: each node's fingerprint covers the project
modules it runs and what they import, and nothing else.

The pipeline is built once; its nodes are fingerprinted against a copy of
both packages in which one file is edited, as a developer would edit it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imgpipe import code_fingerprint

DOWNSTREAM_OF_AUGMENT = {"Augment"}   # others re-run on its new output


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    from imgpipe.config import EdgeConfig, PipelineConfig
    from imgpipe.pipeline import create_pipeline
    from imgpipe.runners.local.layout import LocalLayout
    root = tmp_path_factory.mktemp("fp")
    layout = LocalLayout(root / "data", root / "out")
    pipeline = create_pipeline(PipelineConfig(edge=EdgeConfig(enabled=True)),
                               layout.locations("digits"))
    return pipeline.components


def fingerprints(nodes, roots: tuple) -> dict:
    return {node.id: code_fingerprint.fingerprint_of(
                frozenset(code_fingerprint.node_modules(node)), roots)
            for node in nodes if code_fingerprint.node_modules(node)}


def edited_copy(tmp_path: Path, relative: str) -> tuple:
    """Copies of both package folders, `relative` (from the folder holding
    them, e.g. `imgpipe/cli/main.py`) edited."""
    copy = tmp_path / relative.replace("/", "-")
    for root in code_fingerprint.ROOTS:
        shutil.copytree(root, copy / root.name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / relative).open("a") as handle:
        handle.write("\n# an edit\n")
    return tuple(copy / root.name for root in code_fingerprint.ROOTS)


def changed(nodes, tmp_path, relative: str) -> set:
    before = fingerprints(nodes, code_fingerprint.ROOTS)
    after = fingerprints(nodes, edited_copy(tmp_path, relative))
    return {node for node in before if before[node] != after[node]}


def test_every_node_running_project_code_is_stamped(nodes):
    stamped = {node.id for node in nodes
               if code_fingerprint.EXEC_PROPERTY in node.exec_properties}
    assert stamped == {"ImageExampleGen", "DataGate", "Augment", "Transform",
                       "Trainer", "Evaluator", "EdgeExport", "ModelReport",
                       "Pusher"}


def test_an_augment_op_edit_changes_augment_and_not_ingestion(nodes,
                                                              tmp_path):
    assert changed(nodes, tmp_path, "imgpipe_components/augment/ops.py") == \
        DOWNSTREAM_OF_AUGMENT


def test_a_server_edit_changes_no_pipeline_component(nodes, tmp_path):
    assert changed(nodes, tmp_path, "imgpipe/serving/app.py") == set()
    assert changed(nodes, tmp_path, "imgpipe/cli/main.py") == set()


def test_a_preprocessing_edit_reaches_transform_and_the_trainer(nodes,
                                                                tmp_path):
    # The Trainer imports the decode function into the serving signatures.
    assert {"Transform", "Trainer"} <= changed(
        nodes, tmp_path, "imgpipe_components/transform/preprocessing.py")


def test_function_level_imports_count(nodes, tmp_path):
    """DataGate imports its gate inside the component function (to keep
    Great Expectations out of start-up); an edit there still counts."""
    assert "DataGate" in changed(nodes, tmp_path,
                                 "imgpipe_components/data_gate/suite.py")
