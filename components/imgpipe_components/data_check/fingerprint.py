"""What a run would train on, reduced to one hash, and its record.

The fingerprint covers the data the run would ingest (the chosen span's
files: relative path, size and modification time locally, generation in a
bucket; an unreadable entry counts too) and the pipeline definition (every
other step's settings and code fingerprint, and the run parameters). The
record also keeps the `stable` version as the last completed run left it:
after a rollback the same candidate must be judged against the
rolled-back model. A run whose fingerprint and stable version equal the
record's has nothing new to learn.

The record itself: run_record.py.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Iterable, Tuple

from imgpipe_components.storage import gcs
from imgpipe_components.storage.files import RetrySettings, list_tree

FileStat = Tuple[str, int, int]     # relative path, size, mtime or generation


def _local_stats(root: str, files: Iterable[str]) -> Iterable[FileStat]:
    for relative in files:
        try:
            stat = os.stat(os.path.join(root, relative))
            yield relative, stat.st_size, stat.st_mtime_ns
        except OSError:             # a dangling symlink: present, unreadable
            yield relative, -1, 0


def data_stats(data_root: str, span_pattern: str,
               retry: RetrySettings = RetrySettings()) -> list:
    """Sorted (path, size, version) of the files of the span a run ingests."""
    from imgpipe_components.image_example_gen import spans

    listing = list_tree(data_root, retry)
    choice = spans.choose(span_pattern, listing.dirs)
    current = listing.under(choice.folder) if choice.folder else listing
    # A bucket's sizes and generations come with its (retried) listing.
    stats = (current.versions if gcs.is_gcs(current.root)
             else _local_stats(current.root, current.files))
    return sorted([choice.folder, *stat] for stat in stats)


def fingerprint(stats: list, definition: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([stats, definition]).encode())
    return digest.hexdigest()
