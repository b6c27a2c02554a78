"""The per-image metadata table the Great Expectations suite runs over.

One row per ingested image (train and eval) and one per quarantined file, so
the suite sees everything that was offered to the pipeline. Derived columns
(class counts, cross-split leakage, drift from the previous span) are
computed here because GX expectations are per-column: this keeps each check a
plain, readable expectation.
"""
from __future__ import annotations

from typing import Iterable, List, Optional

import pandas as pd

from imgpipe_components.data_gate import drift
from imgpipe_components.image_example_gen.tfrecords import CONTRACT

METADATA_COLUMNS = ("image_id", "label", "label_name", "format", "height",
                    "width", "channels", "byte_size", "content_hash")
# Integer columns, as the raw contract ExampleGen checks declares them.
INT_COLUMNS = tuple(name for name in METADATA_COLUMNS
                    if CONTRACT[name] == "int64_list")
PARSE_BATCH = 1024


def read_metadata(examples_uri: str, split: str) -> pd.DataFrame:
    """Reads the metadata columns (never the pixels) of one split.

    Parsed by TensorFlow in batches, not one Python proto per image, so the
    image bytes never reach Python, which saves most of the time, the more
    the larger the images. ExampleGen checked every record against the raw
    contract (feature kinds); a feature an example lacks becomes None."""
    import tensorflow as tf

    spec = {name: tf.io.RaggedFeature(
                tf.int64 if name in INT_COLUMNS else tf.string)
            for name in METADATA_COLUMNS}
    files = tf.io.gfile.glob(f"{examples_uri}/Split-{split}/*")
    columns: dict = {name: [] for name in METADATA_COLUMNS}
    if files:
        batches = tf.data.TFRecordDataset(files, compression_type="GZIP") \
            .batch(PARSE_BATCH).map(lambda s: tf.io.parse_example(s, spec))
        for batch in batches:
            for name, values in batch.items():
                columns[name] += _first_values(values, name in INT_COLUMNS)
    frame = pd.DataFrame(columns, columns=list(METADATA_COLUMNS))
    frame["split"] = split
    return frame


def _first_values(ragged, is_int: bool) -> list:
    """Each row's first value (decoded text for strings), None if empty."""
    values = ragged.values.numpy()
    starts = ragged.row_starts().numpy()
    lengths = ragged.row_lengths().numpy()
    return [None if length == 0 else
            int(values[start]) if is_int else values[start].decode()
            for start, length in zip(starts, lengths)]


def build_table(splits: Iterable[pd.DataFrame], quarantined: List[dict],
                reference: Optional[List[dict]] = None) -> pd.DataFrame:
    """`reference`: the previous span's metadata rows, when there is one."""
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
    if reference:
        for column, value in drift.measure(images,
                                           pd.DataFrame(reference)).items():
            # The same value on every ingested row: GX bounds its maximum.
            table[column] = pd.Series(value, index=table.index).where(ingested)
    return table


def has_drift_columns(table: pd.DataFrame) -> bool:
    return drift.LABEL_DRIFT in table
