"""The per-image metadata table the Great Expectations suite runs over.

One row per ingested image (train and eval) and one per quarantined file, so
the suite sees everything that was offered to the pipeline. Derived columns
(class counts, cross-split leakage) are computed here because GX expectations
are per-column: this keeps each check a plain, readable expectation.
"""
from __future__ import annotations

from typing import Iterable, List

import pandas as pd

METADATA_COLUMNS = ("image_id", "label", "label_name", "format", "height",
                    "width", "channels", "byte_size", "content_hash")


def read_metadata(examples_uri: str, split: str) -> pd.DataFrame:
    """Reads the metadata columns (never the pixels) of one split."""
    import tensorflow as tf

    pattern = f"{examples_uri}/Split-{split}/*"
    rows = []
    for record in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern),
                                          compression_type="GZIP"):
        features = tf.train.Example.FromString(record.numpy()).features.feature
        row = {}
        for name in METADATA_COLUMNS:
            feature = features[name]
            values = (feature.int64_list.value if feature.HasField("int64_list")
                      else [v.decode() for v in feature.bytes_list.value])
            row[name] = values[0] if values else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(METADATA_COLUMNS))
    frame["split"] = split
    return frame


def build_table(splits: Iterable[pd.DataFrame],
                quarantined: List[dict]) -> pd.DataFrame:
    images = pd.concat(list(splits), ignore_index=True)
    images["decodable"] = 1
    rejected = pd.DataFrame(
        [{"image_id": q["image_id"], "quarantine_reason": q["reason"],
          "decodable": 0, "split": "quarantined"} for q in quarantined])
    table = pd.concat([images, rejected], ignore_index=True)
    if "quarantine_reason" not in table:
        table["quarantine_reason"] = None

    ingested = table["decodable"] == 1
    counts = table[ingested].groupby("label_name")["image_id"].transform("count")
    table["class_count"] = counts.reindex(table.index)
    smallest = counts.min() if len(counts) else 1
    table["class_count_over_smallest"] = table["class_count"] / max(smallest, 1)

    train_hashes = set(table.loc[table["split"] == "train", "content_hash"])
    table["leaked_into_eval"] = (
        (table["split"] == "eval") & table["content_hash"].isin(train_hashes))
    return table
