"""TFMA configuration: metrics and the blessing thresholds.

The candidate is blessed only if its accuracy clears the absolute bound and
is not worse than the baseline (the model in service: the `stable`
version in the model store) by more than the allowed drop. With no
baseline, the absolute bound alone decides.
Macro precision/recall/F1 are gated the same way when `EvalConfig` sets
their bounds; per-class precision/recall are reported, never gated.
"""
from __future__ import annotations

from typing import Optional

import tensorflow_model_analysis as tfma

from imgpipe_components.evaluate import accuracy_metric
from imgpipe_components.evaluate.names import BASELINE, CANDIDATE
from imgpipe_components.evaluate.settings import EvalConfig


def metric_threshold(lower_bound: Optional[float], max_drop: Optional[float]
                     ) -> Optional[tfma.MetricThreshold]:
    """Absolute lower bound and/or allowed drop vs the baseline; None if
    neither is set."""
    if lower_bound is None and max_drop is None:
        return None
    threshold = tfma.MetricThreshold()
    if lower_bound is not None:
        threshold.value_threshold.CopyFrom(tfma.GenericValueThreshold(
            lower_bound={"value": lower_bound}))
    if max_drop is not None:
        threshold.change_threshold.CopyFrom(tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            # A tiny epsilon: "not worse" must accept an equal model.
            absolute={"value": -(max_drop + 1e-10)}))
    return threshold


# A class counts as predicted when its probability is >= 0.5 (TFMA's
# default threshold). Argmax semantics (`"top_k": 1`) break TFMA 0.47's macro
# aggregation (KeyError on the per-class child keys), so both specs use the
# default to stay consistent; for a trained softmax the two rarely differ.
TOP_1 = ""


def _gated(class_name: str, threshold: Optional[tfma.MetricThreshold],
           config: str = "", module: str = "") -> tfma.MetricConfig:
    if threshold is None:
        return tfma.MetricConfig(class_name=class_name, config=config,
                                 module=module)
    # Thresholds judge the whole eval set; per-class metrics are reported,
    # not gated (a class of 30 images is too noisy).
    return tfma.MetricConfig(
        class_name=class_name, config=config, module=module,
        per_slice_thresholds=[tfma.PerSliceMetricThreshold(
            slicing_specs=[tfma.SlicingSpec()], threshold=threshold)])


def build_eval_config(config: EvalConfig) -> tfma.EvalConfig:
    class_ids = list(range(config.num_classes))
    overall = tfma.MetricsSpec(metrics=[
        tfma.MetricConfig(class_name="ExampleCount"),
        # TFMA-native, not the Keras metric: see accuracy_metric.py.
        _gated("SparseCategoricalAccuracy", metric_threshold(
            config.min_accuracy, config.max_accuracy_drop),
            module=accuracy_metric.__name__),
        tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
    ])
    # Macro averages over equally weighted classes; a separate spec so the
    # thresholds below do not also apply to the per-class sub keys.
    macro = tfma.MetricsSpec(
        metrics=[
            _gated("Precision", metric_threshold(
                config.min_macro_precision, config.max_macro_precision_drop), TOP_1),
            _gated("Recall", metric_threshold(
                config.min_macro_recall, config.max_macro_recall_drop), TOP_1),
            _gated("F1Score", metric_threshold(
                config.min_macro_f1, config.max_macro_f1_drop), TOP_1),
        ],
        aggregate=tfma.AggregationOptions(
            macro_average=True,
            class_weights={i: 1.0 for i in class_ids}))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(name=CANDIDATE,
                                    signature_name="serving_examples",
                                    label_key="label"),
                     tfma.ModelSpec(name=BASELINE, is_baseline=True,
                                    signature_name="serving_examples",
                                    label_key="label")],
        # The overall slice only: per-class counts, precision and recall
        # come from its confusion matrix (results.per_class_from_matrix),
        # which a slice per label would only restate at a cost per example.
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[overall, macro],
        # The model's compiled Keras metrics would each load the model
        # again (accuracy_metric.py); everything we report is listed above.
        options=tfma.Options(include_default_metrics={"value": False}))
