"""The layout of an sdist: what a wheel built from it holds, and what building it runs.

:class:`Layout` is what :func:`verify._behaviour.backends.read_layout` works out from the build
configuration; :class:`LayoutBuilder` collects it while the backends' rules are applied. The
rest are the bounded, never-raising readers those rules share: ``pyproject.toml`` and
``setup.cfg`` loading, table look-ups that tolerate any shape of value, the project name, the
entry points the configuration declares, and the ``gitignore``-style patterns backends take.
"""

from __future__ import annotations

import configparser
import posixpath
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from verify._behaviour.setuppy import SetupArgs
from verify._behaviour.sourcetree import SourceTree, join_root, normalize
from verify._dist.metadata import DistMetadata

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
    import tomli as tomllib

__all__ = [
    "DISCOVERY_EXCLUDED",
    "DISCOVERY_EXCLUDED_MODULES",
    "MAX_PATTERNS",
    "BuildModule",
    "Layout",
    "LayoutBuilder",
    "PathPatterns",
    "backend_family",
    "cfg_list",
    "cfg_value",
    "config_entry_points",
    "load_cfg",
    "load_toml",
    "module_names",
    "project_name",
    "string_list",
    "table_get",
]

#: Configuration files larger than this are not parsed (real ones are kilobytes).
_MAX_CONFIG_BYTES: Final = 1024 * 1024
#: Glob patterns matched against the tree, and exclude patterns kept, per sdist: each costs a
#: pass over every file.
MAX_PATTERNS: Final = 50
_MAX_PATTERN_LENGTH: Final = 300
_GLOB_TOKEN: Final = re.compile(r"\*\*/|\*\*|\*|\?|[^*?]+")
_GLOB_START: Final = re.compile(r"[*?\[]")
_GLOB_REGEX: Final = {"**/": "(?:[^/]*/)*", "**": ".*", "*": "[^/]*", "?": "[^/]"}
#: Files one include pattern may select; a pattern matching more selects none, and the
#: layout is then dynamic.
_MAX_PATTERN_FILES: Final = 20_000
#: Top-level package names setuptools' automatic discovery (flat layout) leaves out.
DISCOVERY_EXCLUDED: Final = frozenset(
    {"ci", "bin", "debian", "doc", "docs", "documentation", "manpages", "news", "newsfragments"}
    | {"changelog", "test", "tests", "unit_test", "unit_tests", "example", "examples", "scripts"}
    | {"tools", "util", "utils", "python", "build", "dist", "venv", "env", "requirements", "tasks"}
    | {"fabfile", "site_scons", "benchmark", "benchmarks", "exercise", "exercises", "htmlcov"}
)
#: Top-level module names it leaves out.
DISCOVERY_EXCLUDED_MODULES: Final = frozenset(
    {"setup", "conftest", "test", "tests", "example", "examples", "build", "toxfile", "noxfile"}
    | {"pavement", "dodo", "tasks", "fabfile", "sconstruct", "conanfile", "manage", "benchmark"}
    | {"benchmarks", "exercise", "exercises"}
)


@dataclass(frozen=True, slots=True)
class BuildModule:
    """A module the build imports (found in the tree by the caller)."""

    module: str
    #: When set, the build reads this attribute from the module's source first and imports
    #: the module only if the source does not assign it a literal.
    attribute: str
    reason: str


