"""Real malicious uploads stay denied: a regression test of the behaviour analysis.

``tests/data/malicious-regression.json`` names files of the shared malware corpus
(``../shared/corpus/malicious-train.tar``, beside the repository and never in it) by sha256,
each with the rule of a high or critical finding that shows why it is denied. Only the
corpus's tune half is used (first sha256 byte even); the holdout half is for measuring.

Each file is judged as ``pip-verify screen FILE --offline`` judges it, by the default policy.
The files are only read as bytes, through pip-verify's archive reader: nothing here installs,
imports, builds or runs them.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from verify._rules.severity import severity_at_least
from verify.models import Decision, Severity
from verify.policy import Policy, load_policy
from verify.screen import ScreenSettings, run_screen
from verify.settings import NetworkSettings, VerificationSettings

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "malicious-train.tar"
DATA = Path(__file__).resolve().parents[2] / "data" / "malicious-regression.json"


@dataclass(frozen=True, slots=True)
class Upload:
    """One listed corpus file and the rule that must deny it."""

    sha256: str
    filename: str
    expect: str


def _uploads() -> tuple[Upload, ...]:
    document: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return tuple(
        Upload(entry["sha256"], entry["filename"], entry["expect"]) for entry in document["files"]
    )


UPLOADS = _uploads()


def test_the_list_uses_only_the_tune_half_sorted_and_unique() -> None:
    digests = [upload.sha256 for upload in UPLOADS]
    assert digests == sorted(set(digests))
    assert all(int(digest[:2], 16) % 2 == 0 for digest in digests)
    # Names only, never paths: the file name is all the analysis is told besides the bytes.
    assert all("/" not in upload.filename and "\\" not in upload.filename for upload in UPLOADS)


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The listed files, extracted from the corpus into a temporary directory, by sha256."""
    if not CORPUS.is_file():
        pytest.skip(f"the malicious corpus is not available at {CORPUS}")
    wanted = {upload.sha256 for upload in UPLOADS}
    dest = tmp_path_factory.mktemp("malicious")
    found: dict[str, Path] = {}
    with tarfile.open(CORPUS) as tar:
        manifest_file = tar.extractfile("MANIFEST.json")
        assert manifest_file is not None
        manifest: dict[str, Any] = json.load(manifest_file)
        members = {entry["sha256"]: entry["path"] for entry in manifest["files"]}
        for digest in sorted(wanted):
            assert digest in members, f"{digest} is not in the corpus's MANIFEST.json"
            member = tar.getmember(members[digest])
            # Each file in its own directory: the path inside the corpus is not trusted.
            target = dest / digest[:16]
            tar.extract(member, target, filter="data")
            path = target / member.name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, member.name
            found[digest] = path
    return found


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_policy()


@pytest.mark.parametrize(
    "upload", UPLOADS, ids=[f"{upload.sha256[:12]}-{upload.expect}" for upload in UPLOADS]
)
def test_a_real_malicious_upload_is_denied(
    upload: Upload, corpus_files: dict[str, Path], default_policy: Policy, tmp_path: Path
) -> None:
    path = corpus_files[upload.sha256]
    assert path.name == upload.filename
    settings = ScreenSettings(
        files=(path,),
        public_index_urls=(),
        verification=VerificationSettings(record=False, trust_store=tmp_path / "trust.json"),
        network=NetworkSettings(offline=True, cache_dir=tmp_path / "cache"),
    )
    report = run_screen(settings, policy=default_policy)
    (package,) = report.packages
    findings = [(f.rule, f.severity.value, f.path, f.message) for f in package.findings]
    assert report.decision is Decision.DENY, findings
    assert package.decision is Decision.DENY, findings
    assert any(
        finding.rule == upload.expect and severity_at_least(finding.severity, Severity.HIGH)
        for finding in package.findings
    ), f"no high or critical {upload.expect} finding: {findings}"
    assert any(
        reason.rule == upload.expect and reason.decision is Decision.DENY
        for reason in package.reasons
    ), f"{upload.expect} does not deny: {[(r.rule, r.decision.value) for r in package.reasons]}"
