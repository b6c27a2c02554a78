"""Defaults chosen from the data and the machine, with the reasons.

`imgpipe run` without tuning options should give the best accuracy per
second the machine allows: a 28x28 grey data set of 10,000 images must not
be upscaled and trained like a photo set on a GPU. From a profile of the
data and the machine (imgpipe.data_profile) this picks the input size,
architecture, epochs, batch size and augmentation copies. Every choice the
user made explicitly wins and is reported as such.

It never picks the vision transformer (`vit`) or an ensemble
(`train.ensemble`): on the grey set neither wins accuracy per second
against the residual CNN (benchmarks/results/toolbox.md); a user asks for
them with `--architecture vit` or `--ensemble N`.

`choose` is a function of plain values, so its GPU branch is tested without
a GPU.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Optional, Tuple

from imgpipe.data_profile import DataProfile, Hardware

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
# A few hundred to a few thousand photos (inputs larger than 32 px) on a
# CPU: the classic small CNN at a reduced input size, two augmented copies
# of each train image and a budget of image passes, clamped to 10-40
# epochs. On small colour photo sets this beat the plain CIFAR CNN where
# the rules above, built on grey digits, fell below it: no copies and 10
# epochs overfit a few hundred images (benchmarks/results/small_photos.md).
FEW_PHOTOS_PER_2_CPUS = 2000
FEW_PHOTOS_SIDE = 48
FEW_PHOTOS_COPIES = 2
FEW_PHOTOS_PASSES = 24_000
FEW_PHOTOS_EPOCHS = (10, 40)
# Keras' ImageNet weights for MobileNet-family bases start at 96 px inputs.
TRANSFER_MIN_SIDE = 96


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


def choose(profile: Optional[DataProfile], hardware: Hardware,
           explicit: Dict[str, object],
           given_where: str = "set on the command line") -> Choice:
    """Settings for this data on this machine; `explicit` (setting name ->
    value the user gave, `given_where`) always wins."""
    device = "gpu" if hardware.gpus else "cpu"
    chosen: Dict[str, Tuple[object, str]] = {}
    chosen.update(_input_size(profile, device, hardware.cpus))
    size = explicit.get("image_size") or chosen["image_size"][0]
    chosen.update(_regime(profile, hardware, int(size),
                          explicit.get("copies")))
    if explicit.get("transfer_weights"):
        chosen.update(_transfer(int(size)))
    reasons = []
    for name, (value, why) in chosen.items():
        if name in explicit and explicit[name] is not None:
            value, why = explicit[name], given_where
        chosen[name] = (value, why)
        reasons.append(f"{name} = {value}: {why}")
    return Choice(**{name: value for name, (value, _) in chosen.items()},
                  reasons=tuple(reasons))


def _transfer(size: int) -> dict:
    """Pretrained weights given (train.transfer_weights): fine-tune the
    pretrained base on them. Not measured here: no pretrained weights can
    be downloaded on these machines, and the reasons say so."""
    found = {"architecture": (
        "transfer", "pretrained weights given (train.transfer_weights): "
        "fine-tuning them usually beats training from scratch on few "
        "images (not measured here: no weights are downloadable)")}
    if size < TRANSFER_MIN_SIDE:
        found["image_size"] = (TRANSFER_MIN_SIDE, "pretrained weights given: "
                               f"at least {TRANSFER_MIN_SIDE} px, the smallest"
                               " input Keras' ImageNet weights are made for")
    return found


def _few_photos(profile: Optional[DataProfile], cpus: int) -> bool:
    """A small set of images larger than the grey-digit sizes the other
    CPU rules were measured on."""
    return profile is not None and profile.side > 2 * MIN_INPUT_SIDE and \
        profile.images <= FEW_PHOTOS_PER_2_CPUS * max(1, cpus // 2)


def _input_size(profile: Optional[DataProfile], device: str,
                cpus: int) -> dict:
    if profile is None:
        return {"image_size": (32, "no image headers could be sampled "
                                   "(not a class-folder tree): generic 32"),
                "channels": (1, "no image headers sampled: grey")}
    cap = MAX_INPUT_SIDE[device]
    if device == "cpu" and _few_photos(profile, cpus):
        cap = FEW_PHOTOS_SIDE
    side = profile.side
    if side < MIN_INPUT_SIDE:
        size, why = MIN_INPUT_SIDE, (
            f"images are {side} px; the convolution stack needs at least "
            f"{MIN_INPUT_SIDE} (and 16 measured best on the 8x8 digits)")
    elif side > cap:
        few = (f" for {profile.images} photos" if cap == FEW_PHOTOS_SIDE
               else "")
        size, why = cap, (f"images are {side} px; capped at {cap}{few} on "
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
            size: int, copies_given: Optional[object] = None) -> dict:
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
    where = f"{hardware.cpus} CPU cores, no GPU"
    if _few_photos(profile, hardware.cpus):
        return _few_photos_regime(images, size, where, copies_given)
    small = int(SMALL_DATA_IMAGES_PER_2_CPUS * max(1, hardware.cpus // 2)
                * _pixel_share(size))
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
                "epochs": (epochs, f"small data set: {epochs} epochs of "
                           f"{passes_per_epoch:,} image passes{at_size} (a "
                           f"budget of {passes:,}, {low} to {high} epochs; "
                           f"{SMALL_DATA_PASSES:,} at 16x16 were enough on "
                           "the digits)"),
                "batch_size": (32, "small data set: more updates per epoch"),
                "copies": (copies, "small data set: one augmented copy per "
                           "train image adds variety")}
    epochs = max(MIN_EPOCHS, min(10, math.ceil(IMAGE_PASSES / images)))
    passes = round(images * TRAIN_SHARE) * epochs
    return {"architecture": ("small_cnn", f"{images} images > {small}"
                             f"{at_size} on {where}: the classic small CNN "
                             "gives the most accuracy per second"),
            "epochs": (epochs, f"{images} images: {epochs} epochs, about "
                       f"{passes:,} image passes (a budget of "
                       f"{IMAGE_PASSES:,}, {MIN_EPOCHS} to 10 epochs) "
                       "reach the plain 10-epoch script's accuracy with a "
                       "cosine schedule"),
            "batch_size": (32, "on CPU, batch 32 converges in fewest "
                           "seconds for the small CNN"),
            "copies": (0, f"{images} real images: augmented copies would "
                       "double the training time for little gain")}


def _few_photos_regime(images: int, size: int, where: str,
                       copies_given: Optional[object]) -> dict:
    """Epochs follow the copies actually used (`copies_given` wins)."""
    copies = FEW_PHOTOS_COPIES if copies_given is None else int(copies_given)
    per_epoch = max(1, round(images * TRAIN_SHARE) * (1 + copies))
    low, high = FEW_PHOTOS_EPOCHS
    epochs = max(low, min(high, math.ceil(FEW_PHOTOS_PASSES / per_epoch)))
    return {"architecture": ("small_cnn", f"{images} photos on {where}: "
                             "the classic small CNN; the residual CNN "
                             "overfits so few and costs several times more"),
            "epochs": (epochs, f"{epochs} epochs of {per_epoch:,} image "
                       f"passes ({copies} augmented copies included) at "
                       f"{size}x{size}: a budget of {FEW_PHOTOS_PASSES:,}, "
                       f"{low} to {high} epochs"),
            "batch_size": (32, "small data set: more updates per epoch"),
            "copies": (copies, f"{images} photos: {copies} augmented copies "
                       "of each train image add the variety a few hundred "
                       "photos lack")}


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