@dataclass(frozen=True, slots=True)
class Layout:
    """What a wheel built from the sdist would contain, and what building it runs."""

    #: ``setuptools``, ``flit``, ``hatch``, ``poetry``, ``pdm``, ``maturin``,
    #: ``scikit-build``, ``meson`` or ``other``.
    backend: str
    #: Directories installed whole -> why.
    trees: Mapping[str, str]
    #: Package directories installed -> why: their files and their plain (non-package)
    #: subdirectories are installed; a sub-package they contain is not, unless listed too.
    packages: Mapping[str, str]
    #: Single files installed -> why.
    files: Mapping[str, str]
    #: Package directories the configuration's patterns leave out (they stop :attr:`packages`
    #: from covering what is below them, as a package not listed does).
    left_out: frozenset[str]
    #: Files the backend leaves out of the wheel.
    excludes: PathPatterns
    top_level: tuple[str, ...]
    #: Why the installed set could not be read statically; "" when it could.
    dynamic: str
    #: ``setup.py`` runs when the sdist is built (the backend is setuptools, or unknown).
    runs_setup_py: bool
    build_modules: tuple[BuildModule, ...]
    #: Files the build runs -> why.
    build_files: Mapping[str, str]
    #: Modules named by entry points in the configuration -> why.
    entry_modules: Mapping[str, str]
    #: Directories the build puts on ``sys.path`` or maps packages from (``src``).
    roots: tuple[str, ...]
    #: The build compiles native code, whose sources end up installed.
    native: bool
    #: ``[build-system] build-backend`` as written ("" when absent).
    backend_object: str = ""
    #: ``[build-system] backend-path``: directories the backend is imported from.
    backend_path: tuple[str, ...] = ()


@dataclass(slots=True)
class LayoutBuilder:
    """A :class:`Layout` being worked out (:meth:`freeze` gives it)."""

    tree: SourceTree
    backend: str = "other"
    trees: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    left_out: set[str] = field(default_factory=set)
    excludes: list[str] = field(default_factory=list)
    top_level: set[str] = field(default_factory=set)
    dynamic: str = ""
    runs_setup_py: bool = False
    build_modules: list[BuildModule] = field(default_factory=list)
    build_files: dict[str, str] = field(default_factory=dict)
    entry_modules: dict[str, str] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)
    native: bool = False
    backend_object: str = ""
    backend_path: list[str] = field(default_factory=list)
    #: Glob patterns matched so far (each costs a pass over the tree).
    globs: int = 0

    def unknown(self, why: str) -> None:
        self.dynamic = self.dynamic or why

    def path(self, path: str, why: str, *, top: str | None = None) -> bool:
        """Install the file or directory ``path``; whether it exists."""
        clean = normalize(path)
        if clean is None:
            return False
        if clean in self.tree.files:
            self.files.setdefault(clean, why)
            stem, dot, suffix = posixpath.basename(clean).partition(".")
            importable = dot and suffix.rpartition(".")[2] in ("py", "so", "pyd")
            name = top if top is not None else (stem if importable else "")
        elif clean in self.tree.dirs:
            self.trees.setdefault(clean, why)
            name = top if top is not None else posixpath.basename(clean)
        else:
            return False
        if name.isidentifier():
            self.top_level.add(name)
        return True

    def pattern(
        self,
        pattern: str,
        why: str,
        base: str = "",
        *,
        importable: bool = True,
        anchored: bool = True,
    ) -> None:
        """Install the files matching a glob ``pattern`` (a plain name: that path), relative to
        ``base`` (see :class:`PathPatterns`).

        ``importable``: what it installs lands in site-packages (not scripts, not data).
        """
        if not any(ch in pattern for ch in "*?["):
            self.path(join_root(base, pattern.strip("/")), why, top=None if importable else "")
            return
        clean = normalize(join_root(base, pattern.lstrip("/")))
        if clean is None:
            return
        self.globs += 1
        if self.globs > MAX_PATTERNS:
            self.unknown(f"more than {MAX_PATTERNS} file patterns")
            return
        # Only files under the pattern's literal directory can match: no need to try the rest.
        literal = _GLOB_START.split(clean, 1)[0].rpartition("/")[0]
        compiled = PathPatterns([clean], anchored=anchored)
        matched = [p for p in self.tree.under(literal) if compiled.matches(p)]
        if len(matched) > _MAX_PATTERN_FILES:
            self.unknown(f"the include pattern {pattern!r} matches too many files")
            return
        for path in matched:
            self.path(path, why, top=_top_name(path, base) if importable else "")

    def build_file(self, path: str, why: str) -> None:
        clean = normalize(path)
        if clean is not None and clean in self.tree.files:
            self.build_files.setdefault(clean, why)

    def freeze(self) -> Layout:
        return Layout(
            backend=self.backend,
            trees=self.trees,
            packages=self.packages,
            files=self.files,
            left_out=frozenset(self.left_out),
            excludes=PathPatterns(self.excludes),
            top_level=tuple(sorted(self.top_level)),
            dynamic=self.dynamic,
            runs_setup_py=self.runs_setup_py,
            build_modules=tuple(self.build_modules),
            build_files=self.build_files,
            entry_modules=self.entry_modules,
            roots=tuple(dict.fromkeys(self.roots)),
            native=self.native,
            backend_object=self.backend_object,
            backend_path=tuple(dict.fromkeys(self.backend_path)),
        )


