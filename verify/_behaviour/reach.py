"""What each file of a distribution can do: run at install time, be installed, or neither.

A finding means more in a file that runs than in one that never does, so every member path of
a distribution gets a :class:`Role`, worked out statically from bytes (nothing is imported or
executed):

``INSTALL``
    Runs while pip builds or installs: an sdist's ``setup.py`` when its build backend runs it
    (setuptools, or a backend this does not know; under flit, hatchling, poetry-core and the
    like pip never runs it, and it is ``INERT`` with a reason saying so), the in-tree backend
    (``backend-path``), backend hooks and build scripts (``hatch_build.py``,
    ``pdm_build.py``, poetry's build script, the root ``CMakeLists.txt`` and
    ``meson.build``, ``build.rs``), modules the build imports to read a version (``attr:``,
    flit) when the value is not a literal, and everything those reach
    (:mod:`verify._behaviour.buildtime`): a "test" helper that ``setup.py`` imports is
    install-time code. Nothing in a wheel runs at install time.
``INSTALLED``
    Copied into site-packages, the scripts or the data directory: may run at import time or
    when called. In a wheel everything outside ``*.dist-info/`` (root ``.pth`` files run at
    every interpreter start-up; the rater treats those itself). In an sdist what the build
    configuration installs (:mod:`verify._behaviour.backends`), plus the modules entry
    points name, plus native sources when the build compiles them.
``INERT``
    Shipped, but neither installed nor run by installing: metadata (``PKG-INFO``,
    ``*.egg-info/``, ``*.dist-info/``), build configuration (read, never run), and what the
    build configuration leaves out (tests, docs, examples, benchmarks, CI files, task files,
    scripts nothing installs or imports).

Tests are two things. A top-level ``tests/`` that the sdist does not install is ``INERT``. A
``tests`` package *inside* an installed package (``pkg/tests/test_x.py``) ships in
site-packages, so it is ``INSTALLED``; it runs only when someone runs the tests, which
:meth:`Reach.is_test` tells, so that the rater can rate generic findings there lower.

When the installed set cannot be read statically (a ``setup.py`` that computes its
arguments, an unknown or meson backend, unreadable configuration), :attr:`Reach.heuristic` is
set and a heuristic decides: only paths with affirmative evidence of never being installed
(top-level tests/docs/examples/benchmarks/CI directories, task and documentation files) are
``INERT``; everything else counts as ``INSTALLED``, since calling a file inert that is not
would hide what it does. Top-level directories holding ``__init__.py`` (also under ``src/``) and
top-level modules give :attr:`Reach.top_level` then. Errs towards the riskier role throughout.

Bounded and hostile-input safe: reads are capped per file and per tree, parsing per file and per
walk, import following in files; :func:`reach` never raises. The work is split: the tree and
its bounded reads in :mod:`verify._behaviour.sourcetree`, ``setup()``'s arguments in
:mod:`verify._behaviour.setuppy`, the layout's data and configuration readers in
:mod:`verify._behaviour.buildconfig`, each backend's rules in
:mod:`verify._behaviour.backends`, the install-time walk in :mod:`verify._behaviour.buildtime`.
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from verify._behaviour.backends import read_layout
from verify._behaviour.buildconfig import DISCOVERY_EXCLUDED_MODULES, Layout
from verify._behaviour.buildtime import follow, static_attribute
from verify._behaviour.sourcetree import SourceTree, normalize, parse_python
from verify._dist.archive import Archive
from verify._dist.metadata import DistMetadata

__all__ = ["Reach", "Role", "is_test_path", "reach", "reach_archive"]


class Role(str, enum.Enum):
    """What a file of a distribution can do when the distribution is installed."""

    #: Runs while pip builds or installs the distribution.
    INSTALL = "install"
    #: Copied into site-packages (or the scripts or data directory): may run at import time
    #: or when called.
    INSTALLED = "installed"
    #: Shipped but neither installed nor run by installing.
    INERT = "inert"


@dataclass(frozen=True, slots=True)
class Reach:
    """The role of every member of one distribution, and why."""

    #: Member path (as given) -> role.
    roles: Mapping[str, Role]
    #: Member path -> a short phrase for reports ("imported by setup.py").
    reasons: Mapping[str, str]
    #: Importable top-level names the distribution installs.
    top_level: tuple[str, ...]
    #: The installed set was guessed, not read from the build configuration.
    heuristic: bool = False
    #: Limits reached and other caveats, one phrase each.
    notes: tuple[str, ...] = ()

    def role(self, path: str) -> Role:
        """``path``'s role; a path not listed counts as installed (the riskier guess)."""
        role = self.roles.get(path) or self.roles.get(path.removeprefix("./"))
        return role if role is not None else Role.INSTALLED

    def reason(self, path: str) -> str:
        reason = self.reasons.get(path) or self.reasons.get(path.removeprefix("./"))
        return reason if reason is not None else "not listed in the distribution"

    def is_test(self, path: str) -> bool:
        """Whether ``path`` is test code (whatever its role): see :func:`is_test_path`."""
        return is_test_path(path)

    def paths(self, role: Role) -> tuple[str, ...]:
        """The member paths that have ``role``, sorted."""
        return tuple(sorted(path for path, r in self.roles.items() if r is role))


