"""Rendering reports: the JSON schema and the terminal table."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from rich.console import Console

from verify._format.json import SCHEMA, render_json
from verify._format.text import render_text
from verify.models import (
    Decision,
    ExpectedDigest,
    FileResult,
    HashStatus,
    PackageResult,
    Provenance,
    ProvenanceStatus,
    Reason,
    Report,
    ReportError,
    SourceLocation,
)

DIGEST = "a" * 64


def make_report(*, errors: tuple[ReportError, ...] = ()) -> Report:
    file = FileResult(
        filename="demo-1.0-py3-none-any.whl",
        url="https://files.example/demo-1.0-py3-none-any.whl",
        sha256=DIGEST,
        hash_status=HashStatus.VERIFIED,
        expected=(ExpectedDigest("lock", DIGEST),),
        size=10,
        upload_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        index_url="https://index.example/simple/",
    )
    package = PackageResult(
        name=canonicalize_name("Demo"),
        version=Version("1.0"),
        decision=Decision.WARN,
        index="https://index.example/simple/",
        files=(file,),
        provenance=Provenance(ProvenanceStatus.UNCHECKED, reason="not run"),
        reasons=(Reason("yanked", Decision.WARN, "demo-1.0-py3-none-any.whl is yanked"),),
        source=SourceLocation("requirements.txt", 3),
    )
    return Report(
        decision=Decision.WARN,
        packages=(package,),
        errors=errors,
        checks=("hashes",),
        indexes=("https://index.example/simple/",),
    )


def test_json_report_schema() -> None:
    document = json.loads(render_json(make_report()))
    assert document["schema"] == SCHEMA == "pip-verify/report/v1"
    assert document["decision"] == "warn"
    assert document["complete"] is True
    (package,) = document["packages"]
    assert set(package) >= {
        "name",
        "version",
        "decision",
        "index",
        "files",
        "provenance",
        "findings",
        "vulnerabilities",
        "reasons",
    }
    (file,) = package["files"]
    assert set(file) >= {"filename", "url", "sha256", "size", "upload_time"}
    assert file["upload_time"] == "2024-01-02T03:04:05Z"
    assert package["provenance"] == {"status": "unchecked", "publisher": None, "reason": "not run"}
    assert package["reasons"] == [
        {
            "rule": "yanked",
            "decision": "warn",
            "message": "demo-1.0-py3-none-any.whl is yanked",
            "unchecked": False,
        }
    ]
    assert package["source"] == {"path": "requirements.txt", "line": 3}


def test_json_report_with_errors_is_incomplete() -> None:
    document = json.loads(render_json(make_report(errors=(ReportError("network", "down"),))))
    assert document["complete"] is False
    assert document["errors"] == [{"kind": "network", "message": "down"}]


@pytest.mark.parametrize(("width", "shows_files"), [(160, True), (80, False)])
def test_text_report(width: int, shows_files: bool) -> None:
    stream = io.StringIO()
    render_text(make_report(), Console(file=stream, width=width, no_color=True))
    text = stream.getvalue()
    assert "demo" in text
    assert "[yanked]" in text
    assert "(requirements.txt:3)" in text
    assert "1 package checked: 0 allowed, 1 with warnings, 0 denied. Decision: WARN" in text
    assert ("demo-1.0-py3-none-any.whl │" in text) is shows_files
    assert "index.example" in text
