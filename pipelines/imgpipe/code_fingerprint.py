"""Cache keys that follow the code: each node's fingerprint of its sources.

TFX's cache key holds a node's executor class path and exec properties, not
the source behind them, and module functions are passed to Transform and
Trainer by import path (no per-run wheel packaging, which costs seconds per
component). So every node gets one more exec property, `code_fingerprint`:
a hash of the project modules it runs (its component and executor modules
and any project function named in its exec properties) and of every
project module those import, found by reading their imports (`ast`, no
import is executed). Editing `components/imgpipe_components/augment/ops.py` re-runs Augment
and what consumes its output; editing the web server re-runs nothing.

Exec properties a component does not declare are ignored by its executor
(TFX hands function components only their declared arguments), and they
are compiled into the Kubeflow spec as step parameters, so KFP's own cache
key follows the code too.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
from pathlib import Path
from typing import FrozenSet, Iterable, Optional, Set, Tuple

import imgpipe_components

# The project's package folders: the components and the pipeline. A module
# is project code when its top-level package is one of them.
Roots = Tuple[Path, ...]
ROOTS: Roots = (Path(imgpipe_components.__file__).resolve().parent,
                Path(__file__).resolve().parent)
EXEC_PROPERTY = "code_fingerprint"


def _module_file(module: str, roots: Roots = ROOTS) -> Optional[Path]:
    """The source file of a project module (a package's __init__.py)."""
    package, *parts = module.split(".")
    root = next((folder for folder in roots if folder.name == package), None)
    if root is None:
        return None
    if not parts:
        return root / "__init__.py"
    relative = Path(*parts)
    for candidate in (root / relative.with_suffix(".py"),
                      root / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, roots: Roots) -> Set[str]:
    """Project modules `path` imports anywhere (also inside functions, where
    the heavy imports live), and the packages that contain them."""
    found: Set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.level == 0:
            found.add(node.module)
            # `from imgpipe.x import y` may import the module imgpipe.x.y.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    with_parents = set()
    for module in found:
        parts = module.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {m for m in with_parents if _module_file(m, roots) is not None}


def module_closure(modules: Iterable[str], roots: Roots = ROOTS
                   ) -> FrozenSet[Path]:
    """The source files of `modules` and of every project module they
    import, transitively (`roots`: the package folders to read)."""
    seen: Set[str] = set()
    pending = [m for m in modules if _module_file(m, roots) is not None]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending.extend(_imported_modules(_module_file(module, roots), roots)
                       - seen)
    return frozenset(_module_file(m, roots) for m in seen)


@functools.lru_cache(maxsize=None)
def fingerprint_of(modules: FrozenSet[str], roots: Roots = ROOTS) -> str:
    digest = hashlib.sha256()
    for path in sorted(module_closure(modules, roots)):
        root = next(folder for folder in roots if folder in path.parents)
        name = path.relative_to(root.parent).as_posix()
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _named_functions(value) -> Set[str]:
    """Modules of the project's dotted names in an exec property (run_fn,
    preprocessing_fn, a custom TFMA metric's module in the eval config)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    modules = set()
    for token in text.replace('"', " ").replace(",", " ").split():
        if token.split(".")[0] in {folder.name for folder in ROOTS} and \
                "." in token:
            parts = token.split(".")
            modules.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return modules


def node_modules(node) -> Set[str]:
    """The project modules a node runs."""
    modules = {type(node).__module__}
    executor_class = getattr(getattr(node, "executor_spec", None),
                             "executor_class", None)
    if executor_class is not None:
        modules.add(executor_class.__module__)
    for value in node.exec_properties.values():
        if isinstance(value, (str, dict, list)):
            modules |= _named_functions(value)
    return {m for m in modules if _module_file(m) is not None}


def stamp(nodes: Iterable, roots: Roots = ROOTS) -> None:
    """Gives every node that runs project code its `code_fingerprint`."""
    for node in nodes:
        modules = node_modules(node)
        if modules:
            node.exec_properties[EXEC_PROPERTY] = fingerprint_of(
                frozenset(modules), roots)
