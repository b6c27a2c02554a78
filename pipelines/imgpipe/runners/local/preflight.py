"""Checks on the data path that run before any component starts.

A missing, empty or unreadable folder, a class folder without images, or a
single class are user mistakes; they get one clear paragraph, not a
traceback from deep inside a Beam job minutes later.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path


class DataPathError(ValueError):
    """The data path cannot be used; the message says why and what to do."""


class OutputPathError(ValueError):
    """The output folder cannot be written; the message says why and what
    to do."""


_LAYOUT = ("Expected layout: <data>/<class name>/<image files>, one folder "
           "per class with at least one PNG, JPEG, BMP or GIF image each.")


def check_data_root(data_root: Path, ingest=None) -> dict:
    """Returns {class name: image count}; raises DataPathError if unusable.

    Only the class-folder layout is counted here; CIFAR batches, a CSV
    manifest or TFRecords (`ingest`, a imgpipe.config.IngestConfig, or
    auto-detected) are planned by ImageExampleGen, which quarantines or
    stops with the reason (docs/ingestion.md).
    """
    from imgpipe_components.image_example_gen.formats import UNLABELLED_FOLDER
    from imgpipe_components.image_example_gen.image_records import is_image_file

    if "://" in str(data_root):
        return {}  # Object stores are listed by ExampleGen itself.
    if not data_root.exists():
        raise DataPathError(f"The data path {data_root} does not exist. "
                            f"{_LAYOUT}")
    if not data_root.is_dir():
        raise DataPathError(f"The data path {data_root} is a file, not a "
                            f"folder. {_LAYOUT}")
    if not os.access(data_root, os.R_OK | os.X_OK):
        raise DataPathError(f"The data path {data_root} is not readable by "
                            "this user; check its permissions.")
    data_root = _latest_span_folder(data_root, ingest)
    if _input_format(data_root, ingest) != "folders":
        return {}
    classes = sorted(p for p in data_root.iterdir()
                     if p.is_dir() and not p.name.startswith(".")
                     and p.name != UNLABELLED_FOLDER)
    if not classes:
        raise DataPathError(f"The data path {data_root} holds no class "
                            f"folders. {_LAYOUT}")
    counts = {}
    for folder in classes:
        if not os.access(folder, os.R_OK | os.X_OK):
            raise DataPathError(f"The class folder {folder} is not readable "
                                "by this user; check its permissions.")
        counts[folder.name] = sum(1 for f in folder.iterdir()
                                  if f.is_file() and is_image_file(f.name))
    empty = [name for name, count in counts.items() if count == 0]
    if empty:
        raise DataPathError(
            f"Class folder(s) {', '.join(empty)} under {data_root} hold no "
            "images. Add images to them or remove the folders.")
    if len(counts) < 2:
        raise DataPathError(
            f"The data path {data_root} holds a single class "
            f"({next(iter(counts))}); a classifier needs at least two class "
            "folders.")
    return counts


def unlabelled_images(data_root: Path, ingest=None) -> int:
    """The number of images directly in `<data>/unlabelled/` (the latest
    span's), the images pretraining reads; 0 for an object store, which
    UnlabelledExampleGen lists itself."""
    from imgpipe_components.image_example_gen.formats import UNLABELLED_FOLDER
    from imgpipe_components.image_example_gen.image_records import is_image_file

    if "://" in str(data_root):
        return 0
    folder = _latest_span_folder(data_root, ingest) / UNLABELLED_FOLDER
    if not folder.is_dir():
        return 0
    return sum(1 for f in folder.iterdir()
               if f.is_file() and is_image_file(f.name))


def check_unlabelled(data_root: Path, ingest=None) -> int:
    """unlabelled_images(), for a run that pretrains; raises DataPathError
    when a local data root has none."""
    images = unlabelled_images(data_root, ingest)
    if not images and "://" not in str(data_root):
        raise DataPathError(
            f"Pretraining is on (train.pretrain_epochs > 0) but "
            f"{_latest_span_folder(data_root, ingest) / 'unlabelled'} holds "
            "no images. Put unlabelled images directly inside it, or leave "
            "pretraining off (docs/pretraining.md).")
    return images


def check_output_root(output: Path) -> None:
    """Raises OutputPathError unless `output` is (or can be made) a folder
    this process can write: a read-only disk, missing permissions or a
    file in the way stop the run here, before any step starts. A folder
    this check made is removed again when it fails."""
    import tempfile

    output = Path(os.path.abspath(output))
    missing = [p for p in [output, *output.parents] if not p.exists()]
    try:
        if output.exists() and not output.is_dir():
            raise NotADirectoryError(20, "it is a file, not a folder",
                                     str(output))
        output.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".imgpipe-write-check-",
                                         dir=output)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        for folder in missing:      # deepest first: only what was made
            with contextlib.suppress(OSError):
                folder.rmdir()
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename and not Path(
            error.filename).is_relative_to(output) else ""
        raise OutputPathError(
            f"Cannot write to the output folder {output}{where}: {reason}. "
            "Pass another folder with --output, or make this one writable "
            "(a read-only disk or mount, or its permissions), then run "
            "again.") from None


def data_folder(data_root: Path, ingest=None) -> Path:
    """The folder a run ingests: the latest span's with a span pattern,
    else the data root."""
    return _latest_span_folder(data_root, ingest)


def _latest_span_folder(data_root: Path, ingest) -> Path:
    from imgpipe_components.image_example_gen import spans

    if ingest is None or not ingest.span_pattern:
        return data_root
    folders = [str(p.relative_to(data_root)) for p in data_root.glob(
        re.sub(spans.SPAN_TOKEN, "*", ingest.span_pattern)) if p.is_dir()]
    try:
        return data_root / spans.choose(ingest.span_pattern, folders).folder
    except ValueError as error:
        raise DataPathError(str(error)) from error


def _input_format(folder: Path, ingest) -> str:
    from imgpipe_components.image_example_gen import formats
    from imgpipe_components.storage.files import Listing

    if ingest is not None and ingest.format != "auto":
        return ingest.format
    top = Listing(str(folder), tuple(sorted(
        p.name for p in folder.iterdir() if p.is_file())), ())
    return formats.detect(top, ingest.manifest_name if ingest
                          else "manifest.csv")
