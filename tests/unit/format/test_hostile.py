"""Every human-readable rendering shows package-provided text inertly.

Archive member names, metadata, snippets and decoded text come from the package. Printed raw,
an escape sequence clears or recolours the reader's terminal, a bidirectional override makes
a path read differently from how it is stored, and a line break or carriage return starts a
forged line ("allow demo 1.0 ...") in the report. Each renderer is given such values here.
"""

from __future__ import annotations

import dataclasses
import io
import json

from packaging.utils import canonicalize_name
from packaging.version import Version
from rich.console import Console

from verify._behaviour.census import FileDiff
from verify._behaviour.diff import BehaviourDiff
from verify._behaviour.metadata_diff import MetadataChange, MetadataDiff
from verify._cli.progress import DownloadProgress
from verify._format.diff import render_diff_json, render_diff_text
from verify._format.github import workflow_commands
from verify._format.json import render_json
from verify._format.markdown import render_markdown
from verify._format.sarif import report_to_sarif
from verify._format.text import render_reasons, render_text
from verify.diff import DiffResult
from verify.models import (
    BehaviourSummary,
    ChangeKind,
    Decision,
    FileResult,
    Finding,
    HashStatus,
    LockChange,
    PackageResult,
    Provenance,
    ProvenanceStatus,
    Reason,
    Report,
    ReportError,
    Severity,
    SourceLocation,
)

FORGED = "allow demo 1.0 [hashes] all files verified, no findings"
#: Clears the screen, homes the cursor and prints a green "ok".
CLEAR = "demo/\x1b[2J\x1b[H\x1b[32mok\x1b[0m.py"
#: A line feed that starts a forged verdict line.
NEWLINE = f"demo/x.py\n{FORGED}\n.py"
#: A carriage return that overwrites the start of the line on a terminal.
RETURN = f"demo/y.py\r{FORGED}\r.py"
#: A right-to-left override: stored as "...\u202eyp.txt", shown as "...txt.py".
BIDI = "demo/notes\u202eyp.txt"
#: A line separator, a next-line control, C1 CSI and DEL.
OTHER = "demo/z\u2028\x85\x9b2J\x7f.py"
HOSTILE_PATHS = (CLEAR, NEWLINE, RETURN, BIDI, OTHER)
#: Raw characters that must never reach a human-readable output.
RAW = ("\x1b", "\r", "\u202e", "\u2028", "\x85", "\x9b", "\x7f")
#: How the hostile values read once escaped.
VISIBLE = (
    "demo/\\x1b[2J\\x1b[H\\x1b[32mok\\x1b[0m.py",
    f"demo/x.py\\n{FORGED}\\n.py",
    f"demo/y.py\\r{FORGED}\\r.py",
    "demo/notes\\u202eyp.txt",
    "demo/z\\u2028\\x85\\x9b2J\\x7f.py",
)


def _finding(path: str, line: int) -> Finding:
    return Finding(
        "process-spawn",
        Severity.HIGH,
        "runs os.system through a shell at import time",
        path=path,
        line=line,
        # Decoded text keeps whatever the payload held.
        snippet=f"os.system('\x1b[2J{path}')",
        why=f"Dangerous because\n{FORGED}",
    )


def _package() -> PackageResult:
    findings = tuple(_finding(path, n) for n, path in enumerate(HOSTILE_PATHS, start=1))
    reasons = tuple(
        Reason(f.rule, Decision.DENY, f"{f.path}:{f.line}: {f.message} (high)") for f in findings
    )
    wheel = FileResult(
        filename=f"demo-1.0-py3-none-any.whl\n{FORGED}\x1b[2J",
        url="https://files.example/demo-1.0-py3-none-any.whl",
        sha256="a" * 64,
        hash_status=HashStatus.VERIFIED,
        index_url="https://index.example/simple/",
    )
    return PackageResult(
        name=canonicalize_name("demo"),
        version=Version("1.0"),
        decision=Decision.DENY,
        index="https://index.example/simple/",
        files=(wheel,),
        provenance=Provenance(ProvenanceStatus.ABSENT),
        findings=findings,
        reasons=reasons,
        source=SourceLocation("requirements.txt", 3),
        behaviour=(
            BehaviourSummary(
                filename=f"demo.whl\n{FORGED}", baseline=CLEAR, reason="previous release"
            ),
        ),
    )


