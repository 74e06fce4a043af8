"""What an sdist installs, and what its build runs, by the rules of its build backend.

:func:`read_layout` reads ``pyproject.toml``, ``setup.cfg`` and ``setup.py``'s ``setup()``
arguments (statically, see :mod:`verify._behaviour.setuppy`) and, by the build backend the
sdist names, works out the directories and files a wheel built from it would contain, and the
files and modules the build itself runs (hooks, ``attr:`` versions, build scripts).

Each backend's rules are emulated from its documentation: setuptools (``packages``,
``py_modules``, ``package_dir``, the package finders, ``scripts``, ``data_files``, and the
automatic discovery of setuptools 61+ when nothing is declared), flit (the module named like
the project), hatchling (``packages``/``only-include``/``include``/``force-include``, else the
directory named like the project), poetry-core (``packages``, else by name), pdm-backend
(``includes``, else the top-level packages under ``package-dir``), maturin (``python-source``),
scikit-build-core (``wheel.packages``). ``setup.py`` runs only under setuptools or an unknown
backend. When the configuration cannot be read or leaves the answer to code (meson, an unknown
backend, a ``setup.py`` that computes its arguments), :attr:`Layout.dynamic` says why, and the
caller falls back to a heuristic. Never raises on what the sdist contains.
"""

from __future__ import annotations

import ast
import configparser
import posixpath
from collections.abc import Mapping
from typing import Any

from verify._behaviour.buildconfig import (
    DISCOVERY_EXCLUDED,
    DISCOVERY_EXCLUDED_MODULES,
    BuildModule,
    Layout,
    LayoutBuilder,
    backend_family,
    cfg_list,
    cfg_value,
    config_entry_points,
    load_cfg,
    load_toml,
    module_names,
    project_name,
    string_list,
    table_get,
)
from verify._behaviour.setuppy import SetupArgs, find_packages, read_setup_args
from verify._behaviour.sourcetree import SourceTree, join_root, normalize
from verify._dist.metadata import DistMetadata

__all__ = ["read_layout"]


def read_layout(
    tree: SourceTree, metadata: DistMetadata | None, setup_module: ast.Module | None
) -> Layout:
    """The layout of the sdist ``tree`` (``setup_module``: its parsed ``setup.py``, if any)."""
    b = LayoutBuilder(tree)
    pyproject = load_toml(b, "pyproject.toml")
    cfg = load_cfg(b, "setup.cfg")
    has_setup = "setup.py" in tree.files
    args = read_setup_args(setup_module, tree) if has_setup else SetupArgs()
    backend = table_get(pyproject, "build-system", "build-backend")
    if not isinstance(backend, str):
        backend = metadata.build_backend if metadata and metadata.build_backend else ""
    b.backend = backend_family(backend)
    b.backend_object = backend
    backend_path = table_get(pyproject, "build-system", "backend-path")
    b.backend_path = string_list(backend_path) + list(metadata.backend_path if metadata else ())
    name = project_name(metadata, pyproject, cfg, args)
    config_entry_points(b, pyproject, cfg, args)
    b.runs_setup_py = has_setup and b.backend in ("setuptools", "other")
    if b.backend == "setuptools":
        _setuptools(b, pyproject, cfg, args, name, has_setup=has_setup)
    elif b.backend == "flit":
        _flit(b, pyproject, name)
    elif b.backend == "hatch":
        _hatch(b, pyproject, name)
    elif b.backend == "poetry":
        _poetry(b, pyproject, name)
    elif b.backend == "pdm":
        _pdm(b, pyproject)
    elif b.backend == "maturin":
        _maturin(b, pyproject, name)
    elif b.backend == "scikit-build":
        _scikit_build(b, pyproject, name)
    elif b.backend == "meson":
        b.native = True
        b.unknown("meson.build decides what is installed")
        # The root meson.build runs; the others run when it reaches them (subdir()).
        b.build_file("meson.build", "meson build file (meson runs it to build)")
    else:
        if has_setup:
            # An unknown (often in-tree) backend commonly wraps setuptools and runs setup.py.
            _setuptools(b, pyproject, cfg, args, name, has_setup=has_setup)
        b.dynamic = f"the build backend {backend or 'none'!r} is not one this reads"
    return b.freeze()


# --- setuptools -----------------------------------------------------------------------------


