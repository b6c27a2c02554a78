"""What to try when a run's model is not blessed: one plain sentence with
the numbers and the options of `imgpipe run` that address them, chosen from
the settings the run used."""
from __future__ import annotations

import math
from typing import List, Optional

from imgpipe.config import PipelineConfig


def when_not_blessed(config: PipelineConfig, accuracy: Optional[float],
                     baseline: Optional[float], eval_images: Optional[int]
                     ) -> str:
    """"" when there is nothing to say (no evaluation)."""
    if accuracy is None:
        return ""
    evaluation, train = config.evaluation, config.train
    if baseline is not None and accuracy >= evaluation.min_accuracy:
        return (f"The model in service stays: this model's accuracy "
                f"{accuracy:.4f} is {baseline - accuracy:.4f} below its "
                f"{baseline:.4f} (at most {evaluation.max_accuracy_drop} "
                "allowed). If the data changed, read the data gate report; "
                "otherwise train longer or with more augmentation, or allow "
                "a larger drop with --max-accuracy-drop.")
    options: List[str] = []
    if eval_images is not None:
        options.append(f"more images per class (the eval split held "
                       f"{eval_images})")
    if config.augment.copies < 2:
        options.append("--copies 2 (augmented copies of each train image)")
    if not train.online_augmentation:
        options.append("--online-augmentation")
    options.append(f"--epochs {max(train.epochs * 2, 20)}")
    if train.architecture == "small_cnn":
        options.append("--architecture residual_cnn")
    if not train.transfer_weights:
        options.append("--architecture transfer with pretrained weights "
                       "(transfer_weights in a --config file)")
    floor = math.floor(accuracy * 100) / 100
    return (f"Not served: accuracy {accuracy:.4f} is below the minimum "
            f"{evaluation.min_accuracy}. To try: {'; '.join(options)}; or, "
            f"if {accuracy:.2f} is good enough for your use, "
            f"--min-accuracy {floor:.2f}.")
