"""Drift between this span and the previous one, as table columns.

Own comparison rather than TFDV's `drift_comparator`: TFX 1.16's
ExampleValidator takes no previous statistics, and fetching the previous
span's statistics needs an ML Metadata resolver, which open-source Kubeflow
cannot run. ImageExampleGen instead writes the previous span's metadata next
to the examples, and the gate compares the two here. Image size is compared
as the distribution of `HxW` pairs, which is what a resize sees; TFDV would
compare height and width separately over data-dependent histogram buckets.

The measure is the Jensen-Shannon divergence (base 2) that TFDV also uses:
0 for identical distributions, 1 for disjoint ones. The values go into the
metadata table, so the Great Expectations suite bounds them like any other
column and they appear in the Data Docs and the error message.
"""
from __future__ import annotations

from typing import Dict

import pandas as pd

LABEL_DRIFT, SIZE_DRIFT = "label_drift", "size_drift"


def js_divergence(current: pd.Series, reference: pd.Series) -> float:
    """Jensen-Shannon divergence (base 2) of two categorical samples."""
    from scipy.spatial.distance import jensenshannon

    categories = sorted(set(current.dropna()) | set(reference.dropna()))
    if not categories:
        return 0.0
    p = current.value_counts().reindex(categories, fill_value=0).to_numpy()
    q = reference.value_counts().reindex(categories, fill_value=0).to_numpy()
    return float(jensenshannon(p, q, base=2) ** 2)


def image_sizes(frame: pd.DataFrame) -> pd.Series:
    return frame["height"].astype(int).astype(str) + "x" + \
        frame["width"].astype(int).astype(str)


def measure(images: pd.DataFrame, reference: pd.DataFrame) -> Dict[str, float]:
    """{column: divergence} of this span's images from the reference span's."""
    return {LABEL_DRIFT: js_divergence(images["label_name"],
                                       reference["label_name"]),
            SIZE_DRIFT: js_divergence(image_sizes(images),
                                      image_sizes(reference))}
