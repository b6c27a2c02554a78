"""How an augmented copy is named: `<original image id>#aug<copy index>`.

Downstream code groups a copy with its original by this id (Transform's
`image_group`, the Trainer's early-stopping holdout), so a copy never sits
on the other side of a split from the image it was made from.
"""
from __future__ import annotations

AUG_SEPARATOR = "#aug"
# The same suffix as a regular expression (RE2, as tf.strings uses).
AUG_SUFFIX_PATTERN = AUG_SEPARATOR + "[0-9]+$"


def copy_id(image_id: str, copy_index: int) -> str:
    return f"{image_id}{AUG_SEPARATOR}{copy_index}"
