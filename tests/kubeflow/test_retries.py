"""Retries with back-off and a time limit on every compiled step.

The compiled `retryPolicy` goes through a stand-in for KFP's Argo compiler
and Argo's retry loop (tests/kubeflow/argo_retry.py, modelled on their
sources) to see how many attempts each KFP release really makes; the
settings come from `infra/kubeflow/<env>.yaml` as `compile --config` reads
them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imgpipe.runners.kubeflow.spec_layout import executor_tasks
from tests.kubeflow.argo_retry import attempts_started, compile_retry
from tests.kubeflow.conftest import compile_to

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ((2, 4, 1), (2, 5, 0), (2, 14, 3), (2, 16, 1))


def _platform_executors(compiled) -> dict:
    return compiled.platform["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"]


def test_every_step_has_all_four_retry_fields(compiled):
    for step, task in executor_tasks(compiled.spec).items():
        policy = task["retryPolicy"]
        retry = compiled.kubeflow.retry_for(step)
        assert policy == {
            "maxRetryCount": retry.max_retries,
            "backoffDuration": f"{retry.backoff_s}s",
            "backoffFactor": float(retry.backoff_factor),
            "backoffMaxDuration": f"{retry.backoff_max_s}s"}, step
        assert policy["backoffFactor"].is_integer()


def test_every_attempt_has_a_time_limit(compiled):
    configs = _platform_executors(compiled)
    for step, task in executor_tasks(compiled.spec).items():
        label = compiled.spec["components"][task["componentRef"]["name"]][
            "executorLabel"]
        assert configs[label]["activeDeadlineSeconds"] == str(
            compiled.kubeflow.retry_for(step).timeout_s), step


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: "%d.%d.%d" % r)
def test_each_release_makes_every_attempt_in_full(compiled, release):
    """Every attempt failing at its time limit (plus the start allowance),
    each release still starts them all, none cut short by the window."""
    from imgpipe.runners.kubeflow.settings import START_ALLOWANCE_S

    for step, task in executor_tasks(compiled.spec).items():
        retry = compiled.kubeflow.retry_for(step)
        backoff = compile_retry(task["retryPolicy"], release)
        worst = retry.timeout_s + START_ALLOWANCE_S
        assert attempts_started(backoff, worst) == (
            retry.max_retries + 1, True), step


def test_what_the_source_says_about_missing_fields_and_fractions():
    """Why all four fields and an integer factor: on 2.14+ a policy without
    backoffMaxDuration stops at the first failure, and a factor of 1.5
    errors the node; 2.4.1-2.5 truncated it. Before 2.4.1, no retries."""
    bare = {"maxRetryCount": 3, "backoffDuration": "60s",
            "backoffFactor": 2.0}
    assert attempts_started(compile_retry(bare, (2, 14, 3)), 100) == (
        1, True)
    assert attempts_started(compile_retry(bare, (2, 5, 0)), 100)[0] == 4
    fraction = {**bare, "backoffFactor": 1.5, "backoffMaxDuration": "9999s"}
    with pytest.raises(ValueError, match="1.5"):
        attempts_started(compile_retry(fraction, (2, 16, 1)), 100)
    assert compile_retry(fraction, (2, 5, 0)).factor == "1"
    assert attempts_started(compile_retry(bare, (2, 4, 0)), 100)[0] == 1


@pytest.mark.parametrize("overlay", ("dev", "prod"))
def test_each_environment_sets_its_own(overlay, tmp_path):
    from imgpipe.runners.kubeflow.config_file import load

    _, kubeflow = load(ROOT / "infra/kubeflow" / f"{overlay}.yaml")
    trainer = kubeflow.retry_for("Trainer")
    assert kubeflow.default_retry.max_retries >= 1
    if overlay == "prod":          # spot GPU nodes: several preemptions
        assert trainer.max_retries >= 3 and trainer.backoff_s >= 60
    compiled = compile_to(tmp_path / "env.yaml", default_retry=
                          kubeflow.default_retry, retries=kubeflow.retries)
    policy = executor_tasks(compiled.spec)["Trainer"]["retryPolicy"]
    assert policy["maxRetryCount"] == trainer.max_retries
    assert attempts_started(compile_retry(policy, (2, 16, 1)),
                            trainer.timeout_s)[0] == trainer.max_retries + 1


@pytest.mark.parametrize("retry, refused", [
    ({"backoff_factor": 1.5}, "whole number"),
    ({"timeout_s": 0}, "time limit"),
    ({"max_retries": 2, "timeout_s": 3600, "window_s": 3600},
     "first attempt's start"),
])
def test_settings_argo_would_misread_are_refused(tmp_path, retry, refused):
    from imgpipe.runners.kubeflow.config_file import load
    from imgpipe_components.settings_codec import SettingsError

    path = tmp_path / "kubeflow.yaml"
    path.write_text(yaml.safe_dump({"kubeflow": {"retries": {
        "Trainer": retry}}}))
    with pytest.raises(SettingsError, match=refused):
        load(path)


def test_a_retry_entry_for_an_unknown_step_is_refused(tmp_path):
    from imgpipe.runners.kubeflow.runner import compile_spec
    from imgpipe.runners.kubeflow.settings import StepRetry
    from imgpipe_components.settings_codec import SettingsError

    from tests.kubeflow.conftest import kubeflow_config, pipeline_config
    kubeflow = kubeflow_config(retries=(("Trainr", StepRetry()),))
    with pytest.raises(SettingsError, match="Trainr"):
        compile_spec(pipeline_config(), kubeflow)


def test_the_docs_give_prods_trainer_window():
    from imgpipe.runners.kubeflow.config_file import load

    _, prod = load(ROOT / "infra/kubeflow/prod.yaml")
    text = (ROOT / "docs/kubeflow.md").read_text()
    section = text[text.index("### Retries and time limits"):
                   text.index("## 4. Submit one run")]
    assert f"{prod.retry_for('Trainer').backoff_max_s} s for prod's " \
        "Trainer" in section
