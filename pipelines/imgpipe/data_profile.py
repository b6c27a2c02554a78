"""What the settings chooser knows of the data and the machine, read cheaply.

The data: image counts per class and the headers of a sample (PIL opens
lazily, so only the first bytes of each sampled file are read), from a
local folder or a storage listing (gs:// included). The machine: GPUs as
the NVIDIA driver shows them, without importing TensorFlow.
"""
from __future__ import annotations

import dataclasses
import io
import os
import shutil
import statistics
from pathlib import Path
from typing import BinaryIO, Callable, Dict, List, Optional, Tuple

# Light: the ingestion formats import neither TensorFlow nor TFX.
from imgpipe_components.image_example_gen.formats import UNLABELLED_FOLDER

SAMPLE_PER_CLASS = 8
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


@dataclasses.dataclass(frozen=True)
class DataProfile:
    images: int
    classes: int
    side: int          # median of the sampled images' longer side, pixels
    channels: int      # 1 if every sampled image is grey, else 3


@dataclasses.dataclass(frozen=True)
class Hardware:
    gpus: int
    cpus: int


def profile_folder(root: Path, counts: Dict[str, int],
                   image_suffixes: Tuple[str, ...]) -> Optional[DataProfile]:
    """Profile of a local class-folder tree whose images per class are
    already counted; None if no header could be read."""
    samples = [str(root / name / file) for name in sorted(counts)
               for file in _sample(os.listdir(root / name), image_suffixes)]
    return _profile(counts, samples, lambda path: open(path, "rb"))


def profile_listing(listing, image_suffixes: Tuple[str, ...],
                    read_head: Callable[[str], bytes]
                    ) -> Optional[DataProfile]:
    """Profile of a class-folder tree from its storage listing (local or
    gs://, imgpipe_components.storage.files.Listing): images counted per class folder,
    headers read with `read_head(uri)` (the first bytes of a file).
    None if it holds no class folders of images or no header was read."""
    per_class: Dict[str, List[str]] = {}
    for path in listing.files:
        folder, _, name = path.partition("/")
        if folder == UNLABELLED_FOLDER:
            continue  # images without a class, for pretraining only
        if name and "/" not in name and name.lower().endswith(image_suffixes):
            per_class.setdefault(folder, []).append(name)
    counts = {folder: len(names) for folder, names in per_class.items()}
    samples = [listing.uri(f"{folder}/{name}") for folder in sorted(per_class)
               for name in _sample(per_class[folder], image_suffixes)]
    return _profile(counts, samples,
                    lambda uri: io.BytesIO(read_head(uri))) if counts else None


def _profile(counts: Dict[str, int], samples: List[str],
             opener: Callable[[str], BinaryIO]) -> Optional[DataProfile]:
    """Reads only image headers (PIL opens lazily) of the sampled files."""
    from PIL import Image

    from imgpipe_components.storage import StorageError

    unreadable = (OSError, ValueError, SyntaxError, StorageError,
                  Image.DecompressionBombError)
    sides, channels = [], 1
    for path in samples:
        try:
            with opener(path) as handle, Image.open(handle) as image:
                sides.append(max(image.size))
                if image.mode not in GREY_MODES:
                    channels = 3
        except unreadable:
            continue   # skipped here; ExampleGen quarantines it with the reason
    if not sides:
        return None
    return DataProfile(images=sum(counts.values()), classes=len(counts),
                       side=int(statistics.median(sides)), channels=channels)


def _sample(names: List[str], suffixes: Tuple[str, ...]) -> List[str]:
    """Up to SAMPLE_PER_CLASS image names, evenly spread over the sorted
    names (not just the first few, which often share a source)."""
    names = sorted(name for name in names if name.lower().endswith(suffixes))
    step = max(1, len(names) // SAMPLE_PER_CLASS)
    return names[::step][:SAMPLE_PER_CLASS]


def detect_hardware() -> Hardware:
    """GPUs as the NVIDIA driver shows them, without importing TensorFlow
    (seconds of start-up); CUDA_VISIBLE_DEVICES="" or "-1" hides them, as
    it does for TensorFlow."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = len([name for name in _dev_entries() if name[6:].isdigit()])
    if visible is not None:
        ids = [v for v in visible.split(",") if v.strip() not in ("", "-1")]
        gpus = min(gpus, len(ids))
    if gpus and not shutil.which("nvidia-smi") and not os.path.exists(
            "/proc/driver/nvidia"):
        gpus = 0
    return Hardware(gpus=gpus, cpus=os.cpu_count() or 1)


def _dev_entries() -> List[str]:
    try:
        return [name for name in os.listdir("/dev")
                if name.startswith("nvidia")]
    except OSError:
        return []
