"""`imgpipe explain` (Grad-CAM heat-maps as PNGs) and `imgpipe export-edge`
(TensorFlow Lite models, each gated on its eval accuracy).

`register(app)` adds the commands to the main CLI; TensorFlow is imported
only when one runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from imgpipe.cli.console import fail
from imgpipe.cli.options import DEFAULT_MODEL_DIR, PushedModel


def explain(
    images: List[Path] = typer.Argument(..., metavar="IMAGE",
                                        help="Image files to explain."),
    model_dir: PushedModel = DEFAULT_MODEL_DIR,
    class_name: Optional[List[str]] = typer.Option(
        None, "--class", metavar="CLASS",
        help="Also explain this class (repeat); the predicted class is "
             "always explained."),
    output: Path = typer.Option(Path("output") / "explain",
                                help="Folder for the PNGs."),
) -> None:
    """Write Grad-CAM heat-maps of images as PNGs.

    One per image for the predicted class and each --class, computed
    through the served model's own preprocessing.
    """
    from imgpipe_components.model_report.gradcam import ExplainError, GradCam, save_overlay
    from imgpipe_components.model_store.in_service import version_in_service

    try:
        version_dir = version_in_service(model_dir)
        cam = GradCam(version_dir)
        for name in class_name or []:
            cam.class_index(name)           # an unknown class fails first
        for path in images:
            if not path.is_file():
                raise ExplainError(f"{path} is not a file.")
            data = path.read_bytes()
            for wanted in [None, *(class_name or [])]:
                result = cam.explain(data, wanted, source=str(path))
                written = save_overlay(
                    result, output / f"{path.stem}-{result.class_name}.png",
                    f"{path.name} (version {version_dir.name})")
                typer.echo(f"{path}: {result.class_name} "
                           f"{result.probability:.3f} -> {written}")
    except (ExplainError, FileNotFoundError) as error:
        fail(str(error), 2)


def _newest_examples(output: Path) -> Path:
    found = sorted((int(p.name), p) for p in
                   (output / "pipeline_root" / "ImageExampleGen" /
                    "examples").glob("*") if p.name.isdigit())
    if not found:
        raise FileNotFoundError(
            f"No ImageExampleGen output under {output}/pipeline_root: run "
            "`imgpipe run` first, or pass --examples.")
    return found[-1][1]


def export_edge(
    model_dir: PushedModel = DEFAULT_MODEL_DIR,
    examples: Optional[Path] = typer.Option(
        None, help="ImageExampleGen output with Split-train (calibration) "
                   "and Split-eval (scoring). Default: the newest one under "
                   "output/pipeline_root."),
    output: Optional[Path] = typer.Option(
        None, help="Folder of the exports. Default: "
                   "output/edge/MODEL/VERSION."),
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

    try:
        version_dir = version_in_service(model_dir)
        examples = examples or _newest_examples(Path("output"))
        output = output or (Path("output") / "edge" /
                            version_dir.parent.name / version_dir.name)
        report = export_version(version_dir, examples, output, formats,
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
    typer.echo(f"Written to {output}")


def register(app: typer.Typer) -> None:
    app.command()(explain)
    app.command("export-edge")(export_edge)
