"""The training page the KFP UI shows for a run (a `system.HTML` output of
KfpUiReport): the Trainer's curves, its per-epoch history and where its
TensorBoard logs are.

The KFP 2.x UI has no TensorBoard viewer (the v1 `mlpipeline-ui-metadata`
tensorboard entry is not read for v2 runs), so the page names the log
folder and the two ways to open it: Kubeflow's TensorBoards app (a
Tensorboard resource over that folder) or `tensorboard --logdir` with the
bucket's credentials. Plain functions over plain data, tested without a
cluster.
"""
from __future__ import annotations

import base64
import html
from typing import Dict, List, Optional

# Kubeflow's central dashboard serves the TensorBoards web app here.
TENSORBOARDS_APP = "/_/tensorboards/"
TENSORBOARD_FOLDER = "tensorboard"   # components/imgpipe_components/train/trainer_module.py


def tensorboard_markdown(logdir: str) -> str:
    return ("### TensorBoard\n"
            f"Logs: `{logdir}`\n\n"
            f"- Kubeflow: [TensorBoards]({TENSORBOARDS_APP}), new "
            "TensorBoard, object store path above.\n"
            f"- Anywhere with read access: `tensorboard --logdir {logdir}`")


def _history_rows(history: Dict[str, List[float]]) -> str:
    # Per-epoch series only: history.json also holds run notes (e.g. why
    # training stopped early, an ensemble's members), which are not columns.
    history = {n: v for n, v in history.items() if isinstance(v, list)
               and all(isinstance(x, (int, float)) for x in v)}
    names = sorted(history)
    epochs = max((len(values) for values in history.values()), default=0)
    header = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{epoch + 1}</td>" + "".join(
            f"<td>{history[n][epoch]:.4g}</td>" if epoch < len(history[n])
            else "<td></td>" for n in names) + "</tr>"
        for epoch in range(epochs))
    return f"<table><tr><th>epoch</th>{header}</tr>{rows}</table>"


def training_html(history: Dict[str, List[float]],
                  curves_png: Optional[bytes], logdir: str) -> str:
    """One self-contained page: the UI shows one file, so the picture is
    embedded and nothing is linked."""
    picture = ("<img alt='training curves' src='data:image/png;base64,"
               + base64.b64encode(curves_png).decode("ascii") + "'>"
               if curves_png else "<p>No training_curves.png was written.</p>")
    logs = html.escape(logdir)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}table{border-collapse:collapse}"
        "img{max-width:100%}</style></head><body>"
        f"<h2>Training curves</h2>{picture}"
        f"<h3>Per epoch</h3>{_history_rows(history)}"
        f"<h3>TensorBoard</h3><p>Logs: <code>{logs}</code></p><ul>"
        f"<li>Kubeflow: <a href='{TENSORBOARDS_APP}' target='_top'>"
        "TensorBoards</a>, new TensorBoard over that object store path.</li>"
        f"<li>Anywhere with read access: <code>tensorboard --logdir {logs}"
        "</code></li></ul></body></html>")
