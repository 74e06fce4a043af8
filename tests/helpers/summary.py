"""What the signed-summary tests share: signing keys, a check that writes a summary, a run
of ``verify-summary``, and a summary rewritten behind its signature's back."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers.assertions import assert_no_traceback
from tests.helpers.index import PackageIndex
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

__all__ = ["check_with_summary", "keypair", "policy", "rewrite", "statement_of", "verify"]


def keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """A new ECDSA P-256 key pair written to ``name.pem`` and ``name.pub.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def policy(tmp_path: Path) -> Path:
    """The policy the checks run under: the default one without provenance required."""
    path = tmp_path / "policy.toml"
    if not path.exists():
        path.write_text(without_provenance_requirement().read_text(), encoding="utf-8")
    return path


def check_with_summary(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, tmp_path: Path, *argv: str
) -> tuple[int, str]:
    """``pip-verify check *argv`` against ``index`` under :func:`policy`, its JSON report in
    ``tmp_path/report.json``; the exit code and standard error."""
    code = main(
        [
            "check",
            *argv,
            "--index-url",
            index.url,
            "--policy",
            str(policy(tmp_path)),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-record",
            "--format",
            "json",
            "-o",
            str(tmp_path / "report.json"),
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, captured.err


def verify(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    """``pip-verify verify-summary *argv``: the exit code and everything it wrote."""
    code = main(["verify-summary", *map(str, argv)])
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, captured.out + captured.err


def _envelope(document: dict[str, Any]) -> dict[str, Any]:
    """The DSSE envelope of a summary: the document itself, or a Sigstore bundle's."""
    envelope: dict[str, Any] = document.get("dsseEnvelope", document)
    return envelope


def statement_of(summary: Path) -> dict[str, Any]:
    """The in-toto statement inside ``summary`` (a DSSE envelope or a Sigstore bundle)."""
    envelope = _envelope(json.loads(summary.read_text()))
    statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


def rewrite(summary: Path, target: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    """``summary`` with its statement changed by ``change`` and the old signature kept."""
    document = json.loads(summary.read_text())
    statement = statement_of(summary)
    change(statement)
    _envelope(document)["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    target.write_text(json.dumps(document))
    return target
