"""The Beam pipeline of the Augment component.

Train split: every original example the data gate did not exclude, plus
`copies` augmented ones. The eval split is never augmented, so the model is
judged on real images only; it goes through here only to drop the excluded
images (otherwise the component copies its files).
"""
from __future__ import annotations

import hashlib
import os
from typing import AbstractSet, Dict, Iterator, Optional

import apache_beam as beam
import tensorflow as tf

from imgpipe_components.augment import ops
from imgpipe_components.augment.names import copy_id
from imgpipe_components.augment.settings import AugmentConfig


def _bytes(example: tf.train.Example, name: str) -> bytes:
    return example.features.feature[name].bytes_list.value[0]


def _label(serialized: bytes) -> int:
    example = tf.train.Example.FromString(serialized)
    return int(example.features.feature["label"].int64_list.value[0])


def rebalancing_copies(image_id: str, label: int, counts: Dict[int, int],
                       config: AugmentConfig) -> int:
    """Extra copies of this image so its class reaches `rebalance_to` of the
    largest class. The fractional part is assigned by a hash of the image id,
    so the class total is right in expectation and reruns are identical."""
    if not config.rebalance_to or not counts:
        return 0
    per_image = 1 + config.copies
    target = config.rebalance_to * max(counts.values()) * per_image
    have = counts[label] * per_image
    wanted = max(0.0, target - have) / counts[label]
    whole, fraction = int(wanted), wanted - int(wanted)
    digest = hashlib.sha256(f"rebalance:{image_id}".encode()).digest()
    return whole + (int.from_bytes(digest[:8], "little") / 2**64 < fraction)


def augmented_copies(serialized: bytes, config: AugmentConfig, seed: int,
                     counts: Optional[Dict[int, int]] = None
                     ) -> Iterator[bytes]:
    """The original, then its augmented copies, as serialized tf.Examples."""
    yield serialized
    original = tf.train.Example.FromString(serialized)
    image_id = _bytes(original, "image_id").decode()
    extra = rebalancing_copies(image_id, _label(serialized), counts or {},
                               config)
    for copy_index in range(1, config.copies + extra + 1):
        params = ops.sample_params(config, ops.rng_for(image_id, copy_index,
                                                       seed))
        png = ops.augment_png(_bytes(original, "image_raw"), params)
        copy = tf.train.Example()
        copy.CopyFrom(original)
        features = copy.features.feature
        features["image_raw"].bytes_list.value[:] = [png]
        features["image_id"].bytes_list.value[:] = [
            copy_id(image_id, copy_index).encode()]
        features["format"].bytes_list.value[:] = [b"PNG"]
        features["byte_size"].int64_list.value[:] = [len(png)]
        features["content_hash"].bytes_list.value[:] = [
            hashlib.sha256(png).hexdigest().encode()]
        yield copy.SerializeToString(deterministic=True)


def _kept(serialized: bytes, excluded: AbstractSet[str]) -> bool:
    return _bytes(tf.train.Example.FromString(serialized),
                  "image_id").decode() not in excluded


def read_kept(pipeline: beam.Pipeline, folder: str,
              excluded: AbstractSet[str], name: str) -> beam.PCollection:
    """The serialized examples of one split folder, less the excluded ids."""
    records = pipeline | f"Read{name}" >> beam.io.ReadFromTFRecord(
        os.path.join(folder, "*"))
    if excluded:
        records = records | f"Exclude{name}" >> beam.Filter(_kept, excluded)
    return records


def write(records: beam.PCollection, folder: str, name: str) -> None:
    """Gzip TFRecord files in a split folder, as TFX's ExampleGen writes."""
    _ = records | f"Write{name}" >> beam.io.WriteToTFRecord(
        os.path.join(folder, "data_tfrecord"), file_name_suffix=".gz")


def build(pipeline: beam.Pipeline, train_folder: str, output_folder: str,
          config: AugmentConfig, seed: int,
          excluded: AbstractSet[str] = frozenset()) -> None:
    """Reads the train split's files in `train_folder`, writes the originals
    not in `excluded` and their copies to `output_folder`."""
    originals = read_kept(pipeline, train_folder, excluded, "Train")
    train = originals
    if config.adds_images:
        counts = (originals
                  | "Labels" >> beam.Map(_label)
                  | "CountPerClass" >> beam.combiners.Count.PerElement())
        train = originals | "Augment" >> beam.FlatMap(
            augmented_copies, config, seed,
            counts=beam.pvalue.AsDict(counts))
    write(train, output_folder, "Train")
