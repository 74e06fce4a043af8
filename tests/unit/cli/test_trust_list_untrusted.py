"""``pip-verify trust list`` shows publishers recorded from attestations, which an uploader
wrote: their control characters and rich markup are shown escaped, not acted on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name

from verify._provenance.identity import PublisherIdentity, PublisherKind
from verify.trust_store import TrustStore


def test_trust_list_escapes_what_attestations_recorded(tmp_path: Path) -> None:
    path = tmp_path / "trust.toml"
    store = TrustStore.load(path)
    identity = PublisherIdentity(
        kind=PublisherKind.GITHUB,
        issuer="https://token.actions.example",
        repository="acme/demo\x1b[2J[bold red]",
        workflow="release.yml",
    )
    store.record_first_seen("demo", identity, "1.0")
    store.save_recorded([canonicalize_name("demo")])
    result = subprocess.run(
        [sys.executable, "-m", "verify", "trust", "--trust-store", str(path), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "acme/demo\\x1b[2J[bold red]" in result.stdout