def _package_path(name: str, package_dir: Mapping[str, str]) -> str:
    """The directory of package ``name`` under setuptools' ``package_dir`` mapping."""
    parts = name.split(".")
    for cut in range(len(parts), -1, -1):
        prefix = ".".join(parts[:cut])
        if prefix in package_dir:
            return normalize("/".join([package_dir[prefix], *parts[cut:]]) or ".") or ""
    return "/".join(parts)


def _setuptools(
    b: LayoutBuilder,
    pyproject: dict[str, Any],
    cfg: configparser.ConfigParser,
    args: SetupArgs,
    name: str,
    *,
    has_setup: bool,
) -> None:
    tool = table_get(pyproject, "tool", "setuptools")
    tool = tool if isinstance(tool, dict) else {}
    b.unknown(args.dynamic)
    b.native = b.native or args.native or "ext-modules" in tool
    package_dir: dict[str, str] = {}
    for source in (args.kwargs.get("package_dir"), tool.get("package-dir")):
        if isinstance(source, dict):
            package_dir.update({str(k): str(v) for k, v in source.items() if isinstance(v, str)})
    for line in cfg_list(cfg_value(cfg, "options", "package_dir")):
        key, _, value = line.rpartition("=") if "=" in line else ("", "", line)
        package_dir[key.strip()] = value.strip()
    b.roots.extend(d for d in (normalize(v) for v in package_dir.values()) if d)

    declared: list[tuple[str, str]] = []  # (package name, why)
    found = [(package, "setup.py find_packages") for package in args.found]
    for package in args.found:
        # The finder's `where`: the package's directory without the package's own path.
        relative = package.name.replace(".", "/")
        if package.directory.endswith(relative):
            b.roots.append(package.directory[: -len(relative)].rstrip("/"))
    packages = args.kwargs.get("packages")
    declared += [(p, "setup.py packages=") for p in string_list(packages)]
    cfg_packages = cfg_value(cfg, "options", "packages")
    if cfg_packages is not None and cfg_packages.strip() in ("find:", "find_namespace:"):
        where = cfg_value(cfg, "options.packages.find", "where") or ""
        b.roots.append(normalize(where.strip()) or "")
        found += [
            (package, "setup.cfg packages = find:")
            for package in find_packages(
                b.tree,
                where.strip(),
                cfg_list(cfg_value(cfg, "options.packages.find", "include")) or ["*"],
                cfg_list(cfg_value(cfg, "options.packages.find", "exclude")),
                namespace=cfg_packages.strip() == "find_namespace:",
            )
        ]
    else:
        declared += [(p, "setup.cfg packages") for p in cfg_list(cfg_packages)]
    tool_packages = tool.get("packages")
    finder = table_get(tool_packages, "find")
    if isinstance(finder, dict):
        for where in string_list(finder.get("where")) or [""]:
            b.roots.append(normalize(where) or "")
            found += [
                (package, "pyproject.toml packages.find")
                for package in find_packages(
                    b.tree,
                    where,
                    string_list(finder.get("include")) or ["*"],
                    string_list(finder.get("exclude")),
                    namespace=finder.get("namespaces", True) is not False,
                )
            ]
    else:
        declared += [(p, "pyproject.toml packages") for p in string_list(tool_packages)]
    for package, why in found:
        if not package.included:
            b.left_out.add(package.directory)
            continue
        b.packages.setdefault(package.directory, f"in package {package.name!r} ({why})")
        b.top_level.add(package.name.split(".")[0])
    for package_name, why in declared:
        directory = _package_path(package_name, package_dir)
        if directory in b.tree.dirs:
            b.packages.setdefault(directory, f"in package {package_name!r} ({why})")
            b.top_level.add(package_name.split(".")[0])

    modules = string_list(args.kwargs.get("py_modules")) + string_list(tool.get("py-modules"))
    modules += cfg_list(cfg_value(cfg, "options", "py_modules"))
    for module in modules:
        parent, _, leaf = module.rpartition(".")
        where = _package_path(parent, package_dir) if parent else _package_path("", package_dir)
        b.path(join_root(where, f"{leaf}.py"), f"module {module!r} (py_modules)")

    pbr = bool(args.kwargs.get("pbr"))
    if pbr:
        for package_name in cfg_list(cfg_value(cfg, "files", "packages")) or module_names(name):
            b.path(package_name.replace(".", "/"), f"in package {package_name!r} (pbr)")
    if not (b.packages or declared or modules or pbr or args.dynamic) and packages is None:
        # setuptools 61+ discovers packages itself when none are declared (older ones install
        # none: discovery is the cautious reading).
        _discover(b, package_dir)

    scripts = string_list(args.kwargs.get("scripts")) + string_list(tool.get("script-files"))
    for script in scripts + cfg_list(cfg_value(cfg, "options", "scripts")):
        b.pattern(script, "installed script (scripts)", importable=False)
    _data_files(b, args, cfg, tool)

    for section, key in (("metadata", "version"), ("metadata", "description")):
        value = cfg_value(cfg, section, key) or ""
        if value.strip().startswith("attr:"):
            _attr(b, value.strip()[5:].strip(), f"setup.cfg {key} = attr:")
    dynamic = tool.get("dynamic")
    if isinstance(dynamic, dict):
        for key, spec in dynamic.items():
            attr = table_get(spec, "attr")
            if isinstance(attr, str):
                _attr(b, attr, f"pyproject.toml dynamic {key} attr")
    commands = [line.partition("=")[2] for line in cfg_list(cfg_value(cfg, "options", "cmdclass"))]
    cmdclass = tool.get("cmdclass")
    if isinstance(cmdclass, dict):
        commands += [v for v in cmdclass.values() if isinstance(v, str)]
    for ref in commands:
        module = ref.strip().rpartition(".")[0]
        if module:
            b.build_modules.append(BuildModule(module, "", "setup command class (cmdclass)"))
    if not has_setup and not pyproject:
        b.unknown("there is no setup.py nor pyproject.toml")


