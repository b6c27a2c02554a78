"""Which input format a folder holds, and the plan for reading it.

Auto-detection looks at the top level of the (span) folder, in this order:
1. `batches.meta`, `data_batch_*` or `test_batch`  -> cifar
2. the manifest file (`IngestConfig.manifest_name`) -> csv
3. files with `.tfrecord` in the name               -> tfrecord
4. anything else                                    -> folders

The `unlabelled` plan is never detected nor a setting: the
UnlabelledExampleGen of a pretraining run (docs/pretraining.md) uses it for
the images directly inside the reserved `unlabelled/` folder beside the
class folders (or the manifest, batches or TFRecords), which the folders
format never takes for a class.

A plan is the vocabulary, the sources the Beam job reads (one image, one
CIFAR batch or one TFRecord file each) and the entries already quarantined
from the listing alone (wrong extension, symlink out of the root, bad
manifest row). Planning is pure apart from reading small side files (the
manifest, labels.txt, batches.meta) through `read`.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Sequence, Tuple

from imgpipe_components import class_names
from imgpipe_components.class_names import LABELS_FILE
from imgpipe_components.image_example_gen import cifar, manifest, tfrecords
from imgpipe_components.image_example_gen.image_records import (IMAGE_EXTENSIONS,
                                                        Quarantined,
                                                        is_image_file)
from imgpipe_components.storage.files import Listing

FOLDERS, CIFAR, CSV, TFRECORD = "folders", "cifar", "csv", "tfrecord"
FORMATS = (FOLDERS, CIFAR, CSV, TFRECORD)
UNLABELLED = "unlabelled"      # the UnlabelledExampleGen's, never chosen
# Beside the class folders: images without a label, for pretraining only.
UNLABELLED_FOLDER = "unlabelled"
# The label of an unlabelled image in the raw contract.
NO_LABEL = -1

IMAGE, CIFAR_BATCH, TFRECORD_FILE = "image", "cifar_batch", "tfrecord_file"


@dataclasses.dataclass(frozen=True)
class Source:
    """One unit of work for the Beam reader."""
    kind: str            # IMAGE | CIFAR_BATCH | TFRECORD_FILE
    uri: str
    name: str            # image_id for an image; the file name otherwise
    label: int = -1
    label_name: str = ""


@dataclasses.dataclass(frozen=True)
class Plan:
    format: str
    vocabulary: Tuple[str, ...]
    sources: Tuple[Source, ...]
    quarantined: Tuple[Quarantined, ...]


def input_glob(fmt: str, manifest_name: str) -> str:
    """What ExampleGen's driver fingerprints for caching, per format. For
    csv that is the manifest: replace it (or disable the cache) when images
    change in place."""
    return {FOLDERS: "*/*", CIFAR: "*batch*", CSV: manifest_name,
            TFRECORD: "*.tfrecord*",
            UNLABELLED: f"{UNLABELLED_FOLDER}/*"}.get(fmt, "*")


def detect(listing: Listing, manifest_name: str) -> str:
    _, files = listing.top_level()
    if any(cifar.is_cifar_file(name) for name in files):
        return CIFAR
    if manifest_name in files:
        return CSV
    if any(tfrecords.is_tfrecord_file(name) for name in files):
        return TFRECORD
    return FOLDERS


def plan(fmt: str, listing: Listing, ingest, read: Callable[[str], bytes]
         ) -> Plan:
    planners = {FOLDERS: _plan_folders, CIFAR: _plan_cifar, CSV: _plan_csv,
                TFRECORD: _plan_tfrecords, UNLABELLED: _plan_unlabelled}
    if fmt not in planners:
        raise ValueError(f"Unknown ingest format {fmt!r}; choose one of "
                         f"auto, {', '.join(FORMATS)}.")
    chosen = planners[fmt](listing, ingest, read)
    class_names.check(chosen.vocabulary, f"the class names of {listing.root}")
    return chosen


def _outside(listing: Listing) -> List[Quarantined]:
    return [Quarantined(path, "symlink points outside the data root")
            for path in listing.outside]


def _plan_folders(listing: Listing, ingest, read) -> Plan:
    del ingest, read
    classes = [name for name in listing.top_level()[0]
               if not name.startswith(".") and name != UNLABELLED_FOLDER]
    counts = {name: 0 for name in classes}
    sources = []
    quarantined = [q for q in _outside(listing)
                   if not _in_unlabelled(q.image_id)]
    for path in listing.files:
        if any(part.startswith(".") for part in path.split("/")):
            continue  # .DS_Store, .git/...: not data, as in `ls`
        class_name, _, file_name = path.partition("/")
        if _in_unlabelled(path):
            continue  # the UnlabelledExampleGen's, when pretraining is on
        if class_name not in counts or "/" in file_name:
            quarantined.append(Quarantined(
                path, "not directly inside a class folder (<class>/<image>)"))
        elif not is_image_file(file_name):
            quarantined.append(_not_an_image(path))
        else:
            counts[class_name] += 1
            sources.append(Source(IMAGE, listing.uri(path), path,
                                  classes.index(class_name), class_name))
    _require_images_in_every_class(counts, listing.root)
    return Plan(FOLDERS, tuple(classes), tuple(sources), tuple(quarantined))


def _plan_unlabelled(listing: Listing, ingest, read) -> Plan:
    """Every image directly inside `unlabelled/`, with label NO_LABEL; the
    same checks and quarantine as a class folder's images."""
    del ingest, read
    inside = listing.under(UNLABELLED_FOLDER)
    sources = []
    quarantined = [q for q in _outside(listing) if _in_unlabelled(q.image_id)]
    for path in inside.files:
        if any(part.startswith(".") for part in path.split("/")):
            continue
        image_id = f"{UNLABELLED_FOLDER}/{path}"
        if "/" in path:
            quarantined.append(Quarantined(
                image_id, f"not directly inside {UNLABELLED_FOLDER}/"))
        elif not is_image_file(path):
            quarantined.append(_not_an_image(image_id))
        else:
            sources.append(Source(IMAGE, inside.uri(path), image_id,
                                  NO_LABEL, ""))
    if not sources:
        raise ValueError(
            f"{inside.root} holds no images to pretrain on. Put unlabelled "
            f"images directly inside <data>/{UNLABELLED_FOLDER}/, or turn "
            "pretraining off (train.pretrain_epochs = 0).")
    return Plan(UNLABELLED, (), tuple(sources), tuple(quarantined))


