"""Where a pipeline run reads and writes, apart from how it trains.

Light on purpose (no TFX import): runners and the command line build it
before anything heavy loads.
"""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Locations:
    """Where a run reads and writes; each runner builds its own.

    `data_root` may be a TFX RuntimeParameter (a Kubeflow run parameter).
    """
    data_root: Any
    pipeline_root: str
    serving_dir: str        # TF Serving's model base path, local or gs://
