"""Functions a package's ``__init__`` calls from its own modules as it is imported.

``from .loader import run`` followed by ``run()`` at the top of ``__init__.py`` runs
``loader.run`` whenever the package is imported, as surely as code written at the top of
``loader.py`` itself. Each module is analysed alone, so without this the body of ``run`` counts
as code that runs only when someone calls it. :func:`import_calls` reads every ``__init__.py``
of a distribution once (they are small, and a byte search skips those without a relative
import) and says, for each sibling module, which of its functions run on import; the analysis
of that module then treats them like the functions it calls itself as it loads.

Only direct calls of a name imported from a relative module are followed, at the module level
of ``__init__.py`` (not under ``if __name__ == "__main__"``, not inside functions).
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterable

from verify._behaviour.pywalk import is_main_guard
from verify.errors import ArchiveError

__all__ = ["import_calls"]

#: ``__init__`` files larger than this are not read for calls (generated code, vendored
#: bundles): the analysis of the module itself still runs as before.
_MAX_INIT = 256 * 1024


def import_calls(paths: Iterable[str], read: Callable[[str], bytes]) -> dict[str, frozenset[str]]:
    """Module path -> names of its functions that its package's ``__init__`` calls on import.

    ``paths`` are the distribution's files; ``read`` returns a file's bytes and may raise
    :class:`~verify.errors.ArchiveError`, which skips that file.
    """
    files = set(paths)
    found: dict[str, set[str]] = {}
    for path in sorted(files):
        if posixpath.basename(path) != "__init__.py":
            continue
        try:
            data = read(path)
        except ArchiveError:  # reported where the file itself is profiled
            continue
        if len(data) > _MAX_INIT or b"from ." not in data:
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for module, name in _called_imports(tree):
            target = _module_file(posixpath.dirname(path), module, files)
            if target is not None:
                found.setdefault(target, set()).add(name)
    return {path: frozenset(names) for path, names in found.items()}


def _called_imports(tree: ast.Module) -> list[tuple[tuple[int, str], str]]:
    """((level, module), function name) for each relatively imported name called at module
    level, outside functions and ``__main__`` guards."""
    imported: dict[str, tuple[tuple[int, str], str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            for alias in node.names:
                imported[alias.asname or alias.name] = ((node.level, node.module), alias.name)
    if not imported:
        return []
    called: list[tuple[tuple[int, str], str]] = []
    stack: list[ast.AST] = [
        statement
        for statement in tree.body
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and not (isinstance(statement, ast.If) and is_main_guard(statement.test))
    ]
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Name):
            target = imported.get(current.func.id)
            if target is not None:
                called.append(target)
        stack.extend(ast.iter_child_nodes(current))
    return called


def _module_file(package: str, module: tuple[int, str], files: set[str]) -> str | None:
    level, dotted = module
    base = package
    for _ in range(level - 1):
        if not base:
            return None
        base = posixpath.dirname(base)
    stem = posixpath.join(base, *dotted.split("."))
    for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
        if candidate in files:
            return candidate
    return None
