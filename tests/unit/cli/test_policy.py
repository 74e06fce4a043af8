"""``pip-verify policy check`` and ``pip-verify policy show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify._cli import main

REPO = Path(__file__).resolve().parents[3]


def test_policy_check_accepts_every_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (REPO / "policies").glob("*.toml"))
    assert main(["policy", "check", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid") == len(files)
    assert "strict.toml: valid (extends <embedded default>)" in out


def test_policy_check_rejects_a_bad_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[rules.release-age]\nmin-age = "soon"\n')
    assert main(["policy", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err
    assert "not a duration" in err


def test_policy_show_json_for_a_package(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "policy",
            "show",
            "--policy",
            str(REPO / "policies" / "developer.toml"),
            "--package",
            "Acme_Tools",
            "--format",
            "json",
        ]
    )
    assert code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["package"] == "acme-tools"
    assert shown["rules"]["release-age"] == {
        "decision": "allow",
        "on-error": "allow",
        "min-age": "1d",
    }
    assert shown["rules"]["hash-mismatch"]["decision"] == "deny"
    assert shown["packages"] == [
        {"match": "acme-*", "rules": {"release-age": {"decision": "allow"}}},
        {"match": "setuptools", "rules": {"process-spawn": {"decision": "allow"}}},
    ]


def test_policy_show_text_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    assert "<embedded default>" in out
    assert "release-age" in out
    assert "min-age = 3d" in out
