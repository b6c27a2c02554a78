"""Top-1 accuracy as a TFMA-native metric.

TFMA computes Keras metrics (`SparseCategoricalAccuracy` by class name, and
the model's compiled metrics) in combiners that each load their own copy of
the SavedModel, bypassing the shared model handle (TFMA 0.47,
evaluators/keras_util.py, "b/179500321"): six extra loads per model, most
of the Evaluator's time on a small data set. This combiner
computes the same number, argmax(prediction) == label, from the predictions
TFMA already has, under the same metric name, so thresholds, reports and
promotion read it unchanged.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.proto import config_pb2

from imgpipe_components.evaluate.names import ACCURACY


class SparseCategoricalAccuracy(metric_types.Metric):
    """Share of examples whose highest-probability class is the label."""

    def __init__(self, name: str = ACCURACY):
        super().__init__(
            metric_util.merge_per_key_computations(_computations), name=name)


metric_types.register_metric(SparseCategoricalAccuracy)


def _computations(name: str = ACCURACY,
                  eval_config: Optional[config_pb2.EvalConfig] = None,
                  model_name: str = "", output_name: str = "",
                  sub_key: Optional[metric_types.SubKey] = None,
                  example_weighted: bool = False, **_
                  ) -> metric_types.MetricComputations:
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name,
        sub_key=sub_key, example_weighted=example_weighted)
    return [metric_types.MetricComputation(
        keys=[key], preprocessors=None,
        combiner=_Combiner(key, eval_config, example_weighted))]


class _Combiner(beam.CombineFn):
    """Accumulates [weighted correct, weighted total]."""

    def __init__(self, key: metric_types.MetricKey,
                 eval_config: Optional[config_pb2.EvalConfig],
                 example_weighted: bool):
        self._key = key
        self._eval_config = eval_config
        self._example_weighted = example_weighted

    def create_accumulator(self) -> List[float]:
        return [0.0, 0.0]

    def add_input(self, accumulator: List[float],
                  element: metric_types.StandardMetricInputs) -> List[float]:
        for label, prediction, weight in (
                metric_util.to_label_prediction_example_weight(
                    element, eval_config=self._eval_config,
                    model_name=self._key.model_name,
                    output_name=self._key.output_name,
                    example_weighted=self._example_weighted,
                    flatten=False, squeeze=False)):
            weight = float(np.sum(weight))
            correct = int(np.argmax(prediction)) == int(np.ravel(label)[0])
            accumulator[0] += weight * correct
            accumulator[1] += weight
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[List[float]]
                           ) -> List[float]:
        merged = self.create_accumulator()
        for correct, total in accumulators:
            merged[0] += correct
            merged[1] += total
        return merged

    def extract_output(self, accumulator: List[float]
                       ) -> Dict[metric_types.MetricKey, float]:
        correct, total = accumulator
        return {self._key: correct / total if total else float("nan")}
