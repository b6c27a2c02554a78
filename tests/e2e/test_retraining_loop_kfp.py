"""The same retraining loop through the compiled Kubeflow spec.

Every step runs from the compiled package through the container entrypoint,
laid out and sequenced by a stand-in for the KFP v2 backend
(tests/kubeflow/launcher.py); the baseline and the promotion decisions are
checked at each step, as tests/e2e/test_retraining_loop.py does locally.
"""
from __future__ import annotations

import pytest
import yaml

from tests.e2e.test_retraining_loop import loop_config, write_span
from tests.kubeflow.conftest import Compiled
from tests.kubeflow.launcher import run_pipeline

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kfp(tmp_path_factory):
    from imgpipe.runners.kubeflow.runner import compile_pipeline
    from imgpipe.runners.kubeflow.settings import KubeflowConfig
    from imgpipe.digits import write_digits

    work = tmp_path_factory.mktemp("kfp-loop")
    config = loop_config()
    kubeflow = KubeflowConfig(
        pipeline_root=str(work / "root"), data_root=str(work / "data"),
        model_store=str(work / "serving"), gpu_count=0)
    path = work / "imgpipe.yaml"
    compile_pipeline(config, kubeflow, path)
    documents = list(yaml.safe_load_all(path.read_text()))
    compiled = Compiled(path, documents[0],
                        documents[1] if len(documents) > 1 else {},
                        config, kubeflow)
    return compiled, work, write_digits(work / "digits")


def baseline_version(run) -> int:
    model = run.outputs["served_baseline_model"]["model"]
    return int(model["metadata"]["baseline_version"])


def test_the_loop_through_the_compiled_spec(kfp):
    from imgpipe_components.model_store import current_labels, promote, rollback

    compiled, work, digits = kfp
    data, serving = work / "data", work / "serving" / "digits"
    root = work / "root"

    write_span(digits, data / "span-1", slice(0, 20))
    first = run_pipeline(compiled, root, "run-1", {})
    assert set(first.states.values()) == {"COMPLETE"}
    assert baseline_version(first) == 0          # nothing in service yet
    assert current_labels(serving) == {"stable": 1, "canary": 1}
    assert (root / "imgpipe" / "run-1" / "Trainer" / "model").is_dir()

    # Unchanged data: the scheduled run stops after DataCheck.
    again = run_pipeline(compiled, root, "run-2", {})
    assert again.states.pop("DataCheck") == "COMPLETE"
    assert set(again.states.values()) == {"SKIPPED"}

    write_span(digits, data / "span-2", slice(20, 80))
    second = run_pipeline(compiled, root, "run-3", {})
    assert second.states["Trainer"] == "COMPLETE"
    assert baseline_version(second) == 1
    pushed = second.outputs["Pusher"]["pushed_model"]["metadata"]
    assert pushed["pushed_version"] == "2"
    if current_labels(serving)["stable"] != 2:   # the policy said no
        assert "Not promoting" in pushed["promotion"]
        promote(serving, force=True, reason="loop test: promote span 2")
    assert current_labels(serving)["stable"] == 2

    write_span(digits, data / "span-3", slice(20, 80), shuffle_labels=True)
    degraded = run_pipeline(compiled, root, "run-4", {})
    assert baseline_version(degraded) == 2
    assert degraded.outputs["Pusher"]["pushed_model"]["metadata"][
        "pushed"] == 0
    assert current_labels(serving) == {"stable": 2, "canary": 2}

    rollback(serving, reason="loop test")
    after = run_pipeline(compiled, root, "run-5", {})
    assert after.states["Evaluator"] == "COMPLETE"   # the label changed
    assert baseline_version(after) == 1
    assert current_labels(serving) == {"stable": 1, "canary": 1}