# --- reading the configuration ---------------------------------------------------------------


def load_toml(b: LayoutBuilder, path: str) -> dict[str, Any]:
    """The TOML file ``path`` of the tree as a dict; ``{}`` (and a dynamic layout) if unusable."""
    if path not in b.tree.files:
        return {}
    data = b.tree.read(path)
    if data is None or len(data) > _MAX_CONFIG_BYTES:
        b.unknown(f"{path} cannot be read")
        return {}
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, ValueError):
        b.unknown(f"{path} does not parse")
        return {}


def load_cfg(b: LayoutBuilder, path: str) -> configparser.ConfigParser:
    """The INI file ``path`` of the tree; empty (and a dynamic layout) if unusable."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    if path not in b.tree.files:
        return parser
    data = b.tree.read(path)
    if data is None or len(data) > _MAX_CONFIG_BYTES:
        b.unknown(f"{path} cannot be read")
        return parser
    try:
        parser.read_string(data.decode("utf-8", errors="replace"))
    except (configparser.Error, RecursionError, ValueError):
        b.unknown(f"{path} does not parse")
        return configparser.ConfigParser(interpolation=None, strict=False)
    return parser


def table_get(table: object, *keys: str) -> object:
    """``table[k1][k2]...``, or ``None`` where any level is missing or not a table."""
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


def string_list(value: object) -> list[str]:
    """The strings of a list value (a lone string is a list of one)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def cfg_value(cfg: configparser.ConfigParser, section: str, key: str) -> str | None:
    """An option of ``setup.cfg``, or ``None``."""
    try:
        return cfg.get(section, key, fallback=None)
    except (configparser.Error, ValueError):
        return None


def cfg_list(value: str | None) -> list[str]:
    """A ``setup.cfg`` list: one item a line, or comma-separated on one line."""
    if not value:
        return []
    items = value.splitlines() if "\n" in value.strip() else value.split(",")
    return [item.strip() for item in items if item.strip() and not item.strip().startswith("#")]


def backend_family(backend: str) -> str:
    """The family of a ``build-backend`` object reference (no backend: setuptools)."""
    module = backend.split(":", 1)[0].strip()
    for prefix, family in (
        ("setuptools", "setuptools"),
        ("flit_core", "flit"),
        ("flit.", "flit"),
        ("hatchling", "hatch"),
        ("poetry", "poetry"),
        ("pdm", "pdm"),
        ("maturin", "maturin"),
        ("scikit_build_core", "scikit-build"),
        ("mesonpy", "meson"),
    ):
        if module == prefix.rstrip(".") or module.startswith(prefix.rstrip(".") + "."):
            return family
    return "setuptools" if not module else "other"


