"""Defaults chosen from the data and the machine, with the reasons.

`imgpipe run` without tuning options should give the best accuracy per
second the machine allows: a 28x28 grey data set of 10,000 images must not
be upscaled and trained like a photo set on a GPU. This module profiles the
data cheaply (image headers of a sample, read with PIL, and file counts per
class) and looks for a GPU without importing TensorFlow, then picks the
input size, architecture, epochs, batch size and augmentation copies.
Every choice the user made explicitly wins and is reported as such.

Pure apart from `profile_folder` and `detect_hardware`: `choose` is a
function of plain values, so its GPU branch is tested without a GPU.
"""
from __future__ import annotations

import dataclasses
import io
import math
import os
import shutil
import statistics
from pathlib import Path
from typing import BinaryIO, Callable, Dict, List, Optional, Tuple

# The model's convolution stack halves the input twice: below 16 pixels its
# last stage would work on 2x2 maps. 16 is also the best size for the 8x8
# digits, as exact as 32x32 at a quarter of the cost
# (benchmarks/results/quality.md), so tiny images are upscaled to this floor
# and no further.
MIN_INPUT_SIDE = 16
# Larger images (photos) are downscaled: the cost grows with the pixels,
# and a small CNN from scratch gains little beyond this on a CPU.
MAX_INPUT_SIDE = {"cpu": 96, "gpu": 224}
# Up to this many training images (per CPU core pair, at 16x16 inputs) the
# residual CNN with one augmented copy is affordable on a CPU. Beyond it
# the classic small CNN on the real images alone gives more accuracy per
# second (benchmarks/results/accuracy.md). Larger inputs cost more per
# image: this count and the small-data pass budget below shrink with the
# pixels (_pixel_share), so that a few hundred 96x96 photos get the small
# CNN for a few epochs, not the residual CNN for dozens.
SMALL_DATA_IMAGES_PER_2_CPUS = 4000
# Small data on a CPU: a budget of image passes (augmented copies included)
# rather than a fixed epoch count, so a few hundred images still get enough
# updates. On the digits (about 2,900 train images with their copies)
# 17,000 passes, 6 epochs, are as exact on the eval split as 8 or 15
# epochs, and only with the copies (benchmarks/results/small_data_epochs.md).
SMALL_DATA_PASSES = 17_000
SMALL_DATA_EPOCHS = (6, 40)   # floor and ceiling
# The train split's share of the images (ExampleGen's 8:2 hash split).
TRAIN_SHARE = 0.8
# Beyond this many images the data itself varies enough: no offline copies.
GPU_COPIES_UP_TO = 50_000
# Larger data on a CPU: a budget of image passes, so a larger data set gets
# fewer epochs. On the 10,782 28x28 digits the small CNN with a cosine
# schedule comes close to the seed script's 10 constant-rate epochs after
# 35,000 passes, and 60,000 passes buy the margin
# (benchmarks/results/accuracy_4_epochs.md and accuracy.md).
IMAGE_PASSES = 60_000
MIN_EPOCHS = 4
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


@dataclasses.dataclass(frozen=True)
class Choice:
    """The chosen settings and one human-readable reason per setting."""
    image_size: int
    channels: int
    architecture: str
    epochs: int
    batch_size: int
    copies: int
    reasons: Tuple[str, ...]


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


def choose(profile: Optional[DataProfile], hardware: Hardware,
           explicit: Dict[str, object],
           given_where: str = "set on the command line") -> Choice:
    """Settings for this data on this machine; `explicit` (setting name ->
    value the user gave, `given_where`) always wins."""
    device = "gpu" if hardware.gpus else "cpu"
    chosen: Dict[str, Tuple[object, str]] = {}
    chosen.update(_input_size(profile, device))
    size = explicit.get("image_size") or chosen["image_size"][0]
    chosen.update(_regime(profile, hardware, int(size)))
    reasons = []
    for name, (value, why) in chosen.items():
        if name in explicit and explicit[name] is not None:
            value, why = explicit[name], given_where
        chosen[name] = (value, why)
        reasons.append(f"{name} = {value}: {why}")
    return Choice(**{name: value for name, (value, _) in chosen.items()},
                  reasons=tuple(reasons))


