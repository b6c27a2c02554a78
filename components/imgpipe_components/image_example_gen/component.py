"""ImageExampleGen: a FileBasedExampleGen for labelled images.

Formats (class folders, CIFAR-10 batches, a CSV manifest, raw-contract
TFRecords), locations (local, gs://) and spans: see docs/ingestion.md.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from google.protobuf import struct_pb2
from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from imgpipe_components.image_example_gen import executor, formats, spans
from imgpipe_components.image_example_gen.driver import ReadableFilesDriver
from imgpipe_components.image_example_gen.names import UNLABELLED_EXAMPLE_GEN
from imgpipe_components.storage import files as storage
from imgpipe_components.image_example_gen.settings import IngestConfig
from imgpipe_components.settings_codec import to_json


def _custom_config(values: dict) -> example_gen_pb2.CustomConfig:
    struct = struct_pb2.Struct()
    struct.update(values)
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(struct)
    return config


def input_pattern(ingest: IngestConfig, unlabelled: bool = False) -> str:
    """`<span folder pattern>/<format glob>`: what the driver resolves spans
    in and fingerprints (path, size, mtime of each match) for caching.

    With `format="auto"` the glob covers every format's files; a runner that
    wants the precise glob detects the format first (`detect_format`): the
    pipeline factory itself reads nothing."""
    fmt = (formats.UNLABELLED if unlabelled
           else None if ingest.format == "auto" else ingest.format)
    glob = formats.input_glob(fmt, ingest.manifest_name)
    return f"{ingest.span_pattern}/{glob}" if ingest.span_pattern else glob


def detect_format(data_root: str, ingest: IngestConfig) -> IngestConfig:
    """`ingest` with the format of a concrete data root in place of "auto",
    for a precise fingerprint; unchanged when the root cannot be listed (the
    executor detects again either way). For runners, before they build the
    pipeline."""
    if ingest.format != "auto":
        return ingest
    try:
        listing = storage.list_tree(data_root,
                                    storage.RetrySettings.from_ingest(ingest))
        choice = spans.choose(ingest.span_pattern, listing.dirs)
    except (storage.StorageError, ValueError):
        return ingest
    current = listing.under(choice.folder) if choice.folder else listing
    detected = formats.detect(current, ingest.manifest_name)
    return dataclasses.replace(ingest, format=detected) if detected else ingest


class ImageExampleGen(FileBasedExampleGen):
    """FileBasedExampleGen whose driver survives unreadable files
    (driver.py); the executor quarantines them."""
    DRIVER_CLASS = ReadableFilesDriver


def image_example_gen(input_base: Any, max_pixels: int,
                      ingest: IngestConfig = IngestConfig(),
                      unlabelled: bool = False) -> ImageExampleGen:
    """Deterministic splits: the bucket is a hash of `image_id` alone, so
    re-ingesting the same files gives the same split whatever their order.
    With `unlabelled`, the UnlabelledExampleGen: the images in the
    `unlabelled/` folder of the same data root (and span), for pretraining,
    read and quarantined the same way."""
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(
                    name="train", hash_buckets=ingest.train_buckets),
                example_gen_pb2.SplitConfig.Split(
                    name="eval", hash_buckets=ingest.eval_buckets),
            ],
            partition_feature_name="image_id"))
    return ImageExampleGen(
        input_base=input_base,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(
                name="images", pattern=input_pattern(ingest, unlabelled))]),
        output_config=output_config,
        custom_config=_custom_config({
            executor.MAX_PIXELS_KEY: max_pixels,
            executor.INGEST_KEY: to_json(ingest),
            **({executor.UNLABELLED_KEY: True} if unlabelled else {})}),
        custom_executor_spec=executor_spec.BeamExecutorSpec(executor.Executor),
    ).with_id(UNLABELLED_EXAMPLE_GEN if unlabelled else "ImageExampleGen")
