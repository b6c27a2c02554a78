"""`imgpipe explain` (Grad-CAM heat-maps as PNGs) and `imgpipe export-edge`
(TensorFlow Lite models, each gated on its eval accuracy).

`register(app)` adds the commands to the main CLI; TensorFlow is imported
only when one runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from imgpipe.cli import run_target
from imgpipe.cli.console import fail
from imgpipe.cli.options import DEFAULT_OUTPUT, PushedModel, RunOutput


def explain(
    images: List[Path] = typer.Argument(..., metavar="IMAGE",
                                        help="Image files to explain."),
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: PushedModel = None,
    class_name: Optional[List[str]] = typer.Option(
        None, "--class", metavar="CLASS",
        help="Also explain this class (repeat); the predicted class is "
             "always explained."),
    png_dir: Optional[Path] = typer.Option(
        None, show_default="OUT/explain", help="Folder for the PNGs."),
) -> None:
    """Write Grad-CAM heat-maps of images as PNGs.

    One per image for the predicted class and each --class, computed
    through the served model's own preprocessing.
    """
    from imgpipe_components.model_report.gradcam import ExplainError, GradCam, save_overlay
    from imgpipe_components.model_store.in_service import version_in_service

    png_dir = png_dir or run_target.run_output(model_dir, output) / "explain"
    model_dir = run_target.pushed_model_dir(model_dir, output)
    try:
        version_dir = version_in_service(model_dir)
        cam = GradCam(version_dir)
        for name in class_name or []:
            cam.class_index(name)           # an unknown class fails first
        typer.echo(f"Heat-maps: {cam.method}.")
        for path in images:
            if not path.is_file():
                raise ExplainError(f"{path} is not a file.")
            data = path.read_bytes()
            for wanted in [None, *(class_name or [])]:
                result = cam.explain(data, wanted, source=str(path))
                written = save_overlay(
                    result, png_dir / f"{path.stem}-{result.class_name}.png",
                    f"{path.name} (version {version_dir.name})")
                typer.echo(f"{path}: {result.class_name} "
                           f"{result.probability:.3f} -> {written}")
    except (ExplainError, FileNotFoundError) as error:
        fail(str(error), 2)


def _newest_examples(pipeline_root: Path) -> Path:
    found = sorted((int(p.name), p) for p in
                   (pipeline_root / "ImageExampleGen" / "examples").glob("*")
                   if p.name.isdigit())
    if not found:
        raise FileNotFoundError(
            f"No ImageExampleGen output under {pipeline_root}: run `imgpipe "
            "run` first, pass the --output folder of a run, or pass "
            "--examples.")
    return found[-1][1]


def export_edge(
    output: RunOutput = DEFAULT_OUTPUT,
    model_dir: PushedModel = None,
    examples: Optional[Path] = typer.Option(
        None, show_default="the newest under OUT/pipeline_root",
        help="ImageExampleGen output with Split-train (calibration) and "
             "Split-eval (scoring)."),
    export_dir: Optional[Path] = typer.Option(
        None, show_default="OUT/edge/MODEL/VERSION",
        help="Folder of the exports."),
    formats: List[str] = typer.Option(
        ["float32", "float16", "int8"], "--format", metavar="FORMAT",
        help="float32, float16 or int8 (repeat)."),
    max_accuracy_drop: float = typer.Option(
        0.01, min=0, max=1, help="A format losing more eval accuracy than "
                                 "this against the SavedModel is not "
                                 "published."),
) -> None:
    """Export a pushed model to TensorFlow Lite.

    Each format is scored on the eval split by the TFLite interpreter and
    published only within --max-accuracy-drop of the SavedModel's accuracy.
    """
    from imgpipe_components.edge_export.export import EdgeExportError, export_version
    from imgpipe_components.model_store.in_service import version_in_service

    root = run_target.run_output(model_dir, output)
    model_dir = run_target.pushed_model_dir(model_dir, output)
    try:
        version_dir = version_in_service(model_dir)
        examples = examples or _newest_examples(root / "pipeline_root")
        export_dir = export_dir or (root / "edge" / version_dir.parent.name /
                                    version_dir.name)
        report = export_version(version_dir, examples, export_dir, formats,
                                max_accuracy_drop)
    except (EdgeExportError, FileNotFoundError) as error:
        fail(str(error), 2)
    typer.echo(f"SavedModel eval accuracy {report['saved_model_accuracy']:.4f}"
               f" on {report['eval_images']} images")
    for variant in report["variants"]:
        state = ("published" if variant["published"]
                 else f"NOT published: {variant['reason']}")
        typer.echo(f"  {variant['format']:<8} {variant['size_bytes']:>9,} "
                   f"bytes  accuracy {variant['accuracy']:.4f}  {state}")
    typer.echo(f"Written to {export_dir}")


def register(app: typer.Typer) -> None:
    app.command()(explain)
    app.command("export-edge")(export_edge)
