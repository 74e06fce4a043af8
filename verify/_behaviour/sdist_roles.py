"""The role of each file of an sdist, from its build configuration and what the build runs.

The build's entry files (``setup.py`` when the backend runs it, the in-tree backend, hooks,
build scripts, modules read for a version) and everything they reach
(:func:`~verify._behaviour.buildtime.follow`) are install-time; what the configuration
installs (:func:`~verify._behaviour.backends.read_layout`) or entry points name is installed;
the rest is inert. When the configuration cannot be read, a heuristic guesses, erring towards
the riskier role.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from verify._behaviour.backends import read_layout
from verify._behaviour.buildconfig import DISCOVERY_EXCLUDED_MODULES, Layout
from verify._behaviour.buildtime import follow, static_attribute
from verify._behaviour.inert_paths import NOT_INSTALLED_DIRS, inert_reason, metadata_reason
from verify._behaviour.roles import Reach, Role
from verify._behaviour.sourcetree import SourceTree, normalize, parse_python
from verify._dist.metadata import DistMetadata

__all__ = ["BUILD_ENTRY", "sdist_reach"]


_NATIVE_SOURCES: Final = (
    *(".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".pyx", ".pxd", ".pxi", ".rs", ".f"),
    *(".f90", ".cu", ".m", ".mm"),
)
#: Names a heuristic never takes for an installed top-level module.
_NOT_MODULES: Final = DISCOVERY_EXCLUDED_MODULES | {"setup", "conftest", "noxfile", "tasks"}
BUILD_ENTRY: Final = ("setup.py", "pip runs setup.py to build the sdist")


def _project_prefix(paths: Sequence[str]) -> str:
    """The directory the project sits in when the archive reader could not strip it."""
    markers = ("setup.py", "pyproject.toml", "PKG-INFO", "setup.cfg")
    if any(p in markers for p in paths):
        return ""
    tops = {p.split("/", 1)[0] for p in paths if "/" in p and p.split("/", 1)[1] in markers}
    return f"{tops.pop()}/" if len(tops) == 1 else ""


def sdist_reach(
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
        start.append(BUILD_ENTRY)
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
                    and name.lower() not in NOT_INSTALLED_DIRS
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
    metadata = metadata_reason(path)
    if metadata:
        return Role.INERT, metadata
    installed = _installed(path, tree, layout)
    if installed:
        if layout.excludes.matches(path):
            return Role.INERT, "left out of the wheel (an exclude pattern)"
        return Role.INSTALLED, installed
    if path in entries:
        return Role.INSTALLED, entries[path]
    category = inert_reason(path)
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