def _attr(b: LayoutBuilder, reference: str, why: str) -> None:
    module, _, attribute = reference.rpartition(".")
    if module:
        b.build_modules.append(BuildModule(module, attribute, f"{why} (imported unless a literal)"))


def _data_files(
    b: LayoutBuilder, args: SetupArgs, cfg: configparser.ConfigParser, tool: dict[str, Any]
) -> None:
    patterns: list[str] = []
    data_files = args.kwargs.get("data_files")
    if isinstance(data_files, list):
        for entry in data_files:
            patterns += string_list(entry[1]) if isinstance(entry, list) and len(entry) == 2 else []
            patterns += [entry] if isinstance(entry, str) else []
    if cfg.has_section("options.data_files"):
        for _, text in cfg.items("options.data_files"):
            patterns += cfg_list(text)
    if isinstance(tool.get("data-files"), dict):
        for files in tool["data-files"].values():
            patterns += string_list(files)
    for pattern in patterns:
        b.pattern(pattern, "data file (data_files)", importable=False)


def _discover(b: LayoutBuilder, package_dir: Mapping[str, str]) -> None:
    """setuptools 61+ automatic discovery, used when no packages or modules are declared."""
    why = "setuptools automatic discovery"
    src = package_dir.get("", "src" if "src" in b.tree.dirs else "")
    src = normalize(src) or ""
    if src:
        b.roots.append(src)
        for package in find_packages(b.tree, src, namespace=True):
            if not package.included:
                continue
            b.packages.setdefault(package.directory, f"in package {package.name!r} ({why})")
            b.top_level.add(package.name.split(".")[0])
    else:
        with_python = {p.split("/", 1)[0] for p in b.tree.files if p.endswith(".py")}
        for directory in b.tree.subdirs(""):
            if (
                directory.isidentifier()
                and not directory.startswith("_")
                and directory.lower() not in DISCOVERY_EXCLUDED
                and directory in with_python
            ):
                b.path(directory, f"in package {directory!r} ({why})")
    for path in b.tree.files:
        parent, _, leaf = path.rpartition("/")
        stem = leaf.removesuffix(".py")
        if (
            parent == src
            and leaf.endswith(".py")
            and stem.isidentifier()
            and not stem.startswith("_")
            and stem.lower() not in DISCOVERY_EXCLUDED_MODULES
        ):
            b.path(path, f"module {stem!r} ({why})")


def _find_named(b: LayoutBuilder, module: str, *, src_dirs: tuple[str, ...] = ("", "src")) -> str:
    """Where the package or module ``module`` (dotted) lives: a directory, a file or ""."""
    relative = module.replace(".", "/")
    for base in src_dirs:
        path = join_root(base, relative)
        if f"{path}/__init__.py" in b.tree.files:
            return path
        if f"{path}.py" in b.tree.files:
            return f"{path}.py"
    return ""