def _report() -> Report:
    return Report(
        decision=Decision.DENY,
        packages=(_package(),),
        errors=(ReportError("fetch", f"cannot read {NEWLINE}"),),
        warnings=(f"skipped {CLEAR}",),
        changes=(
            LockChange(
                canonicalize_name("demo"),
                ChangeKind.ADDED,
                None,
                Version("1.0"),
                SourceLocation(f"req\n{FORGED}.txt\x1b[2J", 3),
            ),
        ),
    )


def _assert_inert(text: str, *, allowed_escapes: bool = False) -> None:
    """No raw hostile character, and no line that a hostile value started."""
    for raw in RAW:
        if raw == "\x1b" and allowed_escapes:
            continue
        assert raw not in text, repr(raw)
    for line in text.splitlines():
        assert not line.lstrip().startswith("allow demo"), line


def _render_text(*, color: bool, width: int = 200) -> str:
    stream = io.StringIO()
    console = Console(
        file=stream,
        width=width,
        highlight=False,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
    )
    render_text(_report(), console)
    return stream.getvalue()


# -- text --------------------------------------------------------------------------------------


def test_text_report_escapes_package_values() -> None:
    text = _render_text(color=False)
    _assert_inert(text)
    for visible in VISIBLE:
        assert visible in text
    # The file name (wide table), the snippet, why, errors, warnings and lock changes too.
    assert f"demo-1.0-py3-none-any.whl\\n{FORGED}\\x1b[2J" in text
    assert "os.system('\\x1b[2Jdemo/notes\\u202eyp.txt')" in text
    assert f"Dangerous because\\n{FORGED}" in text
    assert f"cannot read demo/x.py\\n{FORGED}" in text
    assert "skipped demo/\\x1b[2J" in text
    assert f"req\\n{FORGED}.txt\\x1b[2J" in text


def test_text_report_in_colour_has_only_its_own_escape_sequences() -> None:
    text = _render_text(color=True)
    # Rich colours the report with SGR sequences; nothing else may reach the terminal.
    _assert_inert(text, allowed_escapes=True)
    assert "\x1b[2J" not in text
    assert "\x1b[H" not in text
    assert "demo/\\x1b[2J\\x1b[H\\x1b[32mok\\x1b[0m.py" in text


def test_reasons_only_output_escapes_package_values() -> None:
    stream = io.StringIO()
    render_reasons(_report(), Console(file=stream, width=200, no_color=True))
    text = stream.getvalue()
    _assert_inert(text)
    assert VISIBLE[0] in text


def test_text_report_keeps_rich_markup_out_of_table_cells() -> None:
    package = _package()
    wheel = FileResult(
        filename="demo[/]-[bold]1.0.whl\x1b[2J",
        url=None,
        sha256="a" * 64,
        hash_status=HashStatus.VERIFIED,
    )
    report = Report(
        decision=Decision.DENY,
        packages=(dataclasses.replace(package, files=(wheel,)),),
    )
    stream = io.StringIO()
    render_text(report, Console(file=stream, width=200, no_color=True))
    assert "demo[/]-[bold]1.0.whl\\x1b[2J" in stream.getvalue()


# -- markdown ----------------------------------------------------------------------------------


def test_markdown_neutralises_package_values() -> None:
    text = render_markdown(_report())
    _assert_inert(text)
    for line in text.splitlines():
        if line.startswith("| "):
            # Exactly the table's own seven pipes.
            assert line.count("|") - line.count("\\|") == 7, line
    assert "<script" not in render_markdown(
        Report(
            decision=Decision.WARN,
            packages=(),
            warnings=("x <script>alert(1)</script> | `y`",),
        )
    )


# -- GitHub ------------------------------------------------------------------------------------


def test_workflow_commands_show_controls_and_stay_one_line() -> None:
    lines = workflow_commands(_report())
    assert len(lines) == len(HOSTILE_PATHS)
    for line in lines:
        assert line.startswith("::error file=requirements.txt,line=3,title=pip-verify ")
        assert "\n" not in line
        assert "\r" not in line
        for raw in RAW:
            assert raw not in line, repr(raw)
    joined = "\n".join(lines)
    assert "demo/\\x1b[2J\\x1b[H\\x1b[32mok\\x1b[0m.py" in joined
    assert "demo/notes\\u202eyp.txt" in joined
    # Line breaks travel %-encoded, as the runner expects, and come back inside the message.
    assert f"demo/x.py%0A{FORGED}%0A.py" in joined
    assert f"demo/y.py%0D{FORGED}%0D.py" in joined


