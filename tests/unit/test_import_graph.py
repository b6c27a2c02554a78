"""Dependencies point one way: `imgpipe` (pipelines/: the factory, runners,
CLI, server) may import `imgpipe_components` (components/: what runs inside a
step), never the reverse, and no import cycle joins the packages of either.

Imports are read with `ast` (module- and function-level; the heavy ones live
inside functions), so this runs in milliseconds and imports nothing.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
ROOTS = {"imgpipe_components": REPO / "components" / "imgpipe_components",
         "imgpipe": REPO / "pipelines" / "imgpipe"}
NESTED = {"imgpipe": ("runners",)}   # folders holding one package per folder


def package_of(module: str) -> Optional[str]:
    """The unit of the graph a module belongs to: a folder one level down
    (two for NESTED folders), or a top-level module of either root."""
    top, *parts = module.split(".")
    root = ROOTS.get(top)
    if root is None:
        return None
    if not parts:
        return top
    if parts[0] in NESTED.get(top, ()) and len(parts) > 1 and \
            (root / parts[0] / parts[1]).is_dir():
        return f"{top}.{parts[0]}.{parts[1]}"
    return f"{top}.{parts[0]}"


def imports_of(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.level == 0:
            yield node.module


def module_files() -> Iterator[Tuple[str, Path]]:
    for top, root in ROOTS.items():
        for path in root.rglob("*.py"):
            relative = path.relative_to(root.parent).with_suffix("")
            yield ".".join(relative.parts), path


def import_graph() -> Dict[str, Set[str]]:
    edges: Dict[str, Set[str]] = {}
    for module, path in module_files():
        me = package_of(module)
        for name in imports_of(path):
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


def test_both_roots_hold_code():
    for top, root in ROOTS.items():
        assert len(list(root.rglob("*.py"))) > 10, top


def test_no_package_import_cycle():
    edges = import_graph()
    graph = "\n".join(f"{k} -> {', '.join(sorted(v))}"
                      for k, v in sorted(edges.items()))
    assert cycles(edges) == [], graph


def test_components_never_import_the_pipeline():
    upward = [(module, name) for module, path in module_files()
              if module.startswith("imgpipe_components")
              for name in imports_of(path)
              if name == "imgpipe" or name.startswith("imgpipe.")]
    assert upward == []


def test_the_checks_see_an_upward_import(tmp_path):
    """The rule is live: an upward import written the way the code writes
    imports is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from imgpipe.pipeline import x\n")
    assert list(imports_of(sample)) == ["imgpipe.pipeline"]
    assert package_of("imgpipe.runners.local.runner") == \
        "imgpipe.runners.local"
    assert package_of("imgpipe_components.push.executor") == \
        "imgpipe_components.push"
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
