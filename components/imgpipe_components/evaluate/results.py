"""The one reader of the Evaluator's TFMA output, into plain dicts.

Used by the model report, the Pusher's evaluation record and the run
summary; with no baseline TFMA evaluates one unnamed model, which
`load_results` hides from its callers.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from imgpipe_components.evaluate.names import ACCURACY, BASELINE, CANDIDATE

# Metrics on the overall slice shown candidate vs baseline, by report name.
MACRO = "macro_average"


def _load(uri: str, model_name: Optional[str]):
    import tensorflow_model_analysis as tfma
    try:
        return tfma.load_eval_result(uri, model_name=model_name)
    except (ValueError, KeyError, OSError):
        return None


def _with_metrics(result):
    """None for a result of a model that was not evaluated (TFMA returns an
    empty result for an unknown model name)."""
    return result if result is not None and result.slicing_metrics else None


def load_results(uri: str):
    """(candidate result, baseline result or None). With no baseline TFMA
    evaluates one unnamed model."""
    candidate = (_with_metrics(_load(uri, CANDIDATE))
                 or _with_metrics(_load(uri, None)))
    return candidate, _with_metrics(_load(uri, BASELINE))


def overall_figures(uri: str) -> Dict[str, Optional[float]]:
    """Candidate accuracy and example count, and the baseline's accuracy,
    on the overall slice ({} values are None when not evaluated)."""
    candidate, baseline = load_results(uri)
    cand = flat_metrics(candidate).get("", {})
    count = cand.get("example_count")
    return {"accuracy": cand.get(ACCURACY),
            "example_count": int(count) if count is not None else None,
            "baseline_accuracy": flat_metrics(baseline).get("", {}).get(
                ACCURACY)}


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def threshold_failures(uri: str) -> List[str]:
    """Each failed threshold of the Evaluator's validation as a plain
    sentence with the numbers, e.g. "accuracy 0.7419 is below the minimum
    0.9000" or "accuracy 0.9300 is 0.0200 below the model in service's
    0.9500 (at most 0.0100 allowed)"."""
    import tensorflow_model_analysis as tfma

    candidate_result, baseline_result = load_results(uri)
    candidate = flat_metrics(candidate_result).get("", {})
    baseline = flat_metrics(baseline_result).get("", {})
    failures = []
    for per_slice in tfma.load_validation_result(uri) \
            .metric_validations_per_slice:
        for failure in per_slice.failures:
            name = failure.metric_key.name
            if failure.metric_key.aggregation_type.macro_average:
                name = "macro_" + name      # as metric_name() names it
            failures.append(_failure_sentence(
                READABLE_NAMES.get(name, name), failure,
                candidate.get(name), baseline.get(name)))
    return failures


# What a person calls the gated metrics.
READABLE_NAMES = {"sparse_categorical_accuracy": "accuracy",
                  "macro_precision": "macro precision",
                  "macro_recall": "macro recall",
                  "macro_f1_score": "macro F1"}


def _failure_sentence(name: str, failure, candidate: Optional[float],
                      baseline: Optional[float]) -> str:
    threshold = failure.metric_threshold
    if failure.metric_key.is_diff and threshold.HasField("change_threshold"):
        allowed = -threshold.change_threshold.absolute.value
        drop = -failure.metric_value.double_value.value
        return (f"{name} {_fmt(candidate)} is {drop:.4f} below the model "
                f"in service's {_fmt(baseline)} (at most {allowed:.4f} "
                "allowed)")
    bound = threshold.value_threshold
    if bound.HasField("lower_bound"):
        return (f"{name} {_fmt(candidate)} is below the minimum "
                f"{bound.lower_bound.value:.4f}")
    return (f"{name} {_fmt(candidate)} is above the maximum "
            f"{bound.upper_bound.value:.4f}")


