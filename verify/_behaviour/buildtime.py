"""Which files of an sdist run while pip builds it: from the build's entry files, transitively.

:func:`follow` starts from what the build runs (``setup.py``, the in-tree backend module,
hooks) and follows, through each file's AST, everything that makes more of the tree run:
``import``/``from ... import`` (each enclosing package's ``__init__.py`` runs too),
``importlib.import_module``/``__import__``/``runpy.run_module`` with a literal name,
``exec``/``eval``/``compile``/``execfile``/``runpy.run_path``/file loaders over a literal path
(``os.path.join`` and ``/`` of literals included), ``open(...)`` of a ``.py`` file in a file
that also calls ``exec`` or ``compile`` (``exec(open(p).read())`` split over two lines), and
literal paths handed to ``subprocess``/``os.system``. Names are looked up in the tree under
every directory the build may have on ``sys.path``; a module found there is taken to be the one
imported (a local ``setuptools/`` shadows the real one).

A reached file is install-time even when it does not parse; then, and for files too large to
parse, a linear text scan for ``import`` lines and quoted ``.py`` names stands in for the AST.
Build files in other languages are scanned as text for what they run: ``meson.build``
(``subdir()``, scripts in ``files()``/``run_command()``/``command:``, not ``install_sources``),
CMake (``add_subdirectory``, ``include``, ``execute_process``/custom commands), Cargo build
scripts (the scripts their string literals name) and shell scripts (the program of each
command and what follows an interpreter). A script run as a
program has its own directory on ``sys.path``. The walk is bounded in files, bytes and names
per file, stops on cycles, and never raises.

This module walks and looks names up; what a file makes run is read by
:mod:`~verify._behaviour.buildtime_python` (Python) and
:mod:`~verify._behaviour.buildtime_scripts` (other languages), into a
:class:`~verify._behaviour.buildtime_uses.Uses`.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from verify._behaviour.buildtime_python import python_uses, scan_python_text, static_attribute
from verify._behaviour.buildtime_scripts import SCANNERS, build_language
from verify._behaviour.buildtime_uses import MAX_IMPORTS, MAX_NAMES, Uses
from verify._behaviour.sourcetree import (
    MAX_PARSE_BYTES,
    SourceTree,
    existing,
    normalize,
    parse_python,
)

__all__ = ["MAX_FOLLOWED_FILES", "Reached", "follow", "static_attribute"]

#: Files parsed or scanned while following install-time code; the rest stay unread.
MAX_FOLLOWED_FILES: Final = 200
#: Source parsed into ASTs in one walk, in total; later files are scanned as text.
_MAX_PARSED_TOTAL: Final = 4 * 1024 * 1024
#: Build scripts in other languages scanned, per file (real ones are kilobytes; their scans
#: walk brackets in Python).
_MAX_BUILD_SCRIPT_CHARS: Final = 1024 * 1024


@dataclass(slots=True)
class Reached:
    """The install-time files found, each with why, and what stopped the walk early."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def follow(
    tree: SourceTree,
    start: Iterable[tuple[str, str]],
    roots: Sequence[str],
    *,
    parsed: Mapping[str, ast.Module] | None = None,
) -> Reached:
    """Every file reachable from the ``(path, why)`` files in ``start``, with why.

    ``roots`` are the directories (relative to the sdist root, "" for the root) the build may
    have on ``sys.path``; ``parsed`` holds ASTs the caller already has, by path.
    """
    reached = Reached()
    search = list(dict.fromkeys(roots))
    queue: deque[str] = deque()
    for path, why in start:
        if path in tree.files and path not in reached.files:
            reached.files[path] = why
            queue.append(path)
    parsed_total = 0
    followed = 0
    while queue:
        if followed >= MAX_FOLLOWED_FILES:
            reached.notes.append(
                f"install-time code followed through {MAX_FOLLOWED_FILES} files only"
            )
            break
        path = queue.popleft()
        followed += 1
        module = (parsed or {}).get(path)
        text = tree.text(path) if module is None else ""
        if text is None:
            continue
        kind = build_language(path, reached.files[path])
        if kind != "python":
            uses = SCANNERS[kind](text[:_MAX_BUILD_SCRIPT_CHARS])
        else:
            cost = min(len(text), MAX_PARSE_BYTES + 1)
            if module is None and parsed_total + cost <= _MAX_PARSED_TOTAL:
                module = parse_python(text)
                parsed_total += cost
            uses = python_uses(module) if module is not None else scan_python_text(text)
        for directory in existing_dirs(tree, uses.sys_path, path):
            if directory not in search:
                search.append(directory)
        why = reached.files[path]
        script = not why.startswith("imported by")
        for found, why in _lookup(tree, path, uses, search, script=script):
            if found not in reached.files:
                reached.files[found] = why
                queue.append(found)
    return reached


def existing_dirs(tree: SourceTree, candidates: Sequence[str], origin: str) -> list[str]:
    """Those of ``candidates`` that are directories, relative to ``origin``'s or the root."""
    here = origin.rpartition("/")[0]
    found = []
    for candidate in candidates:
        for base in (here, ""):
            clean = normalize(f"{base}/{candidate}" if base else candidate)
            if clean is not None and (clean in tree.dirs) and clean not in found:
                found.append(clean)
                break
        if candidate.strip() in (".", "") and "" not in found:
            found.append("")
    return found


def _lookup(
    tree: SourceTree, origin: str, uses: Uses, roots: Sequence[str], *, script: bool
) -> list[tuple[str, str]]:
    """The tree's files behind what ``origin`` uses. A ``script`` (run as a program, not
    imported) has its own directory first on ``sys.path``."""
    here = origin.rpartition("/")[0]
    if script and here not in roots:
        roots = [here, *roots]
    bases = [here, ""] if here else [""]
    executed = list(dict.fromkeys(uses.executed))[:MAX_NAMES]
    run = list(dict.fromkeys(uses.run))[:MAX_NAMES]
    results = [(path, f"executed by {origin}") for path in existing(tree, executed, bases)]
    results += [(path, f"run by {origin}") for path in existing(tree, run, bases)]
    # A hostile file can import a million names; the first ones are what real code has.
    for module, level, names in list(dict.fromkeys(uses.imports))[:MAX_IMPORTS]:
        if level:
            # Relative: from the importing module's package, `level - 1` directories up.
            base = here
            for _ in range(level - 1):
                base = base.rpartition("/")[0]
            search = [base]
        else:
            # Whichever root comes first on sys.path wins; not knowing the order, take all.
            search = list(roots)
        dotted = [module] if module else []
        dotted += [f"{module}.{name}" if module else name for name in names if name != "*"]
        for root in search:
            for candidate in dotted:
                results += [
                    (found, f"imported by {origin}")
                    for found in tree.module_files(candidate, root) or ()
                ]
    return results