def project_name(
    metadata: DistMetadata | None,
    pyproject: dict[str, Any],
    cfg: configparser.ConfigParser,
    args: SetupArgs,
) -> str:
    """The project's name, from the first source that has one ("" when none does)."""
    for candidate in (
        metadata.name if metadata else None,
        table_get(pyproject, "project", "name"),
        table_get(pyproject, "tool", "poetry", "name"),
        cfg_value(cfg, "metadata", "name"),
        args.kwargs.get("name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return ""


def module_names(name: str) -> list[str]:
    """The import names a project name is commonly given (``My-Pkg``: ``My_Pkg``, ``my_pkg``)."""
    base = re.sub(r"[-_.]+", "_", name.strip())
    return list(dict.fromkeys(n for n in (base, base.lower()) if n.isidentifier()))


def config_entry_points(
    b: LayoutBuilder, pyproject: dict[str, Any], cfg: configparser.ConfigParser, args: SetupArgs
) -> None:
    """Record the modules of the entry points the configuration declares (any backend)."""
    refs: list[tuple[str, str]] = []
    project = pyproject.get("project")
    for group in ("scripts", "gui-scripts"):
        table = table_get(project, group)
        if isinstance(table, dict):
            refs.extend((f"[{group}] {k}", v) for k, v in table.items() if isinstance(v, str))
    groups: dict[str, object] = {}
    for source in (
        table_get(project, "entry-points"),
        table_get(pyproject, "tool", "poetry", "plugins"),
    ):
        if isinstance(source, dict):
            groups.update(source)
    scripts = table_get(pyproject, "tool", "poetry", "scripts")
    if isinstance(scripts, dict):
        groups["poetry scripts"] = {
            k: (v.get("reference") if isinstance(v, dict) else v) for k, v in scripts.items()
        }
    if cfg.has_section("options.entry_points"):
        for group, text in cfg.items("options.entry_points"):
            groups[group] = [line for line in cfg_list(text) if "=" in line]
    setup_points = args.kwargs.get("entry_points")
    if isinstance(setup_points, dict):
        for group, value in setup_points.items():
            groups[group] = value if isinstance(value, list) else cfg_list(str(value))
    for group, items in groups.items():
        if isinstance(items, dict):
            refs.extend((f"[{group}] {k}", str(v)) for k, v in items.items() if isinstance(v, str))
        for line in string_list(items):
            name, _, ref = line.partition("=")
            refs.append((f"[{group}] {name.strip()}", ref))
    for label, ref in refs:
        module = ref.split(":", 1)[0].split("[", 1)[0].strip()
        if module:
            b.entry_modules.setdefault(module, f"entry point {label}")


class PathPatterns:
    """``gitignore``-style patterns, as build backends take them, compiled into one regex.

    ``*`` and ``?`` stay within a path component, ``**`` crosses them; a pattern without a
    slash matches any component unless ``anchored``, one with a slash is anchored at the root;
    a path matches when it or a directory above it does. At most :data:`MAX_PATTERNS`
    patterns of bounded length are kept, so a match costs one regex search.
    """

    def __init__(self, patterns: Sequence[str], *, anchored: bool = False) -> None:
        alternatives = []
        for pattern in patterns[:MAX_PATTERNS]:
            clean = pattern.strip().strip("/")
            if not clean or len(clean) > _MAX_PATTERN_LENGTH:
                continue
            body = _glob_regex(clean)
            alternatives.append(body if anchored or "/" in clean else f"(?:[^/]*/)*{body}")
        self._regex = (
            re.compile(f"(?:{'|'.join(alternatives)})(?:/|$)", re.DOTALL) if alternatives else None
        )

    def matches(self, path: str) -> bool:
        return self._regex is not None and self._regex.match(path) is not None


def _glob_regex(pattern: str) -> str:
    return "".join(_GLOB_REGEX.get(part, re.escape(part)) for part in _GLOB_TOKEN.findall(pattern))


def _top_name(path: str, base: str) -> str:
    relative = path[len(base) + 1 :] if base and path.startswith(base + "/") else path
    return relative.split("/", 1)[0].split(".", 1)[0]
