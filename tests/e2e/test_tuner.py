"""The KerasTuner search over the pipeline's own examples and Transform graph."""
from __future__ import annotations

import dataclasses

import pytest

pytestmark = pytest.mark.e2e


def test_tuner_search_finds_hyperparameters_the_trainer_applies(
        pipeline_run, tmp_path):
    from tfx.components.trainer.fn_args_utils import FnArgs

    from imgpipe_components.train.hyperparameters import apply_hyperparameters
    from imgpipe_components.tune.tuner_module import tuner_fn
    from imgpipe.pipeline import trainer_custom_config

    outputs = {n.node_id: n.outputs for n in pipeline_run.first.nodes}
    transform = outputs["Transform"]
    examples = outputs["Augment"]["augmented_examples"][0].uri
    config = dataclasses.replace(
        pipeline_run.config, train=dataclasses.replace(
            pipeline_run.config.train, tune_trials=2, tune_epochs=1,
            tune_algorithm="bayesian"))
    custom = trainer_custom_config(config)
    result = tuner_fn(FnArgs(
        train_files=[f"{examples}/Split-train/*"],
        eval_files=[f"{examples}/Split-eval/*"],
        transform_output=transform["transform_graph"][0].uri,
        working_dir=str(tmp_path), custom_config=custom))
    result.tuner.search(**result.fit_kwargs)

    best = result.tuner.get_best_hyperparameters(1)[0]
    assert 3e-4 <= best.get("learning_rate") <= 3e-3
    assert len(result.tuner.oracle.trials) == 2
    tuned = apply_hyperparameters(config.train, best.get_config())
    assert tuned.learning_rate == best.get("learning_rate")
    assert tuned.dropout == best.get("dropout")
    assert tuned.architecture == config.train.architecture
    assert apply_hyperparameters(config.train, None) is config.train
