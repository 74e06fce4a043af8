"""``pip-verify shim`` in a scratch virtual environment (with its own pip, from ensurepip):
``pip install`` of a denied package installs nothing and says why, of a clean one installs it,
other pip commands are pip's own, and uninstalling leaves the environment's files as they were.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.policies import without_provenance_requirement

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="the shim wraps POSIX environments only"),
]


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    return clean_and_hooked(dist_factory, package_index)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("shim") / "venv"
    venv.create(target, with_pip=True)
    return target


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    if "PIP_VERIFY_VULNERABILITY_DB" in os.environ:
        env["PIP_VERIFY_VULNERABILITY_DB"] = os.environ["PIP_VERIFY_VULNERABILITY_DB"]
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(*command: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        + oct(path.stat().st_mode)
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _shim(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "verify", "shim", *args, env=env)


def test_install_and_uninstall_leave_the_environment_as_it_was(
    scratch: Path, tmp_path: Path
) -> None:
    env = _environment(tmp_path)
    before = _tree(scratch)
    installed = _shim(
        "install", "--venv", scratch, "--proxy", "http://127.0.0.1:9/simple/", env=env
    )
    assert installed.returncode == 0, installed.stderr
    assert "# pip-verify shim" in (scratch / "bin" / "pip").read_text()
    assert "index-url = http://127.0.0.1:9/simple/" in (scratch / "pip.conf").read_text()
    again = _shim("install", "--venv", scratch, env=env)
    assert again.returncode == 2
    assert "already has the pip-verify shim" in again.stderr
    removed = _shim("uninstall", "--venv", scratch, env=env)
    assert removed.returncode == 0, removed.stderr
    assert _tree(scratch) == before
    assert _shim("uninstall", "--venv", scratch, env=env).returncode == 2


def test_pip_install_goes_through_pip_verify_and_the_rest_is_pip(
    scratch: Path, index: PackageIndex, tmp_path: Path
) -> None:
    env = _environment(tmp_path)
    bin_before = _tree(scratch / "bin")
    plain_version = _run(scratch / "bin" / "pip", "--version", env=env)
    plain_list = _run(scratch / "bin" / "pip", "list", env=env)
    assert _shim("install", "--venv", scratch, env=env).returncode == 0
    try:
        options = (
            "--index-url",
            index.url,
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-record",
        )
        denied = _run(scratch / "bin" / "pip", "install", "hookpkg", *options, env=env)
        assert denied.returncode == 1, denied.stdout + denied.stderr
        assert "pth-exec" in denied.stdout + denied.stderr
        assert "nothing was installed" in denied.stdout + denied.stderr
        assert "hookpkg" not in _run(scratch / "bin" / "pip", "list", env=env).stdout

        clean = _run(scratch / "bin" / "pip3", "install", "cleanpkg", *options, env=env)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        imported = _run(scratch / "bin" / "python", "-c", "import cleanpkg", env=env)
        assert imported.returncode == 0, imported.stderr

        version = _run(scratch / "bin" / "pip", "--version", env=env)
        assert version.returncode == 0
        assert version.stdout == plain_version.stdout
        listed = _run(scratch / "bin" / "pip", "list", env=env)
        assert listed.returncode == 0
        assert set(listed.stdout.split()) == set(plain_list.stdout.split()) | {"cleanpkg", "1.0"}
    finally:
        assert _shim("uninstall", "--venv", scratch, env=env).returncode == 0
    assert _tree(scratch / "bin") == bin_before


def test_print_config_names_the_mcp_server_and_the_environment(
    scratch: Path, tmp_path: Path
) -> None:
    import json

    printed = _shim(
        "print-config",
        "--venv",
        scratch,
        "--proxy",
        "http://127.0.0.1:8088/simple/",
        env=_environment(tmp_path),
    )
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    server = document["mcpServers"]["pip-verify"]
    assert server["args"][:4] == ["-m", "verify", "mcp", "--allow-install"]
    assert str(scratch / "bin" / "python") in server["args"]
    assert document["environment"]["PIP_INDEX_URL"] == "http://127.0.0.1:8088/simple/"
    assert document["environment"]["PATH"].startswith(str(scratch / "bin"))