def _flit(b: LayoutBuilder, pyproject: dict[str, Any], name: str) -> None:
    module = table_get(pyproject, "tool", "flit", "module", "name") or table_get(
        pyproject, "tool", "flit", "metadata", "module"
    )
    candidates = [module] if isinstance(module, str) else module_names(name)
    location = next((loc for c in candidates if (loc := _find_named(b, c))), "")
    if not location:
        b.unknown("flit's module is not in the sdist")
        return
    module_name = next(c for c in candidates if _find_named(b, c) == location)
    b.path(location, f"flit module {module_name!r}", top=module_name.split(".")[0])
    if location.startswith("src/"):
        b.roots.append("src")
    dynamic = string_list(table_get(pyproject, "project", "dynamic"))
    if "version" in dynamic or table_get(pyproject, "tool", "flit", "metadata") is not None:
        b.build_modules.append(
            BuildModule(
                module_name, "__version__", "flit reads its version (imported unless a literal)"
            )
        )
    data = table_get(pyproject, "tool", "flit", "external-data", "directory")
    if isinstance(data, str):
        b.path(data, "data files (flit external-data)", top="")


def _hatch(b: LayoutBuilder, pyproject: dict[str, Any], name: str) -> None:
    hatch = table_get(pyproject, "tool", "hatch")
    build = table_get(hatch, "build")
    wheel = table_get(build, "targets", "wheel")
    selected = False
    for table in (build, wheel):
        for key in ("packages", "only-include"):
            for path in string_list(table_get(table, key)):
                selected |= b.path(path, f"hatch wheel {key}")
        for pattern in string_list(table_get(table, "include")):
            selected = True
            b.pattern(pattern, "hatch wheel include", anchored=False)
        for key in ("force-include", "shared-data", "shared-scripts"):
            mapping = table_get(table, key)
            if isinstance(mapping, dict):
                for source in mapping:
                    selected |= b.path(str(source), f"hatch wheel {key}", top="")
        b.excludes.extend(string_list(table_get(table, "exclude")))
        for hook in (table_get(table, "hooks", "custom"),):
            if isinstance(hook, dict):
                path = hook.get("path", "hatch_build.py")
                b.build_file(str(path), "hatch build hook (runs to build)")
    metadata_hook = table_get(hatch, "metadata", "hooks", "custom")
    if isinstance(metadata_hook, dict):
        path = metadata_hook.get("path", "hatch_build.py")
        b.build_file(str(path), "hatch metadata hook (runs to build)")
    version = table_get(hatch, "version")
    if table_get(version, "source") == "code" and isinstance(table_get(version, "path"), str):
        b.build_file(str(table_get(version, "path")), "hatch runs it to read the version")
    if selected:
        sources = table_get(wheel, "sources") or table_get(build, "sources")
        prefixes = list(sources) if isinstance(sources, (list, dict)) else []
        _rewrite_top_level(b, [str(p).strip("/") for p in prefixes if str(p).strip("/")])
        return
    for module in module_names(name):
        location = _find_named(b, module)
        if not location:
            namespaced = [
                d for d in b.tree.subdirs("") if f"{d}/{module}/__init__.py" in b.tree.files
            ]
            location = f"{namespaced[0]}/{module}" if namespaced else ""
        if location:
            b.path(location, f"hatch default: named like the project ({module!r})")
            b.roots.extend(["src"] if location.startswith("src/") else [])
            return
    b.unknown("hatch's default selection finds no package named like the project")


def _rewrite_top_level(b: LayoutBuilder, prefixes: list[str]) -> None:
    """Import names when hatch's ``sources`` strips ``src/`` (say) from the wheel's paths."""
    if not prefixes:
        return
    b.top_level.clear()
    for path in [*b.trees, *b.files]:
        prefix = next((p for p in prefixes if path == p or path.startswith(p + "/")), "")
        relative = path[len(prefix) :].lstrip("/")
        if relative:
            name = relative.split("/", 1)[0].removesuffix(".py")
            b.top_level.update([name] if name.isidentifier() else [])
            continue
        for child in b.tree.subdirs(path):
            b.top_level.update([child] if child.isidentifier() else [])
        for file in b.tree.files:
            parent, _, leaf = file.rpartition("/")
            stem = leaf.removesuffix(".py")
            if parent == path and leaf.endswith(".py") and stem.isidentifier():
                b.top_level.add(stem)


