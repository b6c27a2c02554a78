"""Options that several commands share, declared once so that each
command describes a setting the same way.

The settings that `imgpipe run` and `imgpipe kubeflow compile` share are
`Annotated` types, and each command gives the default: `imgpipe run`
leaves the training settings to the chooser (from the data and this
machine) and shows the built-in default of the others; `kubeflow compile`
leaves them all unset, so that its --config file, then its chooser (from a
sample of data_root and the Trainer step's hardware), then the built-in
defaults apply, as its help says.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from imgpipe.config import PipelineConfig

ModelName = Annotated[Optional[str], typer.Option(
    help="Name the model is pushed and served under.")]
ImageSize = Annotated[Optional[int], typer.Option(
    min=8, help="Side of the square model input. Default: chosen from the "
                "images' size and the hardware.")]
Channels = Annotated[Optional[int], typer.Option(
    min=1, max=3, help="1 (grey) or 3 (RGB). Default: 1 if the sampled "
                       "images are grey.")]
Architecture = Annotated[Optional[str], typer.Option(
    help="small_cnn, residual_cnn or transfer. Default: chosen from the "
         "data-set size and the hardware.")]
Epochs = Annotated[Optional[int], typer.Option(
    min=1, help="Training epochs. Default: chosen from the data-set size "
                "and the hardware.")]
MinAccuracy = Annotated[Optional[float], typer.Option(
    min=0, max=1, help="Eval accuracy a model needs to be blessed.")]

# The models that `imgpipe run` pushes, as the serving, promotion and
# explanation commands find them by default.
DEFAULT_MODEL_DIR = Path("output") / "serving" / PipelineConfig.model_name
PushedModel = Annotated[Path, typer.Option(
    help="A pushed model's folder (its stable version is used) or one "
         "version's SavedModel folder.")]
