"""Where a local run lives: everything under one output folder.

The local runner's half of the split between *how* to train (PipelineConfig)
and *where* (imgpipe.locations.Locations): the pipeline root, the ML Metadata
store, the serving folder and the logs, all under `output_root`.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Union

from imgpipe.locations import Locations


def _absolute(path: Union[str, Path]) -> str:
    """Absolute local paths (TFX records them in ML Metadata); gs:// URIs as
    given (pathlib would fold their '//')."""
    text = str(path)
    return text if "://" in text else os.path.abspath(text)


@dataclasses.dataclass(frozen=True)
class LocalLayout:
    data_root: str
    output_root: Path

    def __init__(self, data_root: Union[str, Path],
                 output_root: Union[str, Path]):
        object.__setattr__(self, "data_root", _absolute(data_root))
        object.__setattr__(self, "output_root", Path(_absolute(output_root)))

    @property
    def pipeline_root(self) -> str:
        return str(self.output_root / "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return str(self.output_root / "metadata.sqlite")

    @property
    def logs_dir(self) -> Path:
        return self.output_root / "logs"

    def serving_dir(self, model_name: str) -> str:
        """TF Serving's model base path: one numbered folder per version."""
        return str(self.output_root / "serving" / model_name)

    def locations(self, model_name: str) -> Locations:
        return Locations(self.data_root, self.pipeline_root,
                         self.serving_dir(model_name))
