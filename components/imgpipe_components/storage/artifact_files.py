"""Files inside TFX artifacts (`artifact.uri/...`), local or gs://.

Through `tf.io.gfile`, the file layer TFX itself writes artifacts with, so
a component reads and writes them wherever the pipeline root lives.
TensorFlow is imported on first use: callers such as the CLI stay light.
"""
from __future__ import annotations

from typing import Optional


def read_bytes(uri: str) -> Optional[bytes]:
    """The file's bytes, or None when there is no such file."""
    import tensorflow as tf
    if not tf.io.gfile.exists(uri):
        return None
    with tf.io.gfile.GFile(uri, "rb") as handle:
        return handle.read()


def read_text(uri: str) -> str:
    import tensorflow as tf
    with tf.io.gfile.GFile(uri) as handle:
        return handle.read()


def write_text(uri: str, text: str) -> None:
    import tensorflow as tf
    with tf.io.gfile.GFile(uri, "w") as handle:
        handle.write(text)


def copy_folder(source: str, target: str) -> int:
    """Copies the files directly under `source` into `target` (created);
    returns how many. Sub-folders are not copied."""
    import tensorflow as tf
    tf.io.gfile.makedirs(target)
    names = [name for name in tf.io.gfile.listdir(source)
             if not tf.io.gfile.isdir(f"{source.rstrip('/')}/{name}")]
    for name in names:
        tf.io.gfile.copy(f"{source.rstrip('/')}/{name}",
                         f"{target.rstrip('/')}/{name}", overwrite=True)
    return len(names)
