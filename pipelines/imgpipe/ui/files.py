"""The output folder's files: where an artifact is, reading it, serving it.

Only regular files inside the output folder are read or served: every
path is resolved (symbolic links and `..` included) and must still lie
under the folder. Artifact URIs are recorded as absolute paths when a run
writes them; when the folder has been moved or copied since (a backup
restored elsewhere, a copy made for a test), an artifact recorded under
some other `.../pipeline_root/` is looked up at the same place under this
folder's `pipeline_root/`. Anything else (another folder, gs://) is shown
as text and never served.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from imgpipe.runners.local.layout import LocalLayout

PIPELINE_ROOT = "pipeline_root"


class OutputFolder:
    """One `imgpipe run --output` folder, read-only."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        # The data root plays no part in reading an output folder.
        self.layout = LocalLayout(self.root, self.root)

    @property
    def metadata_path(self) -> Path:
        return Path(self.layout.metadata_path)

    @property
    def serving_root(self) -> Path:
        return self.root / "serving"

    @property
    def logs_dir(self) -> Path:
        return self.layout.logs_dir

    def inside(self, path: Path) -> Optional[Path]:
        """`path` resolved, if it lies under the output folder."""
        try:
            resolved = Path(path).resolve()
        except (OSError, RuntimeError):
            return None
        return resolved if resolved.is_relative_to(self.root) else None

    def local(self, uri: str, *names: str) -> Optional[Path]:
        """The file or folder at `uri`/`names` under this output folder, or
        None (elsewhere, or not there)."""
        if not uri or "://" in uri:
            return None
        candidates = [Path(uri, *names)]
        _, marker, rest = uri.rpartition(f"/{PIPELINE_ROOT}/")
        if marker:
            candidates.append(self.root / PIPELINE_ROOT / rest / Path(*names))
        for candidate in candidates:
            found = self.inside(candidate)
            if found is not None and found.exists():
                return found
        return None

    def url(self, path: Optional[Path], fragment: str = "") -> Optional[str]:
        """The UI's address of a file under the folder (None if outside)."""
        found = self.inside(path) if path is not None else None
        if found is None:
            return None
        relative = found.relative_to(self.root).as_posix()
        return "/files/" + quote(relative) + (f"#{fragment}" if fragment
                                              else "")

    def requested(self, relative: str) -> Optional[Path]:
        """The regular file a /files/ request names, if it is one under
        the folder (the traversal check for the file route)."""
        if "\x00" in relative:
            return None
        found = self.inside(self.root / relative)
        return found if found is not None and found.is_file() else None

    def read_json(self, uri: str, name: str) -> Optional[object]:
        path = self.local(uri, name)
        return read_json(path) if path is not None else None

    def read_lines(self, uri: str, name: str) -> Optional[list]:
        """A JSON-lines file as a list of objects (bad lines skipped)."""
        path = self.local(uri, name)
        if path is None:
            return None
        rows = []
        for line in path.read_text(errors="replace").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
        return rows


def read_json(path: Path) -> Optional[object]:
    """A JSON file's content (None if unreadable), kept while the file is
    unchanged: artifact files are written once."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _read_json(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _read_json(path: str, _mtime_ns: int, _size: int) -> Optional[object]:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
