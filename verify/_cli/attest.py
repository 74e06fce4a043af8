"""``--attest`` on ``check``, ``install`` and ``screen``: a signed verification summary of
what was verified, signed with a key (``--signing-key``) or keyless with Sigstore (an
ambient OIDC credential, as a GitHub Actions job with ``id-token: write`` has)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._attest.summary import PolicyRef, SummarySigner
    from verify.models import Report

__all__ = ["Attestation", "add_attest_arguments", "attestation_from", "policy_ref", "read_file"]

#: What to do when keyless signing finds no OIDC credential.
_NO_CREDENTIAL_HINT = (
    "pass --signing-key PEM for air-gapped use, or run where an OIDC token is available "
    "(GitHub Actions with permissions: id-token: write)"
)


def add_attest_arguments(parser: argparse.ArgumentParser) -> None:
    """``--attest FILE`` and the signing options."""
    group = parser.add_argument_group("verification summary")
    group.add_argument(
        "--attest",
        type=Path,
        metavar="FILE",
        help="also write a signed verification summary (an in-toto SLSA VSA) of what was "
        "verified to FILE: a DSSE envelope signed with --signing-key, else a Sigstore bundle "
        "signed keyless with the ambient OIDC credential (GitHub Actions: id-token: write)",
    )
    group.add_argument(
        "--signing-key",
        type=Path,
        metavar="PEM",
        help="the ECDSA P-256 private key (unencrypted PEM) that signs the summary, for "
        "air-gapped use; without it the summary is signed keyless with Sigstore",
    )
    group.add_argument(
        "--signing-key-id",
        metavar="ID",
        help="the key id written beside the signature (default: sha256: and the digest of the "
        "public key's DER encoding); slsa-verifier's --public-key-id",
    )
    group.add_argument(
        "--attest-trust-config",
        type=Path,
        metavar="FILE",
        help="the Sigstore ClientTrustConfig JSON of the instance that signs a keyless summary "
        "(default: production Sigstore)",
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
    signer: SummarySigner
    resource: str
    policy: PolicyRef
    quiet: bool = False

    def write(self, report: Report) -> None:
        """Sign a summary of ``report`` and write it."""
        from rich.console import Console
        from rich.markup import escape

        from verify._attest.summary import verification_summary

        statement = verification_summary(
            report,
            policy=self.policy,
            resource_uri=self.resource,
            now=datetime.now(timezone.utc),
        )
        signed = self.signer.sign(statement)
        try:
            self.path.write_text(signed.text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the summary to {self.path}: {exc.strerror}") from exc
        if not self.quiet:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"pip-verify: verification summary written to {escape(str(self.path))}, "
                f"signed by {escape(signed.signer)}"
            )


def attestation_from(args: argparse.Namespace, artifact: str | None) -> Attestation | None:
    """The summary ``args`` ask for, its signer ready (a key read and checked, or an ambient
    OIDC token found and a Sigstore instance chosen) before anything is verified; ``None``
    without ``--attest``."""
    if args.attest is None:
        for option, value in (
            ("--signing-key", args.signing_key),
            ("--attest-trust-config", args.attest_trust_config),
        ):
            if value is not None:
                raise UsageError(f"{option} signs a summary: pass --attest FILE as well")
        return None
    signer = _key_signer(args) if args.signing_key is not None else _keyless_signer(args)
    resource = args.attest_resource or (artifact or "pip-verify:check")
    return Attestation(
        args.attest, signer, resource, policy_ref(args.policy), quiet=getattr(args, "quiet", False)
    )


def _key_signer(args: argparse.Namespace) -> SummarySigner:
    from verify._attest.summary import KeySigner

    if args.attest_trust_config is not None:
        raise UsageError(
            "--attest-trust-config chooses the Sigstore instance of a keyless summary; "
            "a summary signed with --signing-key has none"
        )
    return KeySigner.from_pem(
        read_file(args.signing_key, "the signing key"), keyid=args.signing_key_id
    )


def _keyless_signer(args: argparse.Namespace) -> SummarySigner:
    from verify._attest.keyless import KeylessSigner
    from verify._cli.environment import ambient_identity_token

    if args.signing_key_id is not None:
        raise UsageError("--signing-key-id names the key of --signing-key; pass that too")
    if getattr(args, "offline", False):
        raise UsageError(
            "keyless signing needs the network (Sigstore's Fulcio and Rekor), and --offline "
            "allows none",
            hint="pass --signing-key PEM to sign offline",
        )
    token = ambient_identity_token()
    if token is None:
        raise UsageError(
            "--attest without --signing-key signs keyless with Sigstore, and no ambient OIDC "
            "credential was found",
            hint=_NO_CREDENTIAL_HINT,
        )
    return KeylessSigner.prepare(token, trust_config=args.attest_trust_config)


def policy_ref(path: Path | None) -> PolicyRef:
    """The reference to the policy a run uses: its path and bytes, or the embedded default."""
    from verify._attest.summary import PolicyRef
    from verify.policy.load import default_policy_text

    if path is None:
        return PolicyRef.of("pip-verify:policy/default", default_policy_text().encode())
    return PolicyRef.of(str(path), read_file(path, "the policy"))


def read_file(path: Path, what: str) -> bytes:
    """The bytes of ``path``; a usage error naming ``what`` it is when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc
