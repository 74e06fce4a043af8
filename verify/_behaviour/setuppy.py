"""The arguments a ``setup.py`` passes to ``setup()``, read from its AST without running it.

Only what is written literally can be read: constants, lists, dicts, names bound once to such
values, ``os.path.join`` of those, ``find_packages``/``find_namespace_packages`` (emulated
over the sdist's files, see :func:`find_packages`) and ``glob`` over the tree. Anything else
(a computed list, ``setup(**kwargs)`` built at run time, a name assigned twice or mutated)
reads as :data:`UNKNOWN`, and :attr:`SetupArgs.dynamic` says why the installed set cannot be
trusted. Never raises.
"""

from __future__ import annotations

import ast
import fnmatch
import posixpath
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from verify._behaviour.sourcetree import SourceTree, normalize, walk_code

__all__ = ["UNKNOWN", "FoundPackage", "SetupArgs", "find_packages", "read_setup_args"]


class _Unknown:
    """A value that cannot be known without running the code."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
#: How deep a value expression is followed (nested containers, names bound to names).
_MAX_DEPTH: Final = 16
#: Elements of one evaluated container; more read as unknown (hostile setup.py files carry
#: huge literals, and nothing legitimate lists this many packages).
_MAX_ITEMS: Final = 20_000
#: ``glob()`` calls evaluated; later ones read as unknown.
_MAX_GLOBS: Final = 100
#: Directories visited by one package search.
_MAX_FIND_DIRS: Final = 20_000
#: Keywords whose unknown value means the installed set is unknown.
_LAYOUT_KEYS: Final = ("packages", "py_modules", "package_dir", "scripts", "data_files")
#: Functions that emulate setuptools' package finders, and whether they find namespaces.
_FINDERS: Final = {"find_packages": False, "find_namespace_packages": True}
#: Methods that change a container in place: a name they are called on is not a constant.
_MUTATORS: Final = frozenset(
    {"append", "extend", "insert", "update", "setdefault", "pop", "remove", "add", "clear"}
)
#: Calls that say a setup.py builds native code.
_NATIVE_CALLS: Final = frozenset(
    {"Extension", "cythonize", "RustExtension", "Pybind11Extension", "CMakeExtension"}
)
#: Names setuptools' finders always leave out.
_ALWAYS_EXCLUDED: Final = ("ez_setup", "*__pycache__")


@dataclass(frozen=True, slots=True)
class FoundPackage:
    """A package a finder came across: its dotted name, its directory, whether it is kept.

    A package the patterns leave out still matters: its files are not installed, even though
    the directory above it is.
    """

    name: str
    directory: str
    included: bool = True


@dataclass(slots=True)
class SetupArgs:
    """What ``setup()`` is given, as far as it can be read."""

    #: Keyword -> value (str, int, bool, None, list, dict, or :data:`UNKNOWN`).
    kwargs: dict[str, object] = field(default_factory=dict)
    #: Packages an emulated ``find_packages`` call came across, kept or left out.
    found: list[FoundPackage] = field(default_factory=list)
    #: Why the installed set cannot be read from this ``setup.py`` ("" when it can).
    dynamic: str = ""
    #: It builds native code (``ext_modules``, ``Extension``, ``cythonize``...).
    native: bool = False


def find_packages(
    tree: SourceTree,
    where: str = "",
    include: Sequence[str] = ("*",),
    exclude: Sequence[str] = (),
    *,
    namespace: bool = False,
) -> list[FoundPackage]:
    """Emulate setuptools' package finders over the tree, from the documented rules.

    Returns every package come across, those the patterns leave out marked so.

    A directory is a package when it has ``__init__.py`` (any directory, for the namespace
    finder) and a name without a dot. Names are matched with ``fnmatch`` against ``include``
    and ``exclude``. The search descends into excluded packages (their sub-packages may be
    included) unless ``exclude`` names ``pkg*`` or ``pkg.*``; it never descends into a
    directory that is not a package.
    """
    start = normalize(where) or ""
    excluded = (*exclude, *_ALWAYS_EXCLUDED)
    found: list[FoundPackage] = []
    stack = [(start, "")]
    visited = 0
    while stack and visited < _MAX_FIND_DIRS:
        directory, prefix = stack.pop()
        for name in tree.subdirs(directory):
            visited += 1
            full = f"{directory}/{name}" if directory else name
            dotted = f"{prefix}.{name}" if prefix else name
            if "." in name or (not namespace and full not in tree.packages):
                continue
            included = any(fnmatch.fnmatchcase(dotted, p) for p in include) and not any(
                fnmatch.fnmatchcase(dotted, p) for p in excluded
            )
            found.append(FoundPackage(dotted, full, included))
            if f"{dotted}*" in exclude or f"{dotted}.*" in exclude:
                continue
            stack.append((full, dotted))
    return sorted(found, key=lambda package: package.name)


def read_setup_args(module: ast.Module | None, tree: SourceTree) -> SetupArgs:
    """The ``setup()`` keywords of a parsed ``setup.py`` (``None``: it did not parse)."""
    args = SetupArgs()
    if module is None:
        args.dynamic = "setup.py cannot be parsed"
        return args
    reader = _Reader(module, tree, args)
    calls = reader.setup_calls
    if not calls:
        args.dynamic = "setup.py calls no setup()"
        return args
    for call in calls:
        reader.call(call)
    for key in _LAYOUT_KEYS:
        if args.kwargs.get(key) is UNKNOWN:
            args.dynamic = args.dynamic or f"setup.py computes {key}= at run time"
    args.native = args.native or "ext_modules" in args.kwargs or reader.mentions_native
    return args


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Reader:
    """Evaluates the literal parts of one ``setup.py``."""

    def __init__(self, module: ast.Module, tree: SourceTree, args: SetupArgs) -> None:
        self.tree = tree
        self.args = args
        stores: Counter[str] = Counter()
        mutated: set[str] = set()
        self.bindings: dict[str, ast.expr] = {}
        self.mentions_native = False
        self.globs = 0
        self.setup_calls: list[ast.Call] = []
        # One walk: a hostile setup.py can hold hundreds of thousands of nodes.
        for node in walk_code(module):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] += 1
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name):
                    mutated.add(node.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                mutated.add(node.target.id)
            elif isinstance(node, ast.Call):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in _MUTATORS
                    and isinstance(func.value, ast.Name)
                ):
                    mutated.add(func.value.id)
                name = _callee(func)
                if name in _NATIVE_CALLS:
                    self.mentions_native = True
                elif name == "setup":
                    self.setup_calls.append(node)
            elif isinstance(node, ast.Assign):
                if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    self.bindings[node.targets[0].id] = node.value
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.value is not None
            ):
                self.bindings[node.target.id] = node.value
        # A name bound more than once, or changed in place, has no single literal value.
        for name in list(self.bindings):
            if stores[name] != 1 or name in mutated:
                del self.bindings[name]

    def call(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            if keyword.arg is None:
                spread = self.value(keyword.value, 0)
                if isinstance(spread, dict):
                    for key, value in spread.items():
                        self.store(str(key), value)
                else:
                    self.args.dynamic = "setup() takes **arguments computed at run time"
                continue
            self.store(keyword.arg, self.value(keyword.value, 0))
        if any(isinstance(arg, ast.Starred) for arg in call.args):
            self.args.dynamic = "setup() takes *arguments computed at run time"

    def store(self, key: str, value: object) -> None:
        previous = self.args.kwargs.get(key)
        if isinstance(previous, list) and isinstance(value, list):
            # Several setup() calls (one per branch): any of them may run, so take them all.
            self.args.kwargs[key] = previous + [v for v in value if v not in previous]
        elif isinstance(previous, dict) and isinstance(value, dict):
            self.args.kwargs[key] = {**previous, **value}
        elif previous is UNKNOWN:
            return
        else:
            self.args.kwargs[key] = value

    def value(self, node: ast.expr, depth: int) -> object:
        """The literal value of ``node``, or :data:`UNKNOWN`."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, int, bool, type(None))) else UNKNOWN
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if len(node.elts) > _MAX_ITEMS:
                return UNKNOWN
            items = [self.value(element, depth + 1) for element in node.elts]
            return UNKNOWN if any(item is UNKNOWN for item in items) else items
        if isinstance(node, ast.Dict):
            return self.mapping(node, depth)
        if isinstance(node, ast.Name):
            bound = self.bindings.get(node.id)
            return UNKNOWN if bound is None else self.value(bound, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
            if isinstance(left, list) and isinstance(right, list):
                return left + right
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self.call_value(node, depth)
        return UNKNOWN

    def mapping(self, node: ast.Dict, depth: int) -> object:
        if len(node.keys) > _MAX_ITEMS:
            return UNKNOWN
        result: dict[str, object] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:  # {**other}
                spread = self.value(value_node, depth + 1)
                if not isinstance(spread, dict):
                    return UNKNOWN
                result.update(spread)
                continue
            key = self.value(key_node, depth + 1)
            if not isinstance(key, str):
                return UNKNOWN
            result[key] = self.value(value_node, depth + 1)
        return result

    def call_value(self, node: ast.Call, depth: int) -> object:
        name = _callee(node.func)
        if name in _FINDERS or (name == "find" and _callee_owner(node.func).endswith("Finder")):
            namespace = _FINDERS.get(name, _callee_owner(node.func).startswith("PEP420"))
            return self.finder(node, depth, namespace=namespace)
        if name == "dict" and not node.args:
            return {
                k.arg: self.value(k.value, depth + 1) for k in node.keywords if k.arg is not None
            }
        if name in ("list", "sorted", "tuple", "set") and len(node.args) == 1:
            return self.value(node.args[0], depth + 1)
        if name == "join" and node.args:
            parts = [self.value(arg, depth + 1) for arg in node.args]
            if all(isinstance(part, str) for part in parts):
                return posixpath.join(*(str(part) for part in parts))
            return UNKNOWN
        if name in ("glob", "iglob") and len(node.args) == 1 and self.globs < _MAX_GLOBS:
            # Each glob is a pass over the tree: a few are real, thousands are an attack.
            self.globs += 1
            pattern = self.value(node.args[0], depth + 1)
            if isinstance(pattern, str) and (clean := normalize(pattern)) is not None:
                return sorted(p for p in self.tree.files if fnmatch.fnmatchcase(p, clean))
        return UNKNOWN

    def finder(self, node: ast.Call, depth: int, *, namespace: bool) -> object:
        params = dict(zip(("where", "exclude", "include"), node.args, strict=False))
        params.update({k.arg: k.value for k in node.keywords if k.arg is not None})
        where = self.value(params["where"], depth + 1) if "where" in params else "."
        exclude = self.value(params["exclude"], depth + 1) if "exclude" in params else []
        include = self.value(params["include"], depth + 1) if "include" in params else ["*"]
        if not (
            isinstance(where, str)
            and isinstance(exclude, list)
            and isinstance(include, list)
            and all(isinstance(p, str) for p in (*exclude, *include))
        ):
            return UNKNOWN
        found = find_packages(
            self.tree,
            where,
            [str(p) for p in include],
            [str(p) for p in exclude],
            namespace=namespace,
        )
        self.args.found.extend(found)
        return [package.name for package in found if package.included]


def _callee_owner(func: ast.expr) -> str:
    """``PackageFinder`` for ``setuptools.PackageFinder.find``; "" when there is none."""
    if isinstance(func, ast.Attribute):
        return _callee(func.value)
    return ""