def _not_an_image(image_id: str) -> Quarantined:
    return Quarantined(image_id, "not an image file extension (expected one "
                       f"of {sorted(IMAGE_EXTENSIONS)})")


def _in_unlabelled(path: str) -> bool:
    return path.split("/", 1)[0] == UNLABELLED_FOLDER


def _require_images_in_every_class(counts: dict, root: str) -> None:
    if not counts:
        raise ValueError(f"{root} holds no class folders. Expected "
                         "<data>/<class name>/<image files>.")
    empty = sorted(name for name, count in counts.items() if count == 0)
    if empty:
        raise ValueError(
            f"Class folder(s) {', '.join(empty)} under {root} hold no images; "
            "a class without images cannot be learnt and would shift every "
            "label index. Add images to them or remove the folders.")


def _plan_cifar(listing: Listing, ingest, read) -> Plan:
    _, files = listing.top_level()
    vocabulary = (cifar.class_names(read(listing.uri(cifar.META_FILE)))
                  if cifar.META_FILE in files
                  else list(ingest.class_names or cifar.DEFAULT_CLASSES))
    batches = [name for name in files if cifar.is_batch_file(name)]
    if not batches:
        raise ValueError(f"{listing.root} holds no CIFAR batches "
                         "(data_batch_*, test_batch).")
    others = [p for p in listing.files if not cifar.is_cifar_file(p)]
    return Plan(CIFAR, tuple(vocabulary),
                tuple(Source(CIFAR_BATCH, listing.uri(name), name)
                      for name in batches),
                tuple(_outside(listing) + [Quarantined(
                    path, "not a CIFAR batch file") for path in others]))


def _plan_csv(listing: Listing, ingest, read) -> Plan:
    name = ingest.manifest_name
    rows = manifest.read_rows(read(listing.uri(name)).decode("utf-8-sig"),
                              name)
    vocabulary = (_vocabulary_file(listing, read) or list(ingest.class_names)
                  or manifest.labels_in(rows))
    usable, quarantined = manifest.resolve(
        rows, vocabulary, listing.files, listing.outside, name)
    sources = []
    for row in usable:
        if is_image_file(row.relative_path):
            sources.append(Source(IMAGE, listing.uri(row.relative_path),
                                  row.relative_path, row.label, row.label_name))
        else:
            quarantined.append(_not_an_image(row.relative_path))
    return Plan(CSV, tuple(vocabulary), tuple(sources), tuple(quarantined))


def _plan_tfrecords(listing: Listing, ingest, read) -> Plan:
    vocabulary = _vocabulary_file(listing, read) or list(ingest.class_names)
    if not vocabulary:
        raise ValueError(
            f"TFRecord input at {listing.root} needs its class names: put a "
            f"{LABELS_FILE} beside the files (ExampleGen writes one next "
            "to its examples) or set ingest.class_names.")
    files = [p for p in listing.files if tfrecords.is_tfrecord_file(p)]
    if not files:
        raise ValueError(f"{listing.root} holds no *.tfrecord* files.")
    return Plan(TFRECORD, tuple(vocabulary),
                tuple(Source(TFRECORD_FILE, listing.uri(p), p) for p in files),
                tuple(_outside(listing)))


def _vocabulary_file(listing: Listing, read) -> Sequence[str]:
    if LABELS_FILE not in listing.files:
        return []
    return class_names.from_text(read(listing.uri(LABELS_FILE)).decode("utf-8"))