def _input_size(profile: Optional[DataProfile], device: str) -> dict:
    if profile is None:
        return {"image_size": (32, "no image headers could be sampled "
                                   "(not a class-folder tree): generic 32"),
                "channels": (1, "no image headers sampled: grey")}
    cap = MAX_INPUT_SIDE[device]
    side = profile.side
    if side < MIN_INPUT_SIDE:
        size, why = MIN_INPUT_SIDE, (
            f"images are {side} px; the convolution stack needs at least "
            f"{MIN_INPUT_SIDE} (and 16 measured best on the 8x8 digits)")
    elif side > cap:
        size, why = cap, (f"images are {side} px; capped at {cap} on "
                          f"{device.upper()}: cost grows with pixels")
    else:
        size, why = side, f"the images' own size ({side} px): no upscaling"
    colour = ("every sampled image is grey" if profile.channels == 1
              else "sampled images have colour")
    return {"image_size": (size, why), "channels": (profile.channels, colour)}


def _pixel_share(size: int) -> float:
    """Cost of one image pass at `size` relative to the 16x16 inputs the
    small-data rules were measured at (convolution cost grows with the
    pixels)."""
    return (MIN_INPUT_SIDE / max(size, MIN_INPUT_SIDE)) ** 2


def _regime(profile: Optional[DataProfile], hardware: Hardware,
            size: int) -> dict:
    images = profile.images if profile else 0
    if hardware.gpus:
        copies = 1 if images <= GPU_COPIES_UP_TO else 0
        where = f"{hardware.gpus} GPU(s)"
        return {"architecture": ("residual_cnn", f"{where}: the stronger "
                                 "model costs little more per second"),
                "epochs": (15, f"{where}: epochs are cheap"),
                "batch_size": (128, f"{where}: large batches keep the GPU "
                               "busy (mixed precision on)"),
                "copies": (copies, f"{images} images on {where}: "
                           + ("one augmented copy each" if copies else
                              "enough real variety, no offline copies"))}
    small = int(SMALL_DATA_IMAGES_PER_2_CPUS * max(1, hardware.cpus // 2)
                * _pixel_share(size))
    where = f"{hardware.cpus} CPU cores, no GPU"
    at_size = "" if size <= MIN_INPUT_SIDE else f" at {size}x{size}"
    if images <= small:
        copies = 1
        passes_per_epoch = max(1, round(images * TRAIN_SHARE * (1 + copies)))
        passes = int(SMALL_DATA_PASSES * _pixel_share(size))
        low, high = SMALL_DATA_EPOCHS
        epochs = max(low, min(high, math.ceil(passes / passes_per_epoch)))
        return {"architecture": ("residual_cnn", f"{images} images <= "
                                 f"{small}{at_size} on {where}: the stronger "
                                 "model is affordable and needed to be exact"),
                "epochs": (epochs, f"small data set: about {passes:,} image "
                           f"passes{at_size} in all ({low} to {high} epochs; "
                           f"{SMALL_DATA_PASSES:,} at 16x16 measured enough)"),
                "batch_size": (32, "small data set: more updates per epoch"),
                "copies": (copies, "small data set: one augmented copy per "
                           "train image adds variety")}
    epochs = max(MIN_EPOCHS, min(10, math.ceil(IMAGE_PASSES / images)))
    return {"architecture": ("small_cnn", f"{images} images > {small}"
                             f"{at_size} on {where}: the classic small CNN "
                             "gives the most accuracy per second"),
            "epochs": (epochs, f"{images} images: about {IMAGE_PASSES:,} "
                       "image passes in all (at least "
                       f"{MIN_EPOCHS} epochs) reach the plain 10-epoch "
                       "script's accuracy with a cosine schedule"),
            "batch_size": (32, "on CPU, batch 32 converges in fewest "
                           "seconds for the small CNN"),
            "copies": (0, f"{images} real images: augmented copies would "
                       "double the training time for little gain")}


def apply(config, choice: Choice):
    """`config` (an imgpipe.config.PipelineConfig) with the chosen values."""
    return dataclasses.replace(
        config,
        transform=dataclasses.replace(config.transform,
                                      image_size=choice.image_size,
                                      channels=choice.channels),
        augment=dataclasses.replace(config.augment, copies=choice.copies),
        train=dataclasses.replace(config.train,
                                  architecture=choice.architecture,
                                  epochs=choice.epochs,
                                  batch_size=choice.batch_size))


def parse_budget(text: str) -> Tuple[Optional[int], float]:
    """`--train-budget`: '20e' -> (20 epochs, no time limit); '10m', '90s'
    or '1.5h' -> (None, seconds). Raises ValueError saying what is allowed."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if unit == "e" and number.is_integer() and number >= 1:
        return int(number), 0.0
    if unit in units and number > 0:
        return None, number * units[unit]
    raise ValueError(f"--train-budget {text!r}: give epochs as e.g. '20e' or "
                     "a time as e.g. '10m', '90s' or '1h'.")
