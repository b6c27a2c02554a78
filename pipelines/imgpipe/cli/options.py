"""Options that several commands share, declared once so that each
command describes a setting the same way.

The settings that `imgpipe run` and `imgpipe kubeflow compile` share are
`Annotated` types, and each command gives the default: `imgpipe run`
leaves the training settings to the chooser (from the data and this
machine) and shows the built-in default of the others, which apply only
when neither the option nor its --config file sets them (an option counts
as given only on the command line: cli/run_settings.py); `kubeflow
compile` leaves them all unset, so that its --config file, then its
chooser (from a sample of data_root and the Trainer step's hardware), then
the built-in defaults apply, as its help says. The commands that act on a
run share `--output OUT`, the run's folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


MODEL_NAME_HELP = ("Name the model is pushed and served under: letters, "
                   "digits, '_', '.' and '-'.")
ModelName = Annotated[Optional[str], typer.Option(help=MODEL_NAME_HELP)]
# `imgpipe run` names the model after its data folder (config.model_name_for).
RunModelName = Annotated[Optional[str], typer.Option(
    "--model-name", help=MODEL_NAME_HELP,
    show_default="the data folder's name, made safe for URLs")]
ImageSize = Annotated[Optional[int], typer.Option(
    min=8, help="Side of the square model input. Default: chosen from the "
                "images' size and the hardware.")]
Channels = Annotated[Optional[int], typer.Option(
    min=1, max=3, help="1 (grey) or 3 (RGB). Default: 1 if the sampled "
                       "images are grey.")]
Architecture = Annotated[Optional[str], typer.Option(
    help="small_cnn, residual_cnn, transfer or vit (a small vision "
         "transformer). Default: chosen from the data-set size and the "
         "hardware.")]
Ensemble = Annotated[Optional[int], typer.Option(
    min=1, metavar="N",
    help="Train N models (seeds SEED, SEED+1, ...; or the settings file's "
         "train.ensemble_architectures) and export one model that averages "
         "their probabilities; N times the training time. Default: 1.")]
Epochs = Annotated[Optional[int], typer.Option(
    min=1, help="Training epochs. Default: chosen from the data-set size "
                "and the hardware.")]
MinAccuracy = Annotated[Optional[float], typer.Option(
    min=0, max=1, help="Eval accuracy a model needs to be blessed.")]
MaxAccuracyDrop = Annotated[Optional[float], typer.Option(
    min=0, max=1, help="Eval accuracy a model may lose against the model "
                       "in service.")]
SpanPattern = Annotated[Optional[str], typer.Option(
    metavar="PATTERN",
    help="Folder of each span under the data root, such as 'span-{SPAN}': "
         "the run ingests the latest span and compares it with the one "
         "before (docs/ingestion.md).")]
SettingsFile = Annotated[Optional[Path], typer.Option(
    "--config", metavar="FILE",
    help="YAML settings with a pipeline: section (and, for Kubeflow, a "
         "kubeflow: one; see docs/pipeline.md); options given here win over "
         "it.")]

# The commands that act on a run find it by its output folder, whose
# imgpipe.json names the model (imgpipe.runners.local.output_record).
DEFAULT_OUTPUT = Path("output")
RunOutput = Annotated[Path, typer.Option(
    "--output", metavar="OUT",
    help="Output folder of the `imgpipe run` to act on; its imgpipe.json "
         "names the model, so no other path is needed.")]
PushedModel = Annotated[Optional[Path], typer.Option(
    show_default="OUT/serving/MODEL",
    help="A pushed model's folder (its stable version is used) or one "
         "version's SavedModel folder, instead of the run's.")]