def metric_name(raw: str) -> str:
    """TFMA names macro averages "macro_average: true\n_precision"; the
    report calls them macro_precision."""
    if MACRO in raw:
        return "macro_" + raw.split("\n")[-1].lstrip("_")
    return raw


def _value(entry) -> Optional[float]:
    if isinstance(entry, dict):
        value = entry.get("doubleValue")
        if value is None and "boundedValue" in entry:
            value = entry["boundedValue"].get("value")
        return float(value) if value is not None else None
    return None


def flat_metrics(result, slice_key: Tuple = ()) -> Dict[str, Dict[str, float]]:
    """{sub_key: {metric: value}} of one slice ("" = no sub key)."""
    if result is None:
        return {}
    for key, metrics in result.slicing_metrics:
        if key == slice_key:
            by_output = metrics.get("", {})
            return {sub: {metric_name(name): v
                          for name, raw in values.items()
                          if (v := _value(raw)) is not None}
                    for sub, values in by_output.items()}
    return {}


def overall_metrics(candidate, baseline) -> Dict[str, Dict[str, Optional[float]]]:
    """metric -> {"candidate", "baseline"} on the overall slice, sub key ""
    (accuracy, example count, macro precision/recall/F1)."""
    cand = flat_metrics(candidate).get("", {})
    base = flat_metrics(baseline).get("", {})
    return {name: {"candidate": value, "baseline": base.get(name)}
            for name, value in cand.items() if "diff" not in name}


def per_class_rows(candidate, class_names: Sequence[str] = ()
                   ) -> List[dict]:
    """Per class, from the overall slice's confusion matrix: the numbers
    the matrix beside them shows (see `per_class_from_matrix`)."""
    return per_class_from_matrix(confusion_matrix(candidate), class_names)


def per_class_from_matrix(matrix: Sequence[Sequence[float]],
                          class_names: Sequence[str] = ()) -> List[dict]:
    """class_id, class_name, count (the class's row: its eval images),
    precision and recall of the arg-max prediction (the diagonal over the
    column and over the row). Not TFMA's binarised per-class metrics: those
    threshold each class's probability at 0.5, so an unconfident model
    reports a recall the confusion matrix contradicts. None where a class
    has no images or is never predicted."""
    rows = []
    for class_id, row in enumerate(matrix):
        hits, images = row[class_id], sum(row)
        predicted = sum(other[class_id] for other in matrix)
        rows.append({
            "class_id": class_id,
            "class_name": (class_names[class_id]
                           if class_id < len(class_names) else str(class_id)),
            "count": int(images),
            "precision": hits / predicted if predicted else None,
            "recall": hits / images if images else None})
    return rows


def confusion_matrix(candidate) -> List[List[float]]:
    """Counts, rows actual and columns predicted, from the overall slice's
    MultiClassConfusionMatrixPlot."""
    if candidate is None:
        return []
    for key, plots in candidate.plots:
        if key != ():
            continue
        plot = plots.get("", {}).get("", {}).get(
            "multiClassConfusionMatrixAtThresholds", {})
        matrices = plot.get("matrices", [])
        if not matrices:
            return []
        entries = matrices[0].get("entries", [])
        n = 1 + max(max(e.get("actualClassId", 0), e.get("predictedClassId", 0))
                    for e in entries) if entries else 0
        matrix = [[0.0] * n for _ in range(n)]
        for e in entries:
            matrix[e.get("actualClassId", 0)][e.get("predictedClassId", 0)] = (
                float(e.get("numWeightedExamples", 0.0)))
        return matrix
    return []


