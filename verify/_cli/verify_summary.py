"""``pip-verify verify-summary``: check a verification summary written by ``--attest``,
signed with a key (``--key``) or keyless with Sigstore (``--cert-identity`` and
``--cert-oidc-issuer``, as sigstore-python's ``sigstore verify identity`` names them)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.attest import policy_ref, read_file
from verify.errors import UsageError

if TYPE_CHECKING:
    from verify._attest.summary import SummaryCheck

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the ``verify-summary`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify-summary",
        help="check a verification summary written by --attest",
        description="Check a signed verification summary: its signature (with the public key "
        "given, or for a keyless summary with Sigstore's verifier and the identity and issuer "
        "given), that each FILE given is one of its subjects with the same sha256, and, with "
        "--policy, that it was made under that policy. Exit 0 when it verifies and says "
        "PASSED, 1 when it verifies and says FAILED, 2 when it does not verify.",
    )
    parser.add_argument(
        "summary", type=Path, metavar="SUMMARY", help="the summary (DSSE or Sigstore bundle JSON)"
    )
    parser.add_argument(
        "files", nargs="*", type=Path, metavar="FILE", help="files the summary must cover"
    )
    signer = parser.add_argument_group("the signer (exactly one of --key and --cert-identity)")
    signer.add_argument("--key", type=Path, metavar="PEM", help="the signer's public key (PEM)")
    signer.add_argument("--key-id", metavar="ID", help="accept only a signature with this key id")
    signer.add_argument(
        "--cert-identity",
        metavar="IDENTITY",
        help="keyless: the identity the signing certificate must name (its SAN), e.g. a "
        "workflow's https://github.com/OWNER/REPO/.github/workflows/FILE@REF",
    )
    signer.add_argument(
        "--cert-oidc-issuer",
        metavar="URL",
        help="keyless: the OIDC issuer the signing certificate must name",
    )
    signer.add_argument(
        "--trust-config",
        type=Path,
        metavar="FILE",
        help="keyless: the Sigstore ClientTrustConfig or TrustedRoot JSON to verify with "
        "(default: production Sigstore)",
    )
    signer.add_argument(
        "--offline",
        action="store_true",
        help="keyless: use the cached or shipped production trust root, with no network",
    )
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="the policy the summary must be made under"
    )
    parser.set_defaults(handler=run, quiet=False)


def run(args: argparse.Namespace) -> int:
    """Check the summary and say what it covers and who signed it."""
    from verify._attest.summary import SummaryProblem

    keyless = _keyless_arguments(args)
    try:
        document = json.loads(read_file(args.summary, "the summary"))
    except ValueError as exc:
        raise SummaryProblem(f"{args.summary} is not JSON: {exc}") from None
    files = [(str(path), read_file(path, "the file")) for path in args.files]
    policy = policy_ref(args.policy) if args.policy else None
    if keyless:
        check = _verify_keyless(args, document, files, policy)
    else:
        check = _verify_with_key(args, document, files, policy)
    verdict = "PASSED" if check.passed else "FAILED"
    predicate = check.statement["predicate"]
    print(
        f"verified: {verdict}, {check.subjects} file(s), made {predicate.get('timeVerified')} "
        f"under {predicate.get('policy', {}).get('uri')}"
        + (f"; {len(files)} given file(s) covered" if files else "")
        + f"; signed by {check.signer}",
        file=sys.stdout,
    )
    return 0 if check.passed else 1


def _keyless_arguments(args: argparse.Namespace) -> bool:
    """Whether the arguments ask for a keyless check; a usage error unless they name exactly
    one kind of signer, completely."""
    if (args.key is None) == (args.cert_identity is None):
        raise UsageError(
            "pass exactly one of --key (a summary signed with a key) and --cert-identity with "
            "--cert-oidc-issuer (a keyless summary signed with Sigstore)"
        )
    if args.key is not None:
        extra = [
            option
            for option, value in (
                ("--cert-oidc-issuer", args.cert_oidc_issuer),
                ("--trust-config", args.trust_config),
                ("--offline", args.offline or None),
            )
            if value is not None
        ]
        if extra:
            raise UsageError(f"{', '.join(extra)} check a keyless summary; --key checks a key's")
        return False
    if args.cert_oidc_issuer is None:
        raise UsageError(
            "--cert-identity needs --cert-oidc-issuer: an identity means little "
            "without the issuer that vouched for it"
        )
    if args.key_id is not None:
        raise UsageError("--key-id names the key of --key; a keyless summary has none")
    if args.offline and args.trust_config is not None:
        raise UsageError(
            "--offline uses production's cached trust root; --trust-config "
            "names another, read from its file with no network anyway"
        )
    return True


def _verify_with_key(
    args: argparse.Namespace,
    document: Any,
    files: list[tuple[str, bytes]],
    policy: Any,
) -> SummaryCheck:
    from verify._attest.summary import SummaryProblem, is_sigstore_bundle, verify_summary

    if is_sigstore_bundle(document):
        raise SummaryProblem(
            f"{args.summary} is a Sigstore bundle, signed keyless: check it with "
            "--cert-identity and --cert-oidc-issuer, not --key"
        )
    return verify_summary(
        document,
        read_file(args.key, "the public key"),
        keyid=args.key_id,
        files=files,
        policy=policy,
    )


def _verify_keyless(
    args: argparse.Namespace,
    document: Any,
    files: list[tuple[str, bytes]],
    policy: Any,
) -> SummaryCheck:
    from verify._attest.keyless import verify_keyless_summary
    from verify._attest.summary import PAYLOAD_TYPE, SummaryProblem, is_sigstore_bundle
    from verify._provenance.trust_root import load_trust_root

    signed_with_a_key = isinstance(document, dict) and document.get("payloadType") == PAYLOAD_TYPE
    if signed_with_a_key and not is_sigstore_bundle(document):
        raise SummaryProblem(
            f"{args.summary} is a DSSE envelope signed with a key, not a keyless summary: "
            "check it with --key, not --cert-identity"
        )
    root = load_trust_root(offline=args.offline, trust_config=args.trust_config)
    return verify_keyless_summary(
        document,
        root.verifier,
        identity=args.cert_identity,
        issuer=args.cert_oidc_issuer,
        files=files,
        policy=policy,
    )
