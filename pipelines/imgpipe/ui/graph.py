"""The pipeline graph of one run as an inline SVG, drawn on the server.

Nodes and edges come from lineage over every run of the folder
(store.Snapshot), so a run that stopped early still shows the steps it
never reached. An edge says what must finish before a step starts: edges
implied by a longer path are left out (the transitive reduction: every
step reads ImageExampleGen's examples, but drawing all of those hides the
order), and the steps table lists each step's artifacts. The layout is
layered top to bottom (a step sits one row below its last input), which
keeps the picture narrow enough for a phone; an edge between neighbouring
rows is a curve, a longer one runs down a lane on the right. Each box
links to the step's row in the table below the graph; colours come from
the page's CSS (class = step state).
"""
from __future__ import annotations

from typing import Dict, List, Set, Tuple

from markupsafe import Markup, escape

BOX_W, BOX_H, GAP_X, GAP_Y, LANE, PAD = 184, 44, 12, 28, 10, 4
LONG_NAME = 19          # characters; longer names get a smaller font


def reduced(edges: Set[Tuple[str, str]]) -> Set[Tuple[str, str]]:
    """The edges not implied by a longer path (transitive reduction)."""
    after: Dict[str, Set[str]] = {}
    for source, target in edges:
        after.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, skip: Tuple[str, str]) -> bool:
        stack, seen = [start], {start}
        while stack:
            node = stack.pop()
            for nxt in after.get(node, ()):
                if (node, nxt) == skip or nxt in seen:
                    continue
                if nxt == goal:
                    return True
                seen.add(nxt)
                stack.append(nxt)
        return False
    return {edge for edge in edges if not reaches(*edge, skip=edge)}


def layers(nodes: List[str], edges: Set[Tuple[str, str]]) -> Dict[str, int]:
    """Row of each node: one below its lowest input (longest path)."""
    inputs: Dict[str, List[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in inputs and target in inputs:
            inputs[target].append(source)
    row: Dict[str, int] = {}

    def place(node: str, seen: frozenset) -> int:
        if node not in row:
            row[node] = 1 + max((place(p, seen | {node}) for p in inputs[node]
                                 if p not in seen), default=-1)
        return row[node]
    for node in nodes:
        place(node, frozenset())
    return row


def _positions(nodes: List[str], row: Dict[str, int]):
    by_row: Dict[int, List[str]] = {}
    for node in nodes:
        by_row.setdefault(row[node], []).append(node)
    columns = max((len(members) for members in by_row.values()), default=1)
    width = columns * (BOX_W + GAP_X) - GAP_X
    places = {}
    for number, members in by_row.items():
        offset = (width - (len(members) * (BOX_W + GAP_X) - GAP_X)) / 2
        for index, node in enumerate(members):
            places[node] = (PAD + offset + index * (BOX_W + GAP_X),
                            PAD + number * (BOX_H + GAP_Y))
    return places, width


def _lanes(edges, row) -> Dict[str, int]:
    """One lane per source with edges that skip rows; sources whose spans
    overlap get different lanes."""
    spans: Dict[str, Tuple[int, int]] = {}
    for source, target in edges:
        if row[target] - row[source] > 1:
            low, high = spans.get(source, (row[source], row[source]))
            spans[source] = (low, max(high, row[target]))
    taken: List[List[Tuple[int, int]]] = []
    lane_of = {}
    for source, (low, high) in sorted(spans.items(), key=lambda s: s[1]):
        for index, used in enumerate(taken):
            if all(high < a or low > b for a, b in used):
                used.append((low, high))
                lane_of[source] = index
                break
        else:
            taken.append([(low, high)])
            lane_of[source] = len(taken) - 1
    return lane_of


def _edge_path(source, target, places, row, lane_x) -> str:
    sx, sy = places[source]
    tx, ty = places[target]
    x1, y1 = sx + BOX_W / 2, sy + BOX_H
    x2, y2 = tx + BOX_W / 2, ty
    if row[target] - row[source] == 1:
        middle = (y1 + y2) / 2
        return f"M{x1:.0f},{y1:.0f} C{x1:.0f},{middle:.0f} " \
               f"{x2:.0f},{middle:.0f} {x2:.0f},{y2:.0f}"
    below, above = y1 + GAP_Y / 2, y2 - GAP_Y / 2
    return (f"M{x1:.0f},{y1:.0f} V{below:.0f} H{lane_x:.0f} V{above:.0f} "
            f"H{x2:.0f} V{y2:.0f}")


def _box(node: str, x: float, y: float, state: str, detail: str) -> str:
    name, detail = escape(node), escape(detail)
    size = "name long" if len(node) > LONG_NAME else "name"
    css = escape(state.replace(" ", "-"))
    return (f'<a href="#step-{name}" class="node {css}">'
            f"<title>{name}: {detail}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="6"/><text x="{x + 10:.0f}" y="{y + 18:.0f}" '
            f'class="{size}">{name}</text><text x="{x + 10:.0f}" '
            f'y="{y + 35:.0f}" class="detail">{detail}</text></a>')


def render(nodes: List[str], edges: Set[Tuple[str, str]],
           steps: Dict[str, Tuple[str, str]]) -> Markup:
    """`steps`: node -> (state, detail text); nodes without one are drawn
    as "not run"."""
    if not nodes:
        return Markup("")
    edges = reduced(edges)
    row = layers(nodes, edges)
    places, width = _positions(nodes, row)
    lane_of = _lanes(edges, row)
    lanes_x = PAD + width + 12
    total_w = lanes_x + LANE * len(set(lane_of.values())) + PAD
    total_h = PAD * 2 + (max(row.values()) + 1) * (BOX_H + GAP_Y) - GAP_Y
    paths = ['<path d="%s"/>' % _edge_path(
        s, t, places, row, lanes_x + LANE * lane_of.get(s, 0))
        for s, t in sorted(edges) if s in places and t in places]
    boxes = [_box(node, *places[node],
                  *steps.get(node, ("not run", "not run")))
             for node in nodes]
    return Markup(
        f'<svg class="graph" viewBox="0 0 {total_w:.0f} {total_h:.0f}" '
        f'width="{total_w:.0f}" role="img" aria-label="pipeline graph">'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L8,4 L0,8 z"/></marker></defs>'
        f'<g class="edges">{"".join(paths)}</g>{"".join(boxes)}</svg>')