def gated_thresholds(result) -> Dict[str, Tuple[Optional[float], Optional[float]]]:
    """metric name -> (lower bound, allowed drop) of the overall-slice
    thresholds in the eval config the Evaluator used."""
    from tensorflow_model_analysis.metrics import metric_specs
    if result is None or result.config is None:
        return {}
    gated = {}
    for spec in result.config.metrics_specs:
        for config in spec.metrics:
            thresholds = [t.threshold for t in config.per_slice_thresholds]
            if config.HasField("threshold"):
                thresholds.append(config.threshold)
            if not thresholds:
                continue
            name = metric_specs.metric_instance(config).name
            if spec.aggregate.macro_average:
                name = "macro_" + name
            lower = drop = None
            for t in thresholds:
                if t.HasField("value_threshold") and t.value_threshold.HasField(
                        "lower_bound"):
                    lower = t.value_threshold.lower_bound.value
                if t.HasField("change_threshold") and t.change_threshold.HasField(
                        "absolute"):
                    drop = round(-t.change_threshold.absolute.value, 8)
            gated[name] = (lower, drop)
    return gated


# -- Per-slice scalars and the confusion matrix straight from TFMA's
# -- metrics/plots records (no eval_config needed): the KFP UI's metrics.

def _is_overall(slice_key) -> bool:
    return not slice_key.single_slice_keys


def evaluation_metrics(evaluation_uri: str, class_names: List[str],
                       model_name: str = CANDIDATE) -> Dict[str, float]:
    """Overall and per-class scalars of one model from TFMA's output:
    `accuracy`, `macro_f1_score`, and `precision[cat]`, `recall[cat]` from
    the confusion matrix (`per_class_from_matrix`)."""
    from tensorflow_model_analysis.writers.metrics_plots_and_validations_writer \
        import load_and_deserialize_metrics

    result: Dict[str, float] = {}
    for per_slice in load_and_deserialize_metrics(evaluation_uri):
        if not _is_overall(per_slice.slice_key):
            continue
        for entry in per_slice.metric_keys_and_values:
            key = entry.key
            if key.model_name not in (model_name, "") or key.is_diff:
                continue
            name = key.name
            if key.aggregation_type.macro_average:
                name = f"macro_{name}"
            if key.sub_key.ByteSize():
                continue     # per-class numbers come from the matrix below
            if entry.value.HasField("double_value"):
                result[name] = round(entry.value.double_value.value, 6)
    for row in per_class_from_matrix(
            _overall_matrix(evaluation_uri, len(class_names), model_name),
            class_names):
        for metric in ("precision", "recall"):
            if row[metric] is not None:
                result[f"{metric}[{row['class_name']}]"] = round(
                    row[metric], 6)
    return result


def kfp_confusion_matrix(evaluation_uri: str, class_names: List[str],
                         model_name: str = CANDIDATE) -> dict:
    """KFP's ClassificationMetrics metadata from TFMA's confusion matrix."""
    rows = _overall_matrix(evaluation_uri, len(class_names), model_name)
    return {"confusionMatrix": {
        "annotationSpecs": [{"displayName": name} for name in class_names],
        "rows": [{"row": row} for row in rows]}}


def _overall_matrix(evaluation_uri: str, size: int, model_name: str
                    ) -> List[List[int]]:
    """The overall slice's confusion matrix of one model, read from TFMA's
    plots records: rows actual, columns predicted (arg-max)."""
    from tensorflow_model_analysis.writers.metrics_plots_and_validations_writer \
        import load_and_deserialize_plots

    rows = [[0] * size for _ in range(size)]
    for per_slice in load_and_deserialize_plots(evaluation_uri):
        if not _is_overall(per_slice.slice_key):
            continue
        for entry in per_slice.plot_keys_and_values:
            if entry.key.model_name not in (model_name, ""):
                continue
            matrices = sorted(
                entry.value.multi_class_confusion_matrix_at_thresholds.matrices,
                key=lambda matrix: matrix.threshold)
            # At the lowest threshold (0 by default) the prediction is the
            # arg-max class; -1 would mean "no class above the threshold".
            for cell in matrices[0].entries if matrices else []:
                if 0 <= cell.actual_class_id < size and \
                        0 <= cell.predicted_class_id < size:
                    rows[cell.actual_class_id][cell.predicted_class_id] = int(
                        cell.num_weighted_examples)
    return rows
