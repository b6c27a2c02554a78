"""A self-contained HTML model report: every image embedded as base64."""
from __future__ import annotations

import base64
import html
import io
from typing import Dict, List, Optional, Sequence


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def confusion_matrix_png(matrix: Sequence[Sequence[float]],
                         class_names: Sequence[str]) -> bytes:
    """Rows are actual classes, columns predicted; counts in the cells."""
    import matplotlib
    matplotlib.use("Agg")  # headless: no display on nodes or CI
    import matplotlib.pyplot as plt

    n = len(matrix)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * n, 0.8 + 0.5 * n), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels=class_names)
    ax.set_yticks(range(n), labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    peak = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, f"{count:g}", ha="center", va="center", fontsize=8,
                    color="white" if count > peak / 2 else "black")
    ax.set_title("Confusion matrix (eval split)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def table(headers: Sequence[str], rows: List[Sequence]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def build_report_html(decision: dict, overall: Dict[str, Dict[str, Optional[float]]],
                      per_class: List[dict], confusion_png: Optional[bytes],
                      curves_png: Optional[bytes], extra: str = "") -> str:
    """`overall`: metric -> {"candidate", "baseline"}; `per_class`: rows
    with class_name, precision, recall, count (results.per_class_from_matrix);
    `extra`: more sections' HTML."""
    verdict = "BLESSED" if decision["blessed"] else "NOT BLESSED"
    checks = table(
        ["metric", "candidate", "baseline", "lower bound", "max drop",
         "passed"],
        [(c["metric"], c["candidate"], c["baseline"], c["lower_bound"],
          c["max_drop"], "yes" if c["passed"] else "no")
         for c in decision["checks"]])
    reasons = "".join(f"<li>{html.escape(r)}</li>"
                      for r in decision["reasons"])
    metrics = table(["metric", "candidate", "baseline"],
                     [(name, v.get("candidate"), v.get("baseline"))
                      for name, v in sorted(overall.items())])
    classes = table(["class", "precision", "recall", "examples"],
                     [(r["class_name"], r.get("precision"), r.get("recall"),
                       r.get("count")) for r in per_class])
    images = "".join(
        f'<h2>{title}</h2><img alt="{title}" src="{png_data_uri(png)}">'
        for title, png in (("Confusion matrix", confusion_png),
                           ("Training curves", curves_png)) if png)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Model report</title>
<style>body{{font-family:sans-serif;margin:2em}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
.blessed{{color:#080}}.rejected{{color:#b00}}</style></head><body>
<h1>Model report: <span class="{'blessed' if decision['blessed'] else 'rejected'}">{verdict}</span></h1>
<p>Baseline: {'the model in service (the stable version)' if decision['has_baseline'] else 'none (absolute bounds only)'}</p>
<h2>Decision</h2><ul>{reasons}</ul>{checks}
<h2>Overall metrics</h2>{metrics}
<h2>Per class</h2>{classes}
{images}
{extra}
</body></html>
"""
