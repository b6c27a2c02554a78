"""Optional report sections: Grad-CAM examples and the edge exports.

Both explain the model; neither decides anything. A failure here is shown
in the section and logged, and never fails the run that produced a model.
"""
from __future__ import annotations

import html
import io
import json
import os
from pathlib import Path
from typing import List, Optional, Tuple

from absl import logging

from imgpipe_components.model_report.html import png_data_uri, table

PER_CLASS = 2           # eval images explained per class
MISCLASSIFIED = 8       # and at most this many of the errors


def gradcam(model_uri: Optional[str], examples_uri: Optional[str]) -> str:
    if not model_uri or not examples_uri:
        return ""
    try:
        png, shown, errors, method = _gradcam_grid(
            Path(model_uri) / "Format-Serving", Path(examples_uri))
    except Exception as error:  # noqa: BLE001 - a report section, see above
        logging.warning("Grad-CAM examples not drawn: %s", error)
        return ("<h2>Grad-CAM examples</h2><p>Not available: "
                f"{html.escape(str(error))}</p>")
    return (f"<h2>Grad-CAM examples</h2><p>{shown} eval images: "
            f"{PER_CLASS} per class and {errors} misclassified (red titles);"
            " warm areas drove the predicted class; the white line outlines "
            f"the object. The maps show {html.escape(method)}.</p>"
            f'<img alt="Grad-CAM examples" src="{png_data_uri(png)}">')


def _gradcam_grid(version_dir: Path, examples_uri: Path
                  ) -> Tuple[bytes, int, int, str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imgpipe_components.edge_export.export import read_split
    from imgpipe_components.model_report.gradcam import GradCam

    cam = GradCam(version_dir)
    images, labels = read_split(examples_uri, "eval")
    predicted = cam.predicted(images)
    chosen: List[int] = []
    for label in sorted(set(labels.tolist())):
        chosen += [i for i in range(len(labels)) if labels[i] == label][
            :PER_CLASS]
    wrong = [i for i in range(len(labels)) if predicted[i] != labels[i]]
    chosen += [i for i in wrong if i not in chosen][:MISCLASSIFIED]
    columns = 10
    rows = -(-len(chosen) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.3,
                                                         rows * 1.5))
    for axis in axes.ravel():
        axis.axis("off")
    for axis, index in zip(axes.ravel(), chosen):
        result = cam.explain(images[index])
        axis.imshow(result.image, interpolation="nearest")
        axis.imshow(result.heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        # The heat hides the object under it: outline it, so a reader sees
        # whether the hot area is the stroke or the background.
        gray = result.image.mean(axis=-1)
        if gray.max() > gray.min():
            axis.contour(gray, levels=[(gray.min() + gray.max()) / 2],
                         colors="white", linewidths=0.8)
        true = cam.class_names[labels[index]]
        axis.set_title(f"{true}->{result.class_name} {result.probability:.2f}",
                       fontsize=7,
                       color="black" if true == result.class_name else "red")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return (buffer.getvalue(), len(chosen), min(len(wrong), MISCLASSIFIED),
            cam.method)


def ensemble_members(history: dict) -> str:
    """An ensemble's members (history.json's "members", written by the
    Trainer): architecture, seed and eval accuracy of each, beside the
    ensemble's own; "" for a single model."""
    members = history.get("members")
    if not members:
        return ""
    rows = [(m["name"], m["architecture"], m["seed"], m["eval_accuracy"],
             f"{m.get('training_seconds', 0):.1f}") for m in members]
    return ("<h2>Ensemble members</h2><p>The model averages the "
            f"probabilities of {len(members)} members; the ensemble's eval "
            f"accuracy is {history['ensemble_eval_accuracy']:.4f} (Keras, "
            "on the eval split). The training curves are member_0's.</p>"
            + table(["member", "architecture", "seed", "eval accuracy",
                     "training s"], rows))


def edge_table(edge_uri: Optional[str]) -> str:
    if not edge_uri:
        return ""
    from imgpipe_components.edge_export.export import REPORT
    path = os.path.join(edge_uri, REPORT)
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        return ("<h2>Edge exports (TensorFlow Lite)</h2><p>No report: "
                f"{html.escape(str(error))}</p>")
    rows = [(v["format"], f"{v['size_bytes']:,}", v["accuracy"],
             v["accuracy_drop"], "yes" if v["published"] else
             f"no: {v['reason']}") for v in report["variants"]]
    return ("<h2>Edge exports (TensorFlow Lite)</h2>"
            f"<p>SavedModel eval accuracy {report['saved_model_accuracy']:.4f}"
            f" on {report['eval_images']} images; a variant that drops more "
            f"than {report['max_accuracy_drop']:.4f} is not published.</p>"
            + table(["format", "bytes", "eval accuracy", "drop",
                     "published"], rows))