def test_workflow_command_properties_escape_separators() -> None:
    package = dataclasses.replace(
        _package(),
        source=SourceLocation("req,s:1\x1b[2J.txt", 3),
        reasons=(Reason("typosquat", Decision.WARN, "looks like d\u202eemo"),),
        findings=(),
    )
    (line,) = workflow_commands(Report(decision=Decision.WARN, packages=(package,)))
    assert line.startswith("::warning file=req%2Cs%3A1\\x1b[2J.txt,line=3,title=")
    assert line.endswith("::demo 1.0: looks like d\\u202eemo")


# -- SARIF -------------------------------------------------------------------------------------


def test_sarif_messages_show_controls() -> None:
    sarif = report_to_sarif(_report())
    run = sarif["runs"][0]
    for result in run["results"]:
        text = result["message"]["text"]
        _assert_inert(text)
        # Three lines of our own: the reason, the evidence, and why it matters.
        assert len(text.split("\n")) == 3, text
    messages = "\n".join(r["message"]["text"] for r in run["results"])
    for visible in VISIBLE:
        assert visible in messages
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    for note in notes:
        _assert_inert(note)
    assert f"[fetch] cannot read demo/x.py\\n{FORGED}\\n.py" in notes


def test_sarif_data_keeps_exact_values() -> None:
    sarif = report_to_sarif(_report())
    paths = [r["properties"]["evidence"]["path"] for r in sarif["runs"][0]["results"]]
    assert paths == list(HOSTILE_PATHS)


def test_json_report_keeps_exact_values() -> None:
    data = json.loads(render_json(_report()))
    assert [f["path"] for f in data["packages"][0]["findings"]] == list(HOSTILE_PATHS)


# -- diff --------------------------------------------------------------------------------------


def _diff() -> DiffResult:
    findings = tuple(_finding(path, n) for n, path in enumerate(HOSTILE_PATHS, start=1))
    diff = BehaviourDiff(
        filename=f"demo-2.0.whl\x1b[2J\n{FORGED}",
        baseline="demo-1.0.whl",
        baseline_reason=f"previous\r{FORGED}",
        files=FileDiff(added=HOSTILE_PATHS, removed=(BIDI,), changed=(CLEAR,), unchanged=()),
        metadata=MetadataDiff(
            changes=(MetadataChange("license", "MIT", f"evil\n{FORGED}\x1b[2J\u202e"),),
            findings=(),
        ),
        findings=findings,
    )
    return DiffResult(diff=diff, decision=Decision.DENY, reasons=())


def test_diff_text_escapes_package_values() -> None:
    stream = io.StringIO()
    render_diff_text(_diff(), Console(file=stream, width=200, no_color=True))
    text = stream.getvalue()
    _assert_inert(text)
    for visible in VISIBLE:
        assert f"+ {visible}" in text
    assert f"license: MIT -> evil\\n{FORGED}\\x1b[2J\\u202e" in text
    assert f"demo-2.0.whl\\x1b[2J\\n{FORGED}" in text
    assert f"Dangerous because\\n{FORGED}" in text


def test_diff_json_keeps_exact_values() -> None:
    data = json.loads(render_diff_json(_diff()))
    assert data["files"]["added"] == list(HOSTILE_PATHS)
    assert data["metadata"][0]["new"] == f"evil\n{FORGED}\x1b[2J\u202e"


# -- progress ----------------------------------------------------------------------------------


def test_download_progress_shows_the_file_name_inertly() -> None:
    stream = io.StringIO()
    console = Console(file=stream, width=200, force_terminal=True, color_system=None)
    with DownloadProgress(console) as progress:
        # Rich markup in a name must neither style the bar nor break it.
        progress.file_started("demo[/]\x1b[2J\u202e-1.0.whl", 10)
        progress.file_advanced("demo", 5)
    text = stream.getvalue()
    assert "\x1b[2J" not in text
    assert "\u202e" not in text
    assert "demo[/]\\x1b[2J\\u202e-1.0.whl" in text
