"""`imgpipe explain`: Grad-CAM heat-maps for images, as PNGs.

`register(app)` adds the command to the main CLI; TensorFlow is imported
only when it runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

console = Console(stderr=True)


def explain(
    images: List[Path] = typer.Argument(..., help="Image files to explain."),
    model_dir: Path = typer.Option(
        Path("output") / "serving" / "digits",
        help="A pushed model's folder (its newest version is used) or one "
             "version's SavedModel folder."),
    class_name: Optional[List[str]] = typer.Option(
        None, "--class", help="Also explain this class (repeatable); the "
                              "predicted class is always explained."),
    output: Path = typer.Option(Path("output") / "explain",
                                help="Folder for the PNGs."),
) -> None:
    """Grad-CAM heat-maps over each image, for the predicted class (and any
    --class), through the served model's own preprocessing."""
    from components.explain.gradcam import ExplainError, GradCam, save_overlay
    from pipelines.predict import resolve_version_dir

    try:
        version_dir = resolve_version_dir(model_dir)
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
        console.print(f"[bold red]Error:[/] {error}")
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command()(explain)
