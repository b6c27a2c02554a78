"""CIFAR-10 python batches (`data_batch_*`, `test_batch`, `batches.meta`).

The batches are pickles, and unpickling runs whatever callables a file names,
so they are read with an unpickler that resolves only what a dict of numpy
arrays, lists and bytes needs. Anything else (a class, `os.system`, ...)
stops the run with `UnsafePickleError` naming the file and the global: a
tampered data set is a problem for a person, not a row to skip.

Each row becomes a PNG in `image_raw` and goes through the same checks and
metadata columns as a file from the class-folder tree.
"""
from __future__ import annotations

import io
import pickle
from typing import Iterator, List, Union

import numpy as np

from imgpipe_components.image_example_gen import image_records

META_FILE = "batches.meta"
DEFAULT_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog",
                   "frog", "horse", "ship", "truck")
_SIDE, _CHANNELS = 32, 3

_PLAIN_BUILTINS = ("dict", "list", "tuple", "set", "frozenset", "bytes",
                   "bytearray", "str", "int", "float", "complex", "bool")
ALLOWED_GLOBALS = frozenset(
    # ndarray.__reduce__ under numpy 1.x and 2.x module names, all protocols.
    {(module, "_reconstruct") for module in ("numpy.core.multiarray",
                                              "numpy._core.multiarray")}
    | {(module, "_frombuffer") for module in ("numpy.core.numeric",
                                               "numpy._core.numeric")}
    | {("numpy", "ndarray"), ("numpy", "dtype"),
       # bytes pickled by Python 3 with protocol 2 (as CIFAR mirrors re-save).
       ("_codecs", "encode")}
    # Python 2 pickles (the original CIFAR files) say __builtin__.
    | {(module, name) for module in ("builtins", "__builtin__")
       for name in _PLAIN_BUILTINS})


class UnsafePickleError(ValueError):
    """A CIFAR batch names a global that plain data does not need."""


class CifarFormatError(ValueError):
    """A CIFAR batch is not shaped like one."""


def is_batch_file(name: str) -> bool:
    return name.startswith("data_batch_") or name == "test_batch"


def is_cifar_file(name: str) -> bool:
    return is_batch_file(name) or name == META_FILE


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, file_name: str):
        # encoding="bytes": Python 2 str (the pixel buffer) stays bytes.
        super().__init__(io.BytesIO(data), encoding="bytes")
        self._file_name = file_name

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"{self._file_name}: refused to unpickle '{module}.{name}'. "
                "A CIFAR batch holds only numpy arrays, lists and bytes; this "
                "file asks for code to run, so it was not loaded. Replace it "
                "with the original batch from the CIFAR-10 distribution.")
        return super().find_class(module, name)


def load(data: bytes, file_name: str) -> dict:
    """Unpickles a batch (or the meta file) into a dict with str keys."""
    try:
        loaded = _RestrictedUnpickler(data, file_name).load()
    except UnsafePickleError:
        raise
    except Exception as error:  # pickle raises many types on garbage
        raise CifarFormatError(f"{file_name}: not a readable CIFAR python "
                               f"batch ({type(error).__name__}: {error})") from error
    if not isinstance(loaded, dict):
        raise CifarFormatError(f"{file_name}: holds a {type(loaded).__name__}, "
                               "not the dict of a CIFAR batch.")
    return {key.decode() if isinstance(key, bytes) else str(key): value
            for key, value in loaded.items()}


def class_names(meta: bytes, file_name: str = META_FILE) -> List[str]:
    names = load(meta, file_name).get("label_names")
    if not names:
        raise CifarFormatError(f"{file_name}: no 'label_names' list.")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def records(data: bytes, file_name: str, vocabulary: List[str],
            max_pixels: int
            ) -> Iterator[Union[image_records.ImageRecord,
                                image_records.Quarantined]]:
    """One record (or quarantine entry) per row of a batch."""
    batch = load(data, file_name)
    pixels, labels = pixels_and_labels(batch, file_name)
    for index, (row, label) in enumerate(zip(pixels, labels)):
        image_id = f"{file_name}/{index:05d}"
        if not 0 <= label < len(vocabulary):
            yield image_records.Quarantined(
                image_id, f"label {label} outside the {len(vocabulary)} "
                f"classes of {META_FILE}")
            continue
        yield image_records.inspect_image(
            image_id, _png(row), label, vocabulary[label], max_pixels)


def pixels_and_labels(batch: dict, file_name: str):
    pixels, labels = batch.get("data"), batch.get("labels")
    expected = _SIDE * _SIDE * _CHANNELS
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or \
            pixels.ndim != 2 or pixels.shape[1] != expected:
        shape = getattr(pixels, "shape", type(pixels).__name__)
        raise CifarFormatError(
            f"{file_name}: 'data' must be a uint8 array of shape (N, "
            f"{expected}); found {shape}.")
    if not isinstance(labels, (list, np.ndarray)) or \
            len(labels) != len(pixels):
        raise CifarFormatError(
            f"{file_name}: 'labels' must list one label per row of 'data' "
            f"({len(pixels)} rows).")
    # Rows are channel-planar: 1024 red, 1024 green, 1024 blue values.
    images = pixels.reshape(-1, _CHANNELS, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return images, [int(label) for label in labels]


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()
