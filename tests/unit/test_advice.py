"""The sentence a user reads when a model is not blessed."""
from __future__ import annotations

from imgpipe.config import (AugmentConfig, EvalConfig, PipelineConfig,
                            TrainConfig)
from imgpipe.runners.local.advice import when_not_blessed


def test_below_the_minimum_names_the_numbers_and_the_options_not_used():
    config = PipelineConfig(augment=AugmentConfig(copies=0),
                            train=TrainConfig(architecture="small_cnn",
                                              epochs=10),
                            evaluation=EvalConfig(min_accuracy=0.9))
    text = when_not_blessed(config, 0.7419, None, 61)
    assert text.startswith("Not served: accuracy 0.7419 is below the "
                           "minimum 0.9.")
    for option in ("--copies 2", "--online-augmentation", "--epochs 20",
                   "--architecture residual_cnn", "the eval split held 61",
                   "--min-accuracy 0.74"):
        assert option in text
    assert "proto" not in text and "{" not in text


def test_options_already_in_use_are_not_suggested_again():
    config = PipelineConfig(augment=AugmentConfig(copies=3),
                            train=TrainConfig(online_augmentation=True,
                                              epochs=40))
    text = when_not_blessed(config, 0.5, None, 20)
    assert "--copies" not in text and "--online-augmentation" not in text
    assert "--epochs 80" in text


def test_a_drop_against_the_model_in_service_says_so():
    config = PipelineConfig(evaluation=EvalConfig(min_accuracy=0.5,
                                                  max_accuracy_drop=0.01))
    text = when_not_blessed(config, 0.93, 0.95, 100)
    assert "0.0200 below its 0.9500" in text and "--max-accuracy-drop" in text


def test_nothing_to_say_without_an_evaluation():
    assert when_not_blessed(PipelineConfig(), None, None, None) == ""
