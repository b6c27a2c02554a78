"""ImageExampleGen: a FileBasedExampleGen for a tree of class folders."""
from __future__ import annotations

from tfx.components import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from google.protobuf import struct_pb2
from tfx.proto import example_gen_pb2

from components.image_example_gen import executor

# Every file one level below a class folder; the driver fingerprints these
# (path, size, mtime) for caching, so unchanged data is not re-ingested.
IMAGE_PATTERN = "*/*"


def _custom_config(values: dict) -> example_gen_pb2.CustomConfig:
    struct = struct_pb2.Struct()
    struct.update(values)
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(struct)
    return config


def image_example_gen(input_base: str, train_buckets: int, eval_buckets: int,
                      max_pixels: int) -> FileBasedExampleGen:
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
            example_gen_pb2.Input.Split(name="images", pattern=IMAGE_PATTERN)]),
        output_config=output_config,
        custom_config=_custom_config({executor.MAX_PIXELS_KEY: max_pixels}),
        custom_executor_spec=executor_spec.BeamExecutorSpec(executor.Executor),
    ).with_id("ImageExampleGen")
