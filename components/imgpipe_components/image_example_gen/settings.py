"""Settings of ImageExampleGen: where and how the images are read and split."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from imgpipe_components.settings_codec import check

FORMATS = ("auto", "folders", "cifar", "csv", "tfrecord")


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    """How ImageExampleGen finds and reads the data (docs/ingestion.md)."""
    format: str = "auto"               # auto | folders | cifar | csv | tfrecord
    # train:eval = 8:2 by a hash of image_id: the same file always lands in
    # the same split, whatever else the folder holds.
    train_buckets: int = 8
    eval_buckets: int = 2
    # Folder of each span under the data root, e.g. "span-{SPAN}"; the run
    # ingests the latest span and compares it with the one before. "" = none.
    span_pattern: str = ""
    manifest_name: str = "manifest.csv"    # csv format: `path,label` rows
    # Class names for csv/tfrecord data without a labels.txt beside it.
    class_names: Tuple[str, ...] = ()
    # gs:// requests: per-request timeout, then retries with back-off on
    # transient errors (429, 5xx, dropped connections) until the deadline.
    gcs_timeout_s: float = 60.0
    gcs_retry_initial_s: float = 1.0
    gcs_retry_max_s: float = 30.0
    gcs_retry_multiplier: float = 2.0
    gcs_retry_deadline_s: float = 300.0
    # Concurrent downloads per Beam worker for gs:// input (latency-bound).
    gcs_read_threads: int = 4    # measured: benchmarks/results/ingest.md

    def __post_init__(self) -> None:
        check(self.format in FORMATS, "ingest.format", self.format,
              " | ".join(FORMATS))
        check(self.train_buckets > 0 and self.eval_buckets > 0,
              "ingest.train_buckets/eval_buckets",
              (self.train_buckets, self.eval_buckets), "both > 0")
        check(not self.span_pattern or "{SPAN}" in self.span_pattern,
              "ingest.span_pattern", self.span_pattern,
              'empty or a folder pattern holding "{SPAN}"')
        check(self.gcs_retry_deadline_s > 0 and self.gcs_timeout_s > 0,
              "ingest.gcs_timeout_s/gcs_retry_deadline_s",
              (self.gcs_timeout_s, self.gcs_retry_deadline_s), "> 0")
        check(self.gcs_read_threads >= 1, "ingest.gcs_read_threads",
              self.gcs_read_threads, ">= 1")
