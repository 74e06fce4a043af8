"""How the behaviour diff rates a finding by what the file is: run at install time, installed,
or shipped but never run (an sdist's tests and docs)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.dists import DistSpec, build_sdist
from verify._behaviour.diff import DistFile, diff_distributions
from verify.models import Finding, Severity

_SETUP = (
    "from setuptools import setup, find_packages\n"
    "setup(packages=find_packages(exclude=['tests*']))\n"
)
_SPAWN = "import subprocess\nsubprocess.Popen('payload.exe', shell=True)\n"
_RAW_IP = "SERVER = 'http://203.0.113.9:8080/'\n"


def _first_upload(tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    built = build_sdist(DistSpec("demo", "1.0", files=files), tmp_path)
    return list(diff_distributions(DistFile(built, built.name), None).findings)


def _at(findings: list[Finding], path: str, rule: str) -> Severity:
    [severity] = {f.severity for f in findings if f.path == path and f.rule == rule}
    return severity


def test_tests_and_docs_an_sdist_does_not_install_are_rated_lower(tmp_path: Path) -> None:
    findings = _first_upload(
        tmp_path,
        {
            "setup.py": _SETUP,
            "demo/__init__.py": _SPAWN + _RAW_IP,
            "tests/test_demo.py": _SPAWN + _RAW_IP,
            "docs/conf.py": _SPAWN,
        },
    )
    # Installed and run at import: high, and the raw address critical.
    assert _at(findings, "demo/__init__.py", "process-spawn") is Severity.HIGH
    assert _at(findings, "demo/__init__.py", "suspicious-endpoint") is Severity.CRITICAL
    # Never installed, never run by installing: worth a look, not a verdict.
    assert _at(findings, "tests/test_demo.py", "process-spawn") is Severity.LOW
    assert _at(findings, "tests/test_demo.py", "suspicious-endpoint") is Severity.MEDIUM
    assert _at(findings, "docs/conf.py", "process-spawn") is Severity.LOW


def test_a_test_module_setup_py_imports_runs_at_install_time(tmp_path: Path) -> None:
    setup = "import tests.helper\n" + _SETUP
    findings = _first_upload(
        tmp_path,
        {"setup.py": setup, "tests/__init__.py": "", "tests/helper.py": _SPAWN},
    )
    assert _at(findings, "tests/helper.py", "process-spawn") is Severity.HIGH
    [finding] = [f for f in findings if f.path == "tests/helper.py"]
    assert "at install time" in finding.message


def test_obfuscated_code_in_a_file_nothing_runs_is_never_nothing(tmp_path: Path) -> None:
    payload = "import base64\nexec(base64.b64decode(BLOB))\n"
    findings = _first_upload(tmp_path, {"setup.py": _SETUP, "tests/test_x.py": payload})
    assert _at(findings, "tests/test_x.py", "decode-exec") is Severity.HIGH


def test_setup_py_beside_another_backend_is_still_rated_as_install_time_code(
    tmp_path: Path,
) -> None:
    pyproject = (
        "[build-system]\nrequires = ['poetry-core']\n"
        "build-backend = 'poetry.core.masonry.api'\n"
        "[tool.poetry]\nname = 'demo'\nversion = '1.0'\n"
    )
    findings = _first_upload(
        tmp_path,
        {"pyproject.toml": pyproject, "setup.py": _SPAWN, "demo/__init__.py": ""},
    )
    assert _at(findings, "setup.py", "process-spawn") is Severity.HIGH


def test_code_computed_and_executed_while_pip_installs_is_high(tmp_path: Path) -> None:
    setup = _SETUP + "code = ''.join(reversed(PARTS))\nexec(code)\n"
    module = "code = ''.join(reversed(PARTS))\nexec(code)\n"
    findings = _first_upload(tmp_path, {"setup.py": setup, "demo/__init__.py": module})
    assert _at(findings, "setup.py", "dynamic-exec") is Severity.HIGH
    # On import, computed code is how some libraries build classes: worth a look only.
    assert _at(findings, "demo/__init__.py", "dynamic-exec") is Severity.MEDIUM


def test_a_client_created_on_import_is_not_a_download(tmp_path: Path) -> None:
    setup_only = (
        "import socket, requests\n"
        "SESSION = requests.Session()\n"
        "def _has_ipv6():\n"
        "    return socket.socket(socket.AF_INET6)\n"
        "HAS_IPV6 = _has_ipv6()\n"
    )
    fetching = "import requests\nCONFIG = requests.get('https://a.example/config.json')\n"
    findings = _first_upload(
        tmp_path,
        {"setup.py": _SETUP, "demo/__init__.py": setup_only, "demo/config.py": fetching},
    )
    severities = {
        (f.path, f.message.split("(")[1].split(")")[0]): f.severity
        for f in findings
        if f.rule == "network-access"
    }
    assert severities == {
        ("demo/__init__.py", "requests.Session"): Severity.MEDIUM,
        ("demo/__init__.py", "socket.socket"): Severity.MEDIUM,
        ("demo/config.py", "requests.get"): Severity.HIGH,
    }
