"""TFRecord files of tf.Examples that are already in the raw contract.

They pass through unchanged once each record is checked: it parses as a
tf.train.Example, carries every contract feature with the right kind, and
its label is inside the vocabulary. A record that fails goes to quarantine
with the reason; the others proceed. GZIP files are recognised by their magic
bytes, so ExampleGen's own output can be re-ingested as it is.
"""
from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Iterator, Sequence, Union

from imgpipe_components.image_example_gen.image_records import Quarantined

if TYPE_CHECKING:   # imported where used: TensorFlow is slow to import
    import tensorflow as tf

# Feature -> kind: the raw contract (image_records.ImageRecord's columns) as
# a tf.train.Example holds it, and what the data gate reads.
CONTRACT = {"image_raw": "bytes_list", "label": "int64_list",
            "label_name": "bytes_list", "image_id": "bytes_list",
            "format": "bytes_list", "height": "int64_list",
            "width": "int64_list", "channels": "int64_list",
            "byte_size": "int64_list", "content_hash": "bytes_list"}
_GZIP_MAGIC = b"\x1f\x8b"


def is_tfrecord_file(name: str) -> bool:
    return ".tfrecord" in name.lower()


def examples(data: bytes, file_name: str, vocabulary: Sequence[str]
             ) -> Iterator[Union["tf.train.Example", Quarantined]]:
    """Checked Examples, or quarantine entries, for one file's records."""
    import tensorflow as tf

    compression = "GZIP" if data[:2] == _GZIP_MAGIC else ""
    # TFRecordDataset reads files, not bytes; a temporary copy also serves
    # gs:// input read through the storage client.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "records")
        with open(path, "wb") as handle:
            handle.write(data)
        dataset = tf.data.TFRecordDataset(path, compression_type=compression)
        try:
            for index, record in enumerate(dataset.as_numpy_iterator()):
                yield _checked(record, f"{file_name}#{index}", vocabulary)
        except tf.errors.DataLossError as error:
            yield Quarantined(file_name, "corrupt TFRecord framing after the "
                              f"records read so far: {error.message}")


def _checked(record: bytes, fallback_id: str, vocabulary: Sequence[str]):
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    try:
        example = tf.train.Example.FromString(record)
    except DecodeError:
        return Quarantined(fallback_id, "record is not a tf.train.Example")
    features = example.features.feature
    ids = features["image_id"].bytes_list.value if "image_id" in features else []
    image_id = ids[0].decode() if ids else fallback_id
    wrong = sorted(name for name, kind in CONTRACT.items()
                   if name not in features
                   or features[name].WhichOneof("kind") != kind
                   or len(getattr(features[name], kind).value) != 1)
    if wrong:
        return Quarantined(image_id, "missing or malformed raw-contract "
                           f"feature(s): {', '.join(wrong)}")
    label = features["label"].int64_list.value[0]
    name = features["label_name"].bytes_list.value[0].decode()
    if not 0 <= label < len(vocabulary) or vocabulary[label] != name:
        return Quarantined(image_id, f"label {label} ({name!r}) does not match "
                           f"the vocabulary ({', '.join(vocabulary)})")
    return example
