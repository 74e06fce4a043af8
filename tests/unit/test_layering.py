"""The package's import layering, enforced: imports in ``verify/`` flow one way, downwards.

Every module under ``verify/`` is parsed with :mod:`ast`, and every import in it counts: at
module level, inside functions, and under ``if TYPE_CHECKING:`` (a type-only import still ties
the two modules together). Each module belongs to the layer :data:`LAYERS` gives it (the entry
with the longest matching name prefix). A module may import its own layer and any layer below
it, never one above; and no two packages (nor two modules) may import each other, directly or
round a longer loop, even within one layer.

The layers, highest first (the same order is stated in ``verify/__init__.py``):

``cli``
    ``verify._cli`` and ``verify.__main__``: arguments, terminal output, exit codes.
``commands``
    What the CLI runs: ``check``, ``screen``, ``install``, ``diff``,
    ``verify._upload``, the quarantine gate's server, which runs ``screen`` on each upload,
    ``verify._proxy``, the verified pull-through index, which runs ``check``'s engine, and
    ``verify._serve``, what both servers share (HTTP answers, the review page).
``engine``
    ``verify._verifier``: runs the concerns over a resolved set of files and builds the report.
``render``
    ``verify._format``: renders results (JSON, SARIF, Markdown, text). It reads the models and
    the concerns' result types and rule catalogues, never a command or the CLI.
``concerns``
    One package per concern: the behaviour diff (``_behaviour``), reading distributions
    (``_dist``), name checks (``_checks``), known vulnerabilities (``_vulnerabilities``),
    provenance (``_provenance``), resolving inputs (``_resolve``), the policy (``policy``) and
    the trust store (``trust_store``).
``access``
    Talking to indexes and file hosts (``_index``) and fetching into the content store
    (``_fetch``).
``base``
    What everything shares: the models and errors, the commands' settings (``settings``),
    document parsing (``_documents``), the small JSON records caches keep (``_records``), the
    rule vocabulary (``_rules``: behaviour rule ids and
    the severity order), and the package root, which holds only the version (flit reads it
    there) and the docstring. A public API added to
    the root would import commands: the root then needs a row of its own at the top, and the
    modules that read ``__version__`` must take it from below.

A package's ``__init__`` is not counted as imported by its submodules (Python runs it first,
but a submodule does not depend on it); an explicit ``from verify.policy import Policy`` is.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "verify"

#: The layers, lowest first; a module may import only from its own layer and those before it.
ORDER = ("base", "access", "concerns", "render", "engine", "commands", "cli", "api")

#: Module name prefix -> layer. The longest matching prefix wins.
LAYERS: Mapping[str, str] = {
    # The public API re-exports from every layer; nothing in the package imports it.
    "verify": "api",
    "verify._version": "base",
    "verify.models": "base",
    "verify.errors": "base",
    "verify.settings": "base",
    "verify._documents": "base",
    "verify._records": "base",
    "verify._rules": "base",
    "verify._index": "access",
    "verify._fetch": "access",
    "verify._behaviour": "concerns",
    "verify._dist": "concerns",
    "verify._checks": "concerns",
    "verify._vulnerabilities": "concerns",
    "verify._provenance": "concerns",
    "verify._resolve": "concerns",
    "verify.policy": "concerns",
    "verify.trust_store": "concerns",
    "verify._format": "render",
    "verify._verifier": "engine",
    "verify.check": "commands",
    "verify.screen": "commands",
    "verify.install": "commands",
    "verify.fix": "commands",
    "verify.diff": "commands",
    "verify._upload": "commands",
    "verify._proxy": "commands",
    "verify._serve": "commands",
    "verify._mcp": "commands",
    "verify._shim": "commands",
    "verify._attest": "render",
    "verify._cli": "cli",
    "verify.__main__": "cli",
}


@dataclass(frozen=True, slots=True)
class Import:
    """One import of a ``verify`` module by another."""

    source: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"
        return (
            f"{where}: {self.source} ({layer_of(self.source)}) imports "
            f"{self.target} ({layer_of(self.target)})"
        )


def module_name(path: Path, root: Path) -> str:
    """The dotted module name of ``path``, a file under ``root`` (the directory of ``verify``)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package at ``root``, by name."""
    return {
        module_name(path, root): path
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def layer_of(module: str) -> str:
    """The layer ``module`` belongs to (``"?"`` when :data:`LAYERS` has no entry for it)."""
    best = max(
        (p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=""
    )
    return LAYERS.get(best, "?")


def unit_of(module: str) -> str:
    """The package (or top-level module) ``module`` is part of: ``verify._dist.zipread`` ->
    ``verify._dist``, ``verify.check`` -> ``verify.check``, the root -> ``verify``."""
    return ".".join(module.split(".")[:2])


def imported_names(
    tree: ast.AST, module: str, is_package: bool, known: Mapping[str, Path]
) -> Iterator[tuple[str, int]]:
    """The absolute name of everything ``tree`` imports, anywhere in it, with its line.

    ``from X import name`` counts as importing ``X.name`` when that is a module, else ``X``.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                yield (submodule if submodule in known else origin), node.lineno


