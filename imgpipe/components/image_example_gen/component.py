"""ImageExampleGen: a FileBasedExampleGen for labelled images.

Formats (class folders, CIFAR-10 batches, a CSV manifest, raw-contract
TFRecords), locations (local, gs://) and spans: see docs/ingestion.md.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

from google.protobuf import struct_pb2
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from imgpipe.components.image_example_gen import executor, formats, spans
from imgpipe.storage import files as storage
from imgpipe.config import IngestConfig


def _custom_config(values: dict) -> example_gen_pb2.CustomConfig:
    struct = struct_pb2.Struct()
    struct.update(values)
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(struct)
    return config


def input_pattern(input_base: Any, ingest: IngestConfig) -> str:
    """`<span folder pattern>/<format glob>`: what the driver resolves spans
    in and fingerprints (path, size, mtime of each match) for caching."""
    fmt = ingest.format
    if fmt == "auto":
        fmt = _detect_now(input_base, ingest)
    glob = formats.input_glob(fmt, ingest.manifest_name)
    return f"{ingest.span_pattern}/{glob}" if ingest.span_pattern else glob


def _detect_now(input_base: Any, ingest: IngestConfig) -> Optional[str]:
    """The format of a concrete data root, for a precise fingerprint; None
    (fingerprint everything at the top) when the root is a run parameter or
    cannot be listed yet. The executor detects again either way."""
    if not isinstance(input_base, str):
        return None
    try:
        listing = storage.list_tree(input_base,
                                    storage.RetrySettings.from_ingest(ingest))
        choice = spans.choose(ingest.span_pattern, listing.dirs)
    except (storage.StorageError, ValueError):
        return None
    current = listing.under(choice.folder) if choice.folder else listing
    return formats.detect(current, ingest.manifest_name)


def image_example_gen(input_base: Any, train_buckets: int, eval_buckets: int,
                      max_pixels: int, ingest: IngestConfig = IngestConfig()
                      ) -> FileBasedExampleGen:
    """Deterministic splits: the bucket is a hash of `image_id` alone, so
    re-ingesting the same files gives the same split whatever their order."""
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train",
                                                  hash_buckets=train_buckets),
                example_gen_pb2.SplitConfig.Split(name="eval",
                                                  hash_buckets=eval_buckets),
            ],
            partition_feature_name="image_id"))
    return FileBasedExampleGen(
        input_base=input_base,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(
                name="images", pattern=input_pattern(input_base, ingest))]),
        output_config=output_config,
        custom_config=_custom_config({
            executor.MAX_PIXELS_KEY: max_pixels,
            executor.INGEST_KEY: json.dumps(dataclasses.asdict(ingest),
                                            sort_keys=True)}),
        custom_executor_spec=executor_spec.BeamExecutorSpec(executor.Executor),
    ).with_id("ImageExampleGen")
