"""The command line starts fast: building its parser imports no library and no dependency."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from verify import __version__
from verify._cli import defaults, main

# Each command, and each action of the command groups.
COMMANDS = [
    [],
    ["check"],
    ["diff"],
    ["fix"],
    ["gate"],
    ["install"],
    ["mcp"],
    ["policy"],
    ["policy", "check"],
    ["policy", "show"],
    ["proxy"],
    ["quarantine"],
    ["quarantine", "list"],
    ["quarantine", "show"],
    ["quarantine", "release"],
    ["quarantine", "drop"],
    ["screen"],
    ["shim"],
    ["shim", "install"],
    ["shim", "uninstall"],
    ["shim", "print-config"],
    ["trust"],
    ["trust", "list"],
    ["trust", "pin"],
    ["trust", "forget"],
    ["trust", "accept"],
    ["verify-summary"],
    ["worker"],
]

# What may be imported to parse the arguments: the standard library, and these.
# verify._version holds the version string the root module used to hold itself;
# verify.settings, the commands' settings and their defaults, imports only the standard
# library (anything more it pulled in would be listed here as not allowed); so do the package
# roots of the two servers, verify._upload and verify._proxy, which hold their defaults.
_ALLOWED = {
    "verify",
    "verify._version",
    "verify.errors",
    "verify.settings",
    "verify._upload",
    "verify._proxy",
}

_IMPORTED_BY = textwrap.dedent(
    """
    import sys
    before = set(sys.modules)  # what the interpreter and site-packages' .pth files load
    import contextlib, io, json
    from verify._cli import main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(sys.argv[1:])
    print(json.dumps(sorted(set(sys.modules) - before)))
    """
)


def _modules_imported_by(*argv: str) -> list[str]:
    """Modules a fresh interpreter loads to run pip-verify with ``argv``."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_BY, *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def _not_allowed(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name.split(".")[0] not in sys.stdlib_module_names
        and name not in _ALLOWED
        and not name.startswith("verify._cli.")
        and name != "verify._cli"
    ]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["screen", "--help"]])
def test_version_and_help_import_no_library(argv: list[str]) -> None:
    modules = _modules_imported_by(*argv)
    assert "verify._cli.screen" in modules  # the parser was built ...
    assert _not_allowed(modules) == []  # ... from the standard library alone


def test_the_check_finds_a_library_import() -> None:
    # The test above would catch an import of the library or a dependency: running a
    # command does import them.
    modules = _modules_imported_by("policy", "show", "--format", "json")
    assert {"rich", "verify.policy"} <= set(_not_allowed(modules))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"pip-verify {__version__}\n"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "pip-verify")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(['pip-verify', *command])} ")
    assert "-h, --help" in out


def test_help_shows_the_library_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # no line breaks inside a value
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert f"(default: {defaults.DEFAULT_TIMEOUT:g})" in out
    assert f"(default: {defaults.DEFAULT_RETRIES})" in out
    with pytest.raises(SystemExit):
        main(["trust", "--help"])
    assert f"(default: ./{defaults.DEFAULT_TRUST_STORE})" in capsys.readouterr().out


def test_defaults_are_the_library_defaults() -> None:
    # What the parser shows must be what the library falls back on when it is not told.
    import inspect

    from verify._fetch.fetch import Fetcher
    from verify._index.session import HttpSession
    from verify.settings import NetworkSettings
    from verify.trust_store import DEFAULT_TRUST_STORE

    session = inspect.signature(HttpSession).parameters
    assert session["timeout"].default == defaults.DEFAULT_TIMEOUT
    assert session["retries"].default == defaults.DEFAULT_RETRIES
    assert inspect.signature(Fetcher).parameters["jobs"].default == defaults.DEFAULT_JOBS
    network = NetworkSettings()
    assert (network.timeout, network.retries, network.jobs) == (
        defaults.DEFAULT_TIMEOUT,
        defaults.DEFAULT_RETRIES,
        defaults.DEFAULT_JOBS,
    )
    assert defaults.DEFAULT_TRUST_STORE == DEFAULT_TRUST_STORE


def test_the_check_library_loads_no_metadata_reader_until_one_is_needed() -> None:
    # A warm check takes every diff from the cache and reads no core metadata: the metadata
    # reader (and packaging.metadata under it) loads only with the differ, or for a misnamed
    # sdist named by its metadata.
    code = (
        "import sys, json, verify.check, verify._cli.check; "
        "print(json.dumps([m for m in ('verify._dist.metadata', 'packaging.metadata') "
        "if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