def imports_of(module: str, path: Path, known: Mapping[str, Path]) -> list[Import]:
    """The ``verify`` modules ``module`` imports, each once, at its first line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, Import] = {}
    for name, line in imported_names(tree, module, path.name == "__init__.py", known):
        target = name
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != module:
            found.setdefault(target, Import(module, target, path, line))
    return list(found.values())


@functools.cache
def all_imports(root: Path = PACKAGE) -> tuple[Import, ...]:
    known = modules(root)
    return tuple(i for module, path in known.items() for i in imports_of(module, path, known))


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_report(imports: tuple[Import, ...], key: str) -> list[str]:
    """One line per import that takes part in a cycle between ``key`` nodes (units or modules)."""
    of = unit_of if key == "unit" else (lambda module: module)
    edges: dict[str, set[str]] = {}
    for i in imports:
        if of(i.source) != of(i.target):
            edges.setdefault(of(i.source), set()).add(of(i.target))
    report = []
    for component in cycles(edges):
        members = set(component)
        report.append("cycle between " + ", ".join(component) + ":")
        report += [
            f"  {i}"
            for i in imports
            if of(i.source) in members and of(i.target) in members and of(i.source) != of(i.target)
        ]
    return report


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in modules() if layer_of(m) == "?")
    assert not missing, "modules with no entry in LAYERS (add one): " + ", ".join(missing)
    assert set(LAYERS.values()) <= set(ORDER)


def test_imports_flow_downwards() -> None:
    upward = [
        str(i)
        for i in all_imports()
        if ORDER.index(layer_of(i.target)) > ORDER.index(layer_of(i.source))
    ]
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_no_import_cycle_between_packages() -> None:
    report = _cycle_report(all_imports(), "unit")
    assert not report, "\n".join(report)


def test_no_import_cycle_between_modules() -> None:
    report = _cycle_report(all_imports(), "module")
    assert not report, "\n".join(report)


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Imports inside functions, under TYPE_CHECKING and relative ones are all found."""
    package = tmp_path / "verify"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "low.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from verify.sub.high import X\n"
        "def f() -> None:\n"
        "    import verify.models\n"
    )
    (package / "sub" / "high.py").write_text("from . import low\nfrom .. import models\n")
    known = modules(package)
    found = {
        (i.source, i.target, i.line)
        for module, path in known.items()
        for i in imports_of(module, path, known)
    }
    assert found == {
        ("verify.sub.low", "verify.sub.high", 3),
        ("verify.sub.low", "verify.models", 5),
        ("verify.sub.high", "verify.sub.low", 1),
        ("verify.sub.high", "verify.models", 2),
    }
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
