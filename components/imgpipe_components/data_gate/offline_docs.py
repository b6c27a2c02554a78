"""Makes GX's Data Docs readable with no network.

GX's pages load Bootstrap, jQuery, Font Awesome and Vega from CDNs, and the
index page builds its tables in JavaScript from data inlined in a script;
the package ships none of those libraries (only fonts and logos no page
links). Offline, or on a machine that may not reach the internet, the pages
would be unstyled and the index empty. So after GX writes the site this:

* renders the index page's tables as plain HTML tables, from the rows GX
  inlined in the page's scripts;
* drops every script, every stylesheet or image from the internet (also
  in inline styles), the newsletter and tutorial footers, and links to web
  pages (their text stays);
* inlines a small stylesheet (tables, status icons as text characters);
* removes the static files no page links (GX copies fonts, logos and
  stylesheets that its pages do not use).
"""
from __future__ import annotations

import ast
import html
import os
import re
from typing import List, Optional

STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
ul.nav, .nav-tabs { list-style: none; padding: 0; }
.text-danger, .ge-failed-icon { color: #b00020; }
.text-success { color: #1a7f37; }
.fa-times::before, .fa-times-circle::before { content: "\\2718 "; }
.fa-check::before, .fa-check-circle::before { content: "\\2714 "; }
.fa-question-circle, .cooltip .top { display: none; }
button { display: none; }  /* every button needs the dropped scripts */
.card { border: 1px solid #ddd; margin: 1em 0; padding: 0.5em 1em; }
.offline-note { color: #666; font-size: 90%; }
</style>"""
NOTE = ("<p class='offline-note'>Data Docs of the image data gate, "
        "rewritten to read offline (no scripts or web assets). A suite "
        "shows Failed when any expectation failed, warnings included; "
        "report.json next to this folder says whether the run stopped and "
        "excluded.jsonl which images were left out and why.</p>")
_TABLE_CALL = re.compile(
    r"\$\('#(?P<id>[^']+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"
    r"columns: (?P<columns>\[.*?\]),\s*data: (?P<data>\[.*?\]),\s*toolbar:",
    re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_WEB_ASSET = re.compile(
    r"<(link|img)\b[^>]*\b(href|src)=\"https?://[^\"]*\"[^>]*>",
    re.IGNORECASE)
_FOOTER = re.compile(r"<footer\b.*?</footer>", re.DOTALL | re.IGNORECASE)
_WEB_LINK = re.compile(r"\s(href)=\"https?://[^\"]*\"", re.IGNORECASE)
# A CSS declaration loading a web asset, e.g. GX's logo as a background.
_CSS_WEB_URL = re.compile(r"[\w-]+\s*:\s*url\(['\"]?https?://[^)]*\)[^;}]*;?")
_LOCAL_REF = re.compile(r"(?:href|src)=\"(?!https?:|#|data:)([^\"#?]+)")


def make_offline(docs_dir: str) -> None:
    """Rewrites the Data Docs site in `docs_dir` in place (see above)."""
    pages = _files(docs_dir, (".html",))
    for path in pages:
        with open(path, encoding="utf-8") as handle:
            page = handle.read()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(offline_page(page))
    _remove_unlinked_static(docs_dir, pages)


def offline_page(page: str) -> str:
    """One page with its script-built tables rendered and web assets gone."""
    for call in _TABLE_CALL.finditer(page):
        table = _static_table(call.group("columns"), call.group("data"))
        if table is not None:
            page = re.sub(
                rf"<table\s+id=\"{re.escape(call.group('id'))}\"[^>]*>\s*"
                r"</table>", lambda _: table, page, count=1)
    page = _SCRIPT.sub("", page)
    page = _WEB_ASSET.sub("", page)
    page = _FOOTER.sub("", page)
    page = _WEB_LINK.sub("", page)
    page = _CSS_WEB_URL.sub("", page)
    page = re.sub(r"</head>", lambda _: STYLE + "</head>", page, count=1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + NOTE, page,
                  count=1)


def _static_table(columns_text: str, data_text: str) -> Optional[str]:
    """An HTML table from bootstrap-table's `columns` and `data` (Python
    literals in GX's template); None if they do not parse."""
    try:
        columns = ast.literal_eval(columns_text)
        rows = ast.literal_eval(data_text)
    except (ValueError, SyntaxError):
        return None
    head = "".join(f"<th>{html.escape(c.get('title', c['field']))}</th>"
                   for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = []
        for column in columns:
            field = column["field"]
            # Status cells are Font Awesome icons: use GX's text instead.
            text = row.get(f"_{field}_text")
            value = (html.escape(text) if text is not None
                     else str(row.get(field, "")))
            if link and not cells:
                value = f"<a href=\"{html.escape(link)}\">{value}</a>"
            cells.append(f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table><tr>{head}</tr>" + "".join(body) + "</table>")


def _files(root: str, suffixes) -> List[str]:
    return sorted(os.path.join(folder, name)
                  for folder, _, names in os.walk(root) for name in names
                  if name.endswith(suffixes))


def _remove_unlinked_static(docs_dir: str, pages: List[str]) -> None:
    linked = set()
    for path in pages:
        with open(path, encoding="utf-8") as handle:
            for ref in _LOCAL_REF.findall(handle.read()):
                linked.add(os.path.normpath(
                    os.path.join(os.path.dirname(path), html.unescape(ref))))
    for path in _files(os.path.join(docs_dir, "static"), ("",)):
        if os.path.normpath(path) not in linked:
            os.remove(path)
    for folder, _, _ in sorted(os.walk(os.path.join(docs_dir, "static")),
                               reverse=True):
        if not os.listdir(folder):
            os.rmdir(folder)
