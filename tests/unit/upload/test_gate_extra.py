"""The upload gate's server (Waitress, Werkzeug) is the ``gate`` extra.

Nothing but the gate imports it, and without it the gate says in one line what to install.
The missing extra is simulated for real: a directory first on ``sys.path`` whose ``waitress``
or ``werkzeug`` package raises ImportError when imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verify._upload import GATE_EXTRA_MISSING, require_gate_extra
from verify.errors import UsageError

GATE_PACKAGES = ("waitress", "werkzeug")
EXPECTED_LINE = f"pip-verify: error: {GATE_EXTRA_MISSING}"

_LOADED_AFTER = textwrap.dedent(
    """
    import contextlib, io, json, sys
    import verify
    from verify._cli import build_parser, main
    build_parser()
    for argv in (["--version"], ["--help"], ["check", "--help"], ["gate", "--help"]):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main(argv)
    loaded = {"cli": sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:])}
    if "--import-app" in sys.argv:  # the control: the gate's application does load them
        import verify._upload.app, verify._upload.server
    loaded["after_app"] = sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1:])
    print(json.dumps(loaded))
    """
)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONPATH")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="200", **extra)
    return env


def _loaded(*flags: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADED_AFTER, *GATE_PACKAGES, *flags],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_clean_env(),
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_the_command_line_loads_no_gate_server() -> None:
    loaded = _loaded("--import-app")
    assert loaded["cli"] == []
    # The same check sees them once the gate's application is imported.
    assert {"waitress", "werkzeug"} <= set(loaded["after_app"])


def test_version_imports_no_gate_server() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "verify", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_clean_env(),
    )
    assert done.stdout.startswith("pip-verify ")
    # importtime's lines end with the module name: "import time: self | cumulative | name".
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "verify._cli" in imported
    assert {name for name in imported if name.split(".")[0] in GATE_PACKAGES} == set()


def _shadow(tmp_path: Path, package: str) -> Path:
    """A directory whose ``package`` fails to import, as an absent one does."""
    shadow = tmp_path / "shadow"
    (shadow / package).mkdir(parents=True)
    (shadow / package / "__init__.py").write_text(
        f"raise ImportError('simulated: {package} is not installed')\n", encoding="utf-8"
    )
    return shadow


def _run_without(tmp_path: Path, package: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_clean_env(PYTHONPATH=str(_shadow(tmp_path, package))),
    )


@pytest.mark.parametrize("package", GATE_PACKAGES)
def test_gate_without_the_extra_is_a_one_line_usage_error(tmp_path: Path, package: str) -> None:
    done = _run_without(
        tmp_path,
        package,
        "-m",
        "verify",
        "gate",
        "--upstream",
        "http://index.example/",
        "--quarantine",
        str(tmp_path / "quarantine"),
        "--listen",
        "127.0.0.1:0",
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [EXPECTED_LINE]
    assert not (tmp_path / "quarantine").exists()


def test_gate_help_needs_no_extra(tmp_path: Path) -> None:
    done = _run_without(tmp_path, "waitress", "-m", "verify", "gate", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: pip-verify gate ")


@pytest.mark.parametrize(
    ("package", "module"),
    [("werkzeug", "verify._upload.app"), ("waitress", "verify._upload.server")],
)
def test_gate_modules_without_the_extra_say_what_to_install(
    tmp_path: Path, package: str, module: str
) -> None:
    program = textwrap.dedent(
        f"""
        import importlib
        from verify.errors import UsageError
        try:
            importlib.import_module({module!r})
        except UsageError as error:
            print(error.exit_code, error.one_line())
        """
    )
    done = _run_without(tmp_path, package, "-c", program)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"2 {GATE_EXTRA_MISSING}"]


@pytest.mark.parametrize("package", GATE_PACKAGES)
def test_require_gate_extra(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    require_gate_extra()  # installed here: nothing to say
    monkeypatch.setitem(sys.modules, package, None)  # the import system's "not importable"
    with pytest.raises(UsageError) as raised:
        require_gate_extra()
    assert raised.value.exit_code == 2
    assert raised.value.one_line() == GATE_EXTRA_MISSING
