"""The per-image metadata table the Great Expectations suite runs over.

One row per ingested image (train and eval) and one per quarantined file, so
the suite sees everything that was offered to the pipeline. Derived columns
(shared content: label conflicts, duplicates, cross-split leakage; drift from
the previous span; class counts after the exclusions) are computed here
because GX expectations are per-column: this keeps each check a plain,
readable expectation.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

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
    _same_content(table)
    if reference:
        ingested = table["decodable"] == 1
        for column, value in drift.measure(images,
                                           pd.DataFrame(reference)).items():
            # The same value on every ingested row: GX bounds its maximum.
            table[column] = pd.Series(value, index=table.index).where(ingested)
    return table


def _same_content(table: pd.DataFrame) -> None:
    """Columns naming, for an image whose content (`content_hash`) another
    image shares, the others; empty (None) for every other row:

    * `label_conflict`: the content is under more than one class; every
      copy names the copies in the other classes.
    * `duplicate_of` / `leaked_into_eval`: the content is in one class only.
      One copy is kept (a train copy if there is one, then the first by id);
      the others name it, as `leaked_into_eval` when they sit in eval and the
      kept copy in train, as `duplicate_of` otherwise.
    """
    for column in ("label_conflict", "duplicate_of", "leaked_into_eval"):
        table[column] = None
    ingested = table[table["decodable"] == 1]
    classes = ingested.groupby("content_hash")["label_name"] \
        .transform("nunique")
    for _, group in ingested[classes > 1].groupby("content_hash"):
        for index, name in group["label_name"].items():
            others = group[group["label_name"] != name]
            table.at[index, "label_conflict"] = "; ".join(
                f"{', '.join(sorted(ids))} in class {other}"
                for other, ids in others.groupby("label_name")["image_id"])
    single = ingested[classes == 1]
    ordered = single.assign(_eval_first=single["split"] != "train") \
        .sort_values(["_eval_first", "image_id"])
    kept = ordered.groupby("content_hash")[["image_id", "split"]] \
        .transform("first")
    copy = ordered["image_id"] != kept["image_id"]
    leak = copy & (ordered["split"] == "eval") & (kept["split"] == "train")
    table["duplicate_of"] = kept["image_id"].where(copy & ~leak)
    table["leaked_into_eval"] = kept["image_id"].where(leak)


def after_exclusion(table: pd.DataFrame, excluded: Dict[str, str]
                    ) -> pd.DataFrame:
    """The table for the data-set checks, given {image_id: check} of the
    excluded images: `kept` (1 for an ingested image not excluded),
    `excluded` (1 for an image excluded for a defect; a redundant copy in its
    own class is not counted) and the class counts over the kept images."""
    table = table.copy()
    check = table["image_id"].map(excluded)
    table["kept"] = ((table["decodable"] == 1) & check.isna()).astype(int)
    table["excluded"] = (check.notna() & (check != "duplicate_of")).astype(int)
    kept = table["kept"] == 1
    counts = table[kept].groupby("label_name")["image_id"].transform("count")
    table["class_count"] = counts.reindex(table.index)
    smallest = counts.min() if len(counts) else 1
    table["class_count_over_smallest"] = table["class_count"] / max(smallest, 1)
    return table


def has_drift_columns(table: pd.DataFrame) -> bool:
    return drift.LABEL_DRIFT in table