_TEST_DIRS: Final = frozenset({"tests", "test", "testing"})
_NOT_INSTALLED_DIRS: Final = {
    **dict.fromkeys(("tests", "test", "testing", "unit_tests", "unit_test"), "not installed"),
    **dict.fromkeys(("docs", "doc", "documentation", "manpages"), "documentation"),
    **dict.fromkeys(("examples", "example"), "examples"),
    **dict.fromkeys(("benchmarks", "benchmark", "bench", "asv_bench"), "benchmarks"),
    **dict.fromkeys(
        (".github", ".gitlab", ".circleci", ".ci", "ci", ".azure-pipelines", ".buildkite"),
        "CI configuration",
    ),
    **dict.fromkeys(
        (".git", ".hg", ".tox", ".nox", ".vscode", ".idea", ".devcontainer", "htmlcov"),
        "development files",
    ),
    **dict.fromkeys(("news", "newsfragments", "changelog.d", "debian"), "release notes"),
}
_DEV_FILES: Final = frozenset(
    {"noxfile.py", "toxfile.py", "tasks.py", "fabfile.py", "conftest.py", "pavement.py"}
    | {"dodo.py", "tox.ini", "pytest.ini", ".coveragerc", "mypy.ini", "makefile", "justfile"}
    | {".travis.yml", "appveyor.yml", "azure-pipelines.yml", ".gitlab-ci.yml", "codecov.yml"}
    | {".readthedocs.yml", ".readthedocs.yaml", ".pre-commit-config.yaml", ".gitignore"}
    | {".gitattributes", ".editorconfig", ".git_archival.txt", ".flake8", ".pylintrc"}
)
_DOC_PREFIXES: Final = (
    *("readme", "license", "licence", "copying", "notice", "authors", "contributors"),
    *("changes", "changelog", "history", "news", "contributing", "code_of_conduct"),
    *("security", "requirements"),
)
_DOC_SUFFIXES: Final = (
    *(".md", ".rst", ".txt", ".bib", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".pdf"),
)
_CONFIG_FILES: Final = frozenset({"pyproject.toml", "setup.cfg", "MANIFEST.in"})
_NATIVE_SOURCES: Final = (
    *(".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".pyx", ".pxd", ".pxi", ".rs", ".f"),
    *(".f90", ".cu", ".m", ".mm"),
)
#: Names a heuristic never takes for an installed top-level module.
_NOT_MODULES: Final = DISCOVERY_EXCLUDED_MODULES | {"setup", "conftest", "noxfile", "tasks"}
_BUILD_ENTRY: Final = ("setup.py", "pip runs setup.py to build the sdist")


def is_test_path(path: str) -> bool:
    """Whether ``path`` is test code: under a ``tests``/``test``/``testing`` directory, or a
    ``test_*.py``, ``*_test.py`` or ``conftest.py`` file. Says nothing about its role."""
    parts = path.split("/")
    name = parts[-1]
    return any(part in _TEST_DIRS for part in parts[:-1]) or (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def reach_archive(archive: Archive, metadata: DistMetadata | None) -> Reach:
    """:func:`reach` over an opened archive's regular files."""
    return reach(archive.format, [m.path for m in archive.files()], archive.read, metadata)


def reach(
    archive_format: str,
    paths: Sequence[str],
    read: Callable[[str], bytes],
    metadata: DistMetadata | None,
) -> Reach:
    """The role of each of ``paths`` (member paths, an sdist's root directory stripped).

    ``archive_format`` is :attr:`Archive.format` (``wheel``, ``zip`` or ``tar``); ``read``
    returns a member's bytes and may raise; ``metadata`` is what
    :func:`~verify._dist.metadata.read_metadata` found (its entry points and backend).
    Never raises: input that defeats the analysis gives the heuristic.
    """
    try:
        kind = _kind(archive_format, paths)
        if kind != "sdist":
            return _built(paths, read, metadata_dir=kind)
        return _sdist(paths, read, metadata)
    # Hostile input must never take the analysis down: whatever goes wrong (a pathological
    # file, a bug this input found), every file still gets a role, the cautious one.
    except Exception as exc:
        return _fallback(paths, f"the analysis failed ({type(exc).__name__}): heuristic roles")


def _kind(archive_format: str, paths: Sequence[str]) -> str:
    """``sdist``, or the metadata directory suffix of a built distribution."""
    tops = {p.removeprefix("./").split("/", 1)[0] for p in paths if "/" in p}
    if archive_format == "wheel":
        return ".dist-info"
    if any(p.removeprefix("./") in ("setup.py", "pyproject.toml", "PKG-INFO") for p in paths):
        return "sdist"
    if any(top.endswith(".dist-info") for top in tops):
        return ".dist-info"
    if "EGG-INFO" in tops:
        return "EGG-INFO"
    return "sdist"


# --- wheels and eggs --------------------------------------------------------------------------


def _built(paths: Sequence[str], read: Callable[[str], bytes], *, metadata_dir: str) -> Reach:
    roles: dict[str, Role] = {}
    reasons: dict[str, str] = {}
    names: set[str] = set()
    declared: set[str] = set()
    for path in paths:
        clean = normalize(path) or path
        head, _, rest = clean.partition("/")
        if rest and head.endswith(metadata_dir):
            roles[path], reasons[path] = Role.INERT, f"metadata ({metadata_dir})"
            if rest == "top_level.txt":
                declared |= _top_level_txt(read, path)
            continue
        roles[path] = Role.INSTALLED
        if rest and head.endswith(".data"):
            scheme, _, inner = rest.partition("/")
            reasons[path] = {
                "scripts": "installed script (.data/scripts)",
                "data": "installed data file (.data/data)",
                "headers": "installed header (.data/headers)",
            }.get(scheme, f"installed (.data/{scheme})")
            if scheme in ("purelib", "platlib") and inner:
                names.add(_import_name(inner))
        elif not rest and clean.endswith(".pth"):
            reasons[path] = "start-up file (.pth): runs at every interpreter start"
        else:
            reasons[path] = "installed"
            names.add(_import_name(clean))
    # top_level.txt says what the build meant to install; what the archive holds is added,
    # since an undeclared top-level module is exactly what a tampered wheel would carry.
    top = sorted(n for n in (declared | names) if n.isidentifier())
    return Reach(roles=roles, reasons=reasons, top_level=tuple(top))


def _top_level_txt(read: Callable[[str], bytes], path: str) -> set[str]:
    try:
        data = read(path)
    # The caller's reader: a file it cannot give is simply not read.
    except Exception:
        return set()
    text = data[:65536].decode("utf-8", errors="replace")
    return {line.strip().split("/")[0] for line in text.splitlines() if line.strip()}


def _import_name(path: str) -> str:
    """The top-level import name ``path`` provides: ``pkg`` for ``pkg/x.py``, ``pkg.py``,
    ``pkg.cpython-312-x86_64-linux-gnu.so``."""
    head, slash, _ = path.partition("/")
    return head if slash else head.split(".", 1)[0]


# --- sdists -----------------------------------------------------------------------------------


def _project_prefix(paths: Sequence[str]) -> str:
    """The directory the project sits in when the archive reader could not strip it."""
    markers = ("setup.py", "pyproject.toml", "PKG-INFO", "setup.cfg")
    if any(p in markers for p in paths):
        return ""
    tops = {p.split("/", 1)[0] for p in paths if "/" in p and p.split("/", 1)[1] in markers}
    return f"{tops.pop()}/" if len(tops) == 1 else ""


def _sdist(
    paths: Sequence[str], read: Callable[[str], bytes], metadata: DistMetadata | None
) -> Reach:
    clean_paths = {path: normalize(path) or path for path in paths}
    prefix = _project_prefix(list(clean_paths.values()))
    inside = {
        clean[len(prefix) :]: path
        for path, clean in clean_paths.items()
        if clean.startswith(prefix)
    }
    tree = SourceTree(inside, lambda name: read(inside[name]))
    text = tree.text("setup.py") if "setup.py" in tree.files else None
    setup_module = parse_python(text) if text is not None else None
    layout = read_layout(tree, metadata, setup_module)
    notes: list[str] = []
    if prefix:
        notes.append(f"the project's files are under {prefix!r}, not at the sdist's root")

    backend_dirs = [normalize(p) or "" for p in layout.backend_path]
    roots = ["", *backend_dirs, *layout.roots]
    start = _build_entries(tree, layout, backend_dirs, roots)
    reached = follow(tree, start, roots, parsed={"setup.py": setup_module} if setup_module else {})
    notes += reached.notes
    entry_files = _entry_files(tree, layout, metadata, roots)
    heuristic = _Heuristic(tree) if layout.dynamic else None
    if layout.dynamic:
        notes.append(f"installed files guessed: {layout.dynamic}")
    notes += tree.problems[:5]

    roles: dict[str, Role] = {}
    reasons: dict[str, str] = {}
    for path, clean in clean_paths.items():
        if not clean.startswith(prefix):
            roles[path], reasons[path] = Role.INERT, "outside the project's directory"
            continue
        role, why = _classify(
            clean[len(prefix) :], tree, layout, reached.files, entry_files, heuristic
        )
        roles[path], reasons[path] = role, why
    top = set(layout.top_level) | (heuristic.top_level if heuristic else set())
    return Reach(
        roles=roles,
        reasons=reasons,
        top_level=tuple(sorted(top)),
        heuristic=heuristic is not None,
        notes=tuple(notes),
    )


def _build_entries(
    tree: SourceTree, layout: Layout, backend_dirs: list[str], roots: list[str]
) -> list[tuple[str, str]]:
    """The files the build runs first: the starting points of :func:`follow`."""
    start: list[tuple[str, str]] = []
    if layout.runs_setup_py and "setup.py" in tree.files:
        start.append(_BUILD_ENTRY)
    module = layout.backend_object.split(":", 1)[0].strip()
    found_backend = False
    for directory in backend_dirs:
        files = tree.module_files(module, directory) if module else None
        if files:
            found_backend = True
            start += [(path, "in-tree build backend (backend-path)") for path in files]
    if not found_backend:
        # The backend is not where backend-path says: whatever those directories hold may be
        # what runs.
        for directory in backend_dirs:
            if directory:
                start += [
                    (path, "in the in-tree backend's directory (backend-path)")
                    for path in sorted(tree.under(directory))
                    if path.endswith(".py")
                ]
    start += sorted(layout.build_files.items())
    for entry in layout.build_modules:
        for root in roots:
            files = tree.module_files(entry.module, root) or []
            if not files:
                continue
            if entry.attribute and files[-1].endswith(".py"):
                parsed = parse_python(tree.text(files[-1]) or "")
                if parsed is not None and static_attribute(parsed, entry.attribute):
                    continue  # read from the source, not imported
            start += [(path, entry.reason) for path in files]
    return start


def _entry_files(
    tree: SourceTree, layout: Layout, metadata: DistMetadata | None, roots: list[str]
) -> dict[str, str]:
    references = dict(layout.entry_modules)
    for group, items in (metadata.entry_points if metadata else {}).items():
        for name, value in items.items():
            module = value.split(":", 1)[0].split("[", 1)[0].strip()
            references.setdefault(module, f"entry point [{group}] {name}")
    found: dict[str, str] = {}
    for module, why in references.items():
        for root in (*roots, "src"):
            for path in tree.module_files(module, root) or ():
                found.setdefault(path, why)
    return found


class _Heuristic:
    """The guess when the build configuration does not say what is installed."""

    def __init__(self, tree: SourceTree) -> None:
        self.packages: dict[str, str] = {}
        self.top_level: set[str] = set()
        for base in ("", "src"):
            for name in tree.subdirs(base):
                directory = f"{base}/{name}" if base else name
                if (
                    directory in tree.packages
                    and name.isidentifier()
                    and name.lower() not in _NOT_INSTALLED_DIRS
                ):
                    self.packages[directory] = name
                    self.top_level.add(name)
        for path in tree.files:
            parent, _, leaf = path.rpartition("/")
            stem = leaf.removesuffix(".py")
            if (
                parent in ("", "src")
                and leaf.endswith(".py")
                and stem.isidentifier()
                and stem.lower() not in _NOT_MODULES
            ):
                self.top_level.add(stem)

    def package(self, path: str) -> str | None:
        # Heuristic packages are top-level or under src/: one or two components.
        parts = path.split("/")
        return self.packages.get(parts[0]) or self.packages.get("/".join(parts[:2]))


def _classify(
    path: str,
    tree: SourceTree,
    layout: Layout,
    install: Mapping[str, str],
    entries: Mapping[str, str],
    heuristic: _Heuristic | None,
) -> tuple[Role, str]:
    if path in install:
        return Role.INSTALL, install[path]
    if path == "setup.py" and not layout.runs_setup_py:
        return Role.INERT, f"not run: the build backend is {layout.backend_object!r}"
    metadata = _metadata_reason(path)
    if metadata:
        return Role.INERT, metadata
    installed = _installed(path, tree, layout)
    if installed:
        if layout.excludes.matches(path):
            return Role.INERT, "left out of the wheel (an exclude pattern)"
        return Role.INSTALLED, installed
    if path in entries:
        return Role.INSTALLED, entries[path]
    category = _inert_reason(path)
    if heuristic is None:
        if layout.native and path.endswith(_NATIVE_SOURCES) and category is None:
            return Role.INSTALLED, "native source, compiled into an installed extension"
        return Role.INERT, category or _not_installed(path, tree, layout)
    package = heuristic.package(path)
    if package is not None:
        return Role.INSTALLED, f"heuristic: in package {package!r} ({layout.dynamic})"
    if category is not None:
        return Role.INERT, category
    return Role.INSTALLED, f"heuristic: may be installed ({layout.dynamic})"


def _installed(path: str, tree: SourceTree, layout: Layout) -> str | None:
    if path in layout.files:
        return layout.files[path]
    directory = path.rpartition("/")[0]
    ancestor = directory
    while ancestor:
        if ancestor in layout.trees:
            return layout.trees[ancestor]
        ancestor = ancestor.rpartition("/")[0]
    # Package semantics: the nearest enclosing package decides; a plain directory inside a
    # package (data) goes with it, a sub-package nobody listed does not.
    while directory:
        if directory in layout.packages:
            return layout.packages[directory]
        if directory in tree.packages or directory in layout.left_out:
            return None
        directory = directory.rpartition("/")[0]
    return None


def _not_installed(path: str, tree: SourceTree, layout: Layout) -> str:
    directory = path.rpartition("/")[0]
    while directory:
        if directory in tree.packages or directory in layout.left_out:
            parent = directory.rpartition("/")[0]
            if parent and _installed(f"{parent}/__init__.py", tree, layout):
                return f"not installed: the configuration leaves out the sub-package {directory}/"
            break
        directory = directory.rpartition("/")[0]
    return "not installed: outside what the build configuration ships"


def _metadata_reason(path: str) -> str | None:
    parts = path.split("/")
    if path == "PKG-INFO":
        return "metadata (PKG-INFO)"
    if any(part.endswith(".egg-info") for part in parts[:-1]):
        return "metadata (*.egg-info)"
    if path in _CONFIG_FILES:
        return f"build configuration ({path}: read, not run)"
    return None


def _inert_reason(path: str) -> str | None:
    """Why a file that nothing installs is inert, when its place says so; ``None`` otherwise."""
    parts = path.split("/")
    name = parts[-1].lower()
    if len(parts) > 1:
        top = parts[0]
        kind = _NOT_INSTALLED_DIRS.get(top.lower())
        if kind is not None:
            return f"{kind} ({top}/)"
        if ".github" in parts[:-1]:
            return "CI configuration (.github/)"
    elif name in _DEV_FILES:
        return f"development file ({parts[-1]})"
    elif name.startswith(_DOC_PREFIXES):
        return f"documentation ({parts[-1]})"
    if name.endswith(_DOC_SUFFIXES):
        return f"documentation or image ({posixpath.splitext(name)[1]})"
    return None


def _fallback(paths: Sequence[str], note: str) -> Reach:
    roles: dict[str, Role] = {}
    reasons: dict[str, str] = {}
    for path in paths:
        clean = normalize(path) or path
        category = _metadata_reason(clean) or _inert_reason(clean)
        if clean == "setup.py":
            roles[path], reasons[path] = Role.INSTALL, _BUILD_ENTRY[1]
        elif category is not None:
            roles[path], reasons[path] = Role.INERT, category
        else:
            roles[path], reasons[path] = Role.INSTALLED, "heuristic: may be installed"
    return Reach(roles=roles, reasons=reasons, top_level=(), heuristic=True, notes=(note,))
