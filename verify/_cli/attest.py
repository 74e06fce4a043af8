"""``--attest`` (a signed verification summary of a check, install or screen) and
``pip-verify verify-summary``, which checks one."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._attest.summary import PolicyRef
    from verify.models import Report

__all__ = ["Attestation", "add_attest_arguments", "attestation_from", "register"]


def add_attest_arguments(parser: argparse.ArgumentParser) -> None:
    """``--attest FILE`` and the signing options."""
    group = parser.add_argument_group("verification summary")
    group.add_argument(
        "--attest",
        type=Path,
        metavar="FILE",
        help="also write a signed verification summary (an in-toto SLSA VSA in a DSSE "
        "envelope) of what was verified to FILE; needs --signing-key",
    )
    group.add_argument(
        "--signing-key",
        type=Path,
        metavar="PEM",
        help="the ECDSA P-256 private key (unencrypted PEM) that signs the summary",
    )
    group.add_argument(
        "--signing-key-id",
        metavar="ID",
        help="the key id written beside the signature (default: sha256: and the digest of the "
        "public key's DER encoding); slsa-verifier's --public-key-id",
    )
    group.add_argument(
        "--attest-resource",
        metavar="URI",
        help="the resourceUri of the summary (default: the lock or requirements file checked, "
        "else pip-verify:check); slsa-verifier's --resource-uri",
    )


@dataclass(frozen=True, slots=True)
class Attestation:
    """Where and how to write the summary, read and checked before the check runs."""

    path: Path
    key_pem: bytes
    keyid: str
    resource: str
    policy: PolicyRef

    def write(self, report: Report) -> None:
        """Sign a summary of ``report`` and write it."""
        from verify._attest.summary import sign_envelope, verification_summary

        statement = verification_summary(
            report,
            policy=self.policy,
            resource_uri=self.resource,
            now=datetime.now(timezone.utc),
        )
        envelope = sign_envelope(statement, self.key_pem, keyid=self.keyid)
        try:
            self.path.write_text(json.dumps(envelope, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the summary to {self.path}: {exc.strerror}") from exc


def attestation_from(args: argparse.Namespace, artifact: str | None) -> Attestation | None:
    """The summary ``args`` ask for, with its key read and checked now; ``None`` without
    ``--attest``."""
    from verify._attest.summary import key_id, public_pem_of

    if args.attest is None:
        if args.signing_key is not None:
            raise UsageError("--signing-key signs a summary: pass --attest FILE as well")
        return None
    if args.signing_key is None:
        raise UsageError(
            "--attest needs --signing-key PEM (an ECDSA P-256 private key)",
            hint="keyless signing with Sigstore is not available yet",
        )
    key_pem = _read(args.signing_key, "the signing key")
    keyid = args.signing_key_id or key_id(public_pem_of(key_pem))
    resource = args.attest_resource or (artifact or "pip-verify:check")
    return Attestation(args.attest, key_pem, keyid, resource, policy_ref(args.policy))


def policy_ref(path: Path | None) -> PolicyRef:
    """The reference to the policy a run uses: its path and bytes, or the embedded default."""
    from verify._attest.summary import PolicyRef
    from verify.policy.load import default_policy_text

    if path is None:
        return PolicyRef.of("pip-verify:policy/default", default_policy_text().encode())
    return PolicyRef.of(str(path), _read(path, "the policy"))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc


def register(commands: Any) -> None:
    """Add the ``verify-summary`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify-summary",
        help="check a verification summary written by --attest",
        description="Check a signed verification summary: its signature with the public key, "
        "that each FILE given is one of its subjects with the same sha256, and, with "
        "--policy, that it was made under that policy. Exit 0 when it verifies and says "
        "PASSED, 1 when it verifies and says FAILED, 2 when it does not verify.",
    )
    parser.add_argument("summary", type=Path, metavar="SUMMARY", help="the summary (DSSE JSON)")
    parser.add_argument(
        "files", nargs="*", type=Path, metavar="FILE", help="files the summary must cover"
    )
    parser.add_argument(
        "--key", type=Path, required=True, metavar="PEM", help="the signer's public key (PEM)"
    )
    parser.add_argument("--key-id", metavar="ID", help="accept only a signature with this key id")
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="the policy the summary must be made under"
    )
    parser.set_defaults(handler=run_verify, quiet=False)


def run_verify(args: argparse.Namespace) -> int:
    """Check the summary and say what it covers."""
    from verify._attest.summary import SummaryProblem, verify_summary

    try:
        envelope = json.loads(_read(args.summary, "the summary"))
    except ValueError as exc:
        raise SummaryProblem(f"{args.summary} is not JSON: {exc}") from None
    files = [(str(path), _read(path, "the file")) for path in args.files]
    check = verify_summary(
        envelope,
        _read(args.key, "the public key"),
        keyid=args.key_id,
        files=files,
        policy=policy_ref(args.policy) if args.policy else None,
    )
    verdict = "PASSED" if check.passed else "FAILED"
    predicate = check.statement["predicate"]
    print(
        f"verified: {verdict}, {check.subjects} file(s), made {predicate.get('timeVerified')} "
        f"under {predicate.get('policy', {}).get('uri')}"
        + (f"; {len(files)} given file(s) covered" if files else ""),
        file=sys.stdout,
    )
    return 0 if check.passed else 1
