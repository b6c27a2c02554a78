"""TFMA configuration: metrics and the blessing thresholds.

The candidate is blessed only if its accuracy clears the absolute bound and
is not worse than the baseline (the latest blessed model) by more than the
allowed drop. With no baseline yet, the absolute bound alone decides.
"""
from __future__ import annotations

import tensorflow_model_analysis as tfma

from components.evaluate.names import BASELINE, CANDIDATE
from pipelines.config import EvalConfig




def build_eval_config(config: EvalConfig) -> tfma.EvalConfig:
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(
            lower_bound={"value": config.min_accuracy}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            # A tiny epsilon: "not worse" must accept an equal model.
            absolute={"value": -(config.max_accuracy_drop + 1e-10)}))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(name=CANDIDATE,
                                    signature_name="serving_examples",
                                    label_key="label"),
                     tfma.ModelSpec(name=BASELINE, is_baseline=True,
                                    signature_name="serving_examples",
                                    label_key="label")],
        slicing_specs=[tfma.SlicingSpec(),
                       tfma.SlicingSpec(feature_keys=["label"])],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            # Thresholds judge the whole eval set; per-class slices are
            # reported, not gated (a class of 30 images is too noisy).
            tfma.MetricConfig(
                class_name="SparseCategoricalAccuracy",
                per_slice_thresholds=[tfma.PerSliceMetricThreshold(
                    slicing_specs=[tfma.SlicingSpec()],
                    threshold=accuracy_threshold)]),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ])])
