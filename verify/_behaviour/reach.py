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
:mod:`verify._behaviour.backends`, the install-time walk in :mod:`verify._behaviour.buildtime`,
the roles themselves in :mod:`verify._behaviour.roles`, an sdist's roles in
:mod:`verify._behaviour.sdist_roles`, and what a path's place says in
:mod:`verify._behaviour.inert_paths`; this module gives wheels and eggs theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verify._behaviour.inert_paths import inert_reason, metadata_reason
from verify._behaviour.roles import Reach, Role, is_test_path
from verify._behaviour.sdist_roles import BUILD_ENTRY, sdist_reach
from verify._behaviour.sourcetree import normalize
from verify._dist.archive import Archive
from verify._dist.metadata import DistMetadata

__all__ = ["Reach", "Role", "is_test_path", "reach", "reach_archive"]


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
        return sdist_reach(paths, read, metadata)
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


def _fallback(paths: Sequence[str], note: str) -> Reach:
    roles: dict[str, Role] = {}
    reasons: dict[str, str] = {}
    for path in paths:
        clean = normalize(path) or path
        category = metadata_reason(clean) or inert_reason(clean)
        if clean == "setup.py":
            roles[path], reasons[path] = Role.INSTALL, BUILD_ENTRY[1]
        elif category is not None:
            roles[path], reasons[path] = Role.INERT, category
        else:
            roles[path], reasons[path] = Role.INSTALLED, "heuristic: may be installed"
    return Reach(roles=roles, reasons=reasons, top_level=(), heuristic=True, notes=(note,))


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