def _poetry(b: LayoutBuilder, pyproject: dict[str, Any], name: str) -> None:
    poetry = table_get(pyproject, "tool", "poetry")
    packages = table_get(poetry, "packages")
    selected = False
    if isinstance(packages, list):
        for entry in packages:
            include, base = table_get(entry, "include"), table_get(entry, "from")
            formats = string_list(table_get(entry, "format"))
            if not isinstance(include, str) or (formats and "wheel" not in formats):
                continue
            base = (normalize(base) or "") if isinstance(base, str) else ""
            selected = True
            if base:
                b.roots.append(base)
            b.pattern(include, "poetry packages", base)
    includes = table_get(poetry, "include")
    for entry in includes if isinstance(includes, list) else []:
        path = entry if isinstance(entry, str) else table_get(entry, "path")
        formats = string_list(table_get(entry, "format"))
        if isinstance(path, str) and (not formats or "wheel" in formats):
            b.pattern(path, "poetry include")
    b.excludes.extend(string_list(table_get(poetry, "exclude")))
    script = table_get(poetry, "build")
    script = table_get(script, "script") if isinstance(script, dict) else script
    if isinstance(script, str):
        b.build_file(script, "poetry build script (runs to build)")
    if selected:
        return
    for module in module_names(name):
        location = _find_named(b, module)
        if location:
            b.path(location, f"poetry default: named like the project ({module!r})")
            b.roots.extend(["src"] if location.startswith("src/") else [])
            return
    b.unknown("poetry's default selection finds no package named like the project")


def _pdm(b: LayoutBuilder, pyproject: dict[str, Any]) -> None:
    pdm = table_get(pyproject, "tool", "pdm")
    build = table_get(pdm, "build")
    # pdm-pep517 kept these keys in [tool.pdm] itself; pdm-backend in [tool.pdm.build].
    table = build if isinstance(build, dict) else pdm
    package_dir = table_get(table, "package-dir")
    base = normalize(package_dir) if isinstance(package_dir, str) else None
    base = base or ("src" if "src" in b.tree.dirs else "")
    if base:
        b.roots.append(base)
    includes = string_list(table_get(table, "includes"))
    for pattern in includes:
        b.pattern(pattern, "pdm includes")
    b.excludes.extend(string_list(table_get(table, "excludes")))
    if not includes:
        packages = [d for d in b.tree.subdirs(base) if join_root(base, d) in b.tree.packages]
        for directory in packages:
            if directory != "tests":
                b.path(join_root(base, directory), "pdm default: a top-level package")
        if not packages:
            for path in b.tree.files:
                if path.rpartition("/")[0] == base and path.endswith(".py"):
                    b.path(path, "pdm default: a top-level module")
    hook = table_get(table, "custom-hook")
    b.build_file(
        hook if isinstance(hook, str) else "pdm_build.py", "pdm build hook (runs to build)"
    )
    if isinstance(build, str):
        b.build_file(build, "pdm build script (runs to build)")
    getter = table_get(pdm, "version", "getter")
    if table_get(pdm, "version", "source") == "call" and isinstance(getter, str):
        module = getter.split(":", 1)[0].strip()
        b.build_modules.append(BuildModule(module, "", "pdm calls it for the version"))


def _maturin(b: LayoutBuilder, pyproject: dict[str, Any], name: str) -> None:
    b.native = True
    maturin = table_get(pyproject, "tool", "maturin")
    source = table_get(maturin, "python-source")
    base = (normalize(source) or "") if isinstance(source, str) else ""
    module = table_get(maturin, "module-name")
    names = [module.split(".")[0]] if isinstance(module, str) else module_names(name)
    names += string_list(table_get(maturin, "python-packages"))
    for package in names:
        if b.path(join_root(base, package), "maturin python package") and base:
            b.roots.append(base)
    for path in b.tree.files:
        if posixpath.basename(path) == "Cargo.toml":
            b.build_file(join_root(path.rpartition("/")[0], "build.rs"), "Cargo build script")


def _scikit_build(b: LayoutBuilder, pyproject: dict[str, Any], name: str) -> None:
    b.native = True
    packages = table_get(pyproject, "tool", "scikit-build", "wheel", "packages")
    paths = list(packages.values()) if isinstance(packages, dict) else string_list(packages)
    if not paths:
        modules = module_names(name)
        paths = [join_root(base, m) for base in ("src", "python", "") for m in modules]
    for path in string_list(paths):
        b.path(path, "scikit-build wheel package")
    # The root CMakeLists.txt runs; the others run when it reaches them (add_subdirectory).
    b.build_file("CMakeLists.txt", "CMake script (runs to build)")
