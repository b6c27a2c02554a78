"""Dependencies point one way: no import cycle between the packages of
imgpipe, and no component imports a runner, the CLI or the server.

Imports are read with `ast` (module- and function-level; the heavy ones live
inside functions), so this runs in milliseconds and imports nothing.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2] / "imgpipe"
NESTED = ("components", "modules", "runners")   # one package per folder
# What composes the components: they must not import it back.
FACTORY = {"imgpipe.pipeline", "imgpipe.config", "imgpipe.locations"}


def package_of(module: str) -> Optional[str]:
    parts = module.split(".")
    if parts[0] != "imgpipe":
        return None
    if len(parts) == 1:
        return "imgpipe"
    if not (ROOT / parts[1]).is_dir():
        return f"imgpipe.{parts[1]}"              # a top-level module
    if parts[1] in NESTED and len(parts) > 2 and (
            ROOT / parts[1] / parts[2]).is_dir():
        return f"{parts[1]}.{parts[2]}"
    return parts[1]


def import_graph() -> Dict[str, Set[str]]:
    edges: Dict[str, Set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        me = package_of(".".join(relative.parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module \
                    and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                other = package_of(name)
                if other and other != me:
                    edges.setdefault(me, set()).add(other)
    return edges


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    found = []

    def walk(start: str, node: str, path: List[str]) -> None:
        for following in sorted(edges.get(node, ())):
            if following == start:
                found.append(path + [start])
            elif following not in path and following > start:
                walk(start, following, path + [following])

    for start in sorted(edges):
        walk(start, start, [start])
    return found


def test_no_package_import_cycle():
    edges = import_graph()
    graph = "\n".join(f"{k} -> {', '.join(sorted(v))}"
                      for k, v in sorted(edges.items()))
    assert cycles(edges) == [], graph


def test_components_import_no_runner_cli_or_server():
    for package, targets in import_graph().items():
        if package.startswith(("components.", "modules.")):
            assert not {t for t in targets if t.startswith(
                ("runners", "cli", "serving")) or t in FACTORY}, \
                (package, targets)

