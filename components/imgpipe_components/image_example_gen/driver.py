"""ExampleGen's driver, tolerant of files that cannot be read.

TFX's FileBasedDriver fingerprints every file the input pattern matches
(`io_utils.generate_fingerprint`: a stat of each) before the executor runs,
so one dangling symlink (common in DVC- or git-annex-managed folders) or a
file deleted after the glob stopped the whole run with an empty
`NotFoundError`. Unreadable files are the executor's business: it
quarantines them with their reason, like any other bad image. Here they are
left out of the byte and mtime sums and counted in the fingerprint instead,
so one appearing or disappearing still invalidates the cache.

TFX offers no hook for the fingerprint itself, so the driver swaps TFX's
`io_utils.generate_fingerprint` for the duration of its own call
(`imgpipe_components.library_internals.example_gen_fingerprint`; Kubeflow
runs no driver).
"""
from __future__ import annotations

import os

from absl import logging
from tfx.components.example_gen import driver
from tfx.dsl.io import fileio
from tfx.dsl.io.filesystem import NotFoundError

from imgpipe_components import library_internals

NANO_PER_SEC = 1_000_000_000


def readable_files_fingerprint(split_name: str, file_pattern: str) -> str:
    """TFX's fingerprint string over the files that can be stat'ed, plus
    the number that cannot."""
    files = fileio.glob(file_pattern)
    total_bytes = xor_checksum = sum_checksum = unreadable = 0
    for path in files:
        try:
            stat = fileio.stat(path)
        except (NotFoundError, OSError) as error:
            unreadable += 1
            why = ("a dangling symlink" if os.path.islink(path)
                   else f"{type(error).__name__}: {error or 'not found'}")
            logging.warning("Cannot stat %s (%s); the executor will "
                            "quarantine it", path, why)
            continue
        total_bytes += stat.length
        mtime = int(stat.mtime_nsec / NANO_PER_SEC)
        xor_checksum ^= mtime
        sum_checksum += mtime
    return (f"split:{split_name},num_files:{len(files)},total_bytes:"
            f"{total_bytes},xor_checksum:{xor_checksum},sum_checksum:"
            f"{sum_checksum},unreadable:{unreadable}")


class ReadableFilesDriver(driver.FileBasedDriver):
    """FileBasedDriver whose fingerprint skips files it cannot stat."""

    def resolve_exec_properties(self, exec_properties, pipeline_info,
                                component_info):
        with library_internals.example_gen_fingerprint(
                readable_files_fingerprint):
            return super().resolve_exec_properties(
                exec_properties, pipeline_info, component_info)
