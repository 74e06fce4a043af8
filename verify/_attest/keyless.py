"""Keyless signing of a verification summary with Sigstore, and checking one.

The statement is the one :func:`verify._attest.summary.verification_summary` builds; here
sigstore-python signs it as a DSSE envelope with a short-lived key whose certificate Fulcio
issues to an OIDC identity (a CI job's ambient token), logs it in Rekor, and returns a
Sigstore bundle (``application/vnd.dev.sigstore.bundle.v0.3+json``): the same file
``sigstore verify identity`` and ``cosign verify-blob-attestation --bundle`` read.

Checking goes through sigstore-python's ``Verifier.verify_dsse`` with an ``Identity`` policy
(the certificate's SAN and OIDC issuer), then the same subject and policy checks as a summary
signed with a key. Nothing here does cryptography of its own.

Which Sigstore instance signs and verifies is a ``ClientTrustConfig`` (its signing config
names Fulcio and Rekor; its trusted root, their keys), production Sigstore's through TUF by
default. The identity token comes from the caller: this module never looks for one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from verify._attest.summary import (
    PolicyRef,
    SignedSummary,
    SummaryCheck,
    SummaryProblem,
    check_statement,
    encode_statement,
    signed_statement,
)
from verify._documents import parse_json
from verify.errors import IncompleteError, InvalidInputError, NetworkError, UsageError

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.verify import Verifier

__all__ = ["KeylessSigner", "SigningFailed", "open_bundle", "verify_keyless_summary"]

_CLIENT_TRUST_CONFIG = "application/vnd.dev.sigstore.clienttrustconfig"
_HINT = "pass the ClientTrustConfig JSON of the Sigstore instance to sign with"


class SigningFailed(IncompleteError):
    """Sigstore could not sign the summary: Fulcio or Rekor refused or could not be
    reached, or the identity token expired (exit 3)."""


def _reason(exc: BaseException) -> str:
    """What ``exc`` says, on one line. sigstore's Fulcio client raises some errors with no
    message of their own, the HTTP error that caused them being the only reason."""
    text = str(exc) or (str(exc.__cause__) if exc.__cause__ else "") or type(exc).__name__
    return " ".join(text.split())[:300]


def _load_trust_config(path: Path | None) -> tuple[ClientTrustConfig, str]:
    """The trust config signing uses and its name: ``path``'s, else production's."""
    from sigstore.models import ClientTrustConfig

    if path is None:
        try:
            return ClientTrustConfig.production(), "production Sigstore"
        except Exception as exc:  # TUF raises a family of download and repository errors
            raise NetworkError(
                f"could not fetch production Sigstore's signing config through TUF: {_reason(exc)}",
                hint=_HINT,
            ) from exc
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Sigstore trust config {path}: {exc}") from exc
    document = parse_json(raw, path, hint=_HINT)
    media_type = str(document.get("mediaType", "")) if isinstance(document, dict) else ""
    if not media_type.startswith(_CLIENT_TRUST_CONFIG):
        raise UsageError(
            f"{path} is not a Sigstore ClientTrustConfig (mediaType {media_type!r}); signing "
            "needs one: its signing config names the Fulcio and Rekor to sign with",
            hint=_HINT,
        )
    try:
        config = ClientTrustConfig.from_json(raw)
        # Both are checked now, before anything runs: a config with no usable Fulcio or
        # Rekor fails here rather than after the check.
        config.signing_config  # noqa: B018
        config.trusted_root  # noqa: B018
    except Exception as exc:  # sigstore raises its own and protobuf errors for bad configs
        raise UsageError(f"invalid Sigstore trust config {path}: {_reason(exc)}") from exc
    return config, str(path)


@dataclass(frozen=True, slots=True)
class KeylessSigner:
    """Signs summaries with Sigstore as the holder of an OIDC identity token."""

    token: IdentityToken
    trust_config: ClientTrustConfig
    #: ``production Sigstore`` or the trust config's path.
    instance: str

    @classmethod
    def prepare(cls, identity_token: str, *, trust_config: Path | None = None) -> KeylessSigner:
        """A signer for the OIDC token ``identity_token`` through the Sigstore instance of
        ``trust_config`` (a ClientTrustConfig file; production Sigstore by default), both
        checked now: a malformed or expired token, or an unusable trust config, is a
        :class:`~verify.errors.UsageError` before anything is verified."""
        from sigstore.oidc import IdentityError, IdentityToken

        try:
            token = IdentityToken(identity_token)
        except IdentityError as exc:
            raise UsageError(f"the OIDC identity token cannot sign: {_reason(exc)}") from None
        config, instance = _load_trust_config(trust_config)
        return cls(token, config, instance)

    def sign(self, statement: Mapping[str, Any]) -> SignedSummary:
        """``statement`` signed through Sigstore: the Sigstore bundle's JSON, and the
        identity its certificate names with the token's issuer (the values a check of it
        expects).

        Raises :class:`~verify.errors.UsageError` for a statement with no subject (in-toto
        requires one) and :class:`SigningFailed` when Sigstore does not sign.
        """
        from sigstore import dsse
        from sigstore.errors import Error
        from sigstore.sign import SigningContext

        if not statement.get("subject"):
            raise UsageError(
                "nothing was verified, so there is no file for a keyless summary to name "
                "(an in-toto statement signed with Sigstore needs at least one subject)"
            )
        try:
            payload = dsse.Statement(encode_statement(statement))
        except Error as exc:
            raise InvalidInputError(f"the summary is not an in-toto statement: {exc}") from exc
        try:
            context = SigningContext.from_trust_config(self.trust_config)
            with context.signer(self.token) as signer:
                bundle = signer.sign_dsse(payload)
        # Fulcio's and Rekor's clients raise their own errors, requests' and sigstore's;
        # whichever it is, the summary is not signed and the reason is all one can report.
        except Exception as exc:
            raise SigningFailed(
                f"could not sign the summary with {self.instance} as {self.token.identity}: "
                f"{type(exc).__name__}: {_reason(exc)}",
                hint="check that the OIDC token is fresh and that Fulcio and Rekor are reachable",
            ) from exc
        certificate = bundle.signing_certificate
        identity = f"{_identity_of(certificate)} (issuer {self.token.federated_issuer})"
        return SignedSummary(bundle.to_json() + "\n", identity)


def _identity_of(certificate: x509.Certificate) -> str:
    """The identity a Fulcio certificate names: its SAN (a URI or an email address), which
    ``--cert-identity`` must equal; the token's subject can differ (GitHub's ``repo:...``)."""
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [
        *sans.get_values_for_type(x509.UniformResourceIdentifier),
        *sans.get_values_for_type(x509.RFC822Name),
    ]
    return ", ".join(names) or "an identity with no SAN"


def open_bundle(document: Any, verifier: Verifier, *, identity: str, issuer: str) -> dict[str, Any]:
    """The statement in the Sigstore bundle ``document`` once sigstore-python's verifier
    accepts it as signed by ``identity`` (the certificate's SAN) with a token from
    ``issuer``; raises :class:`~verify._attest.summary.SummaryProblem` saying what failed."""
    from sigstore.errors import Error
    from sigstore.models import Bundle
    from sigstore.verify.policy import Identity

    try:
        bundle = Bundle.from_json(json.dumps(document))
    except Error as exc:
        raise SummaryProblem(f"not a Sigstore bundle: {_reason(exc)}") from None
    try:
        payload_type, payload = verifier.verify_dsse(
            bundle, Identity(identity=identity, issuer=issuer)
        )
    except Error as exc:
        raise SummaryProblem(f"the Sigstore bundle does not verify: {_reason(exc)}") from None
    return signed_statement(payload_type, payload)


def verify_keyless_summary(
    document: Any,
    verifier: Verifier,
    *,
    identity: str,
    issuer: str,
    files: Sequence[tuple[str, bytes]] = (),
    policy: PolicyRef | None = None,
) -> SummaryCheck:
    """Check a summary signed with Sigstore: :func:`open_bundle`, then
    :func:`~verify._attest.summary.check_statement`."""
    statement = open_bundle(document, verifier, identity=identity, issuer=issuer)
    signer = f"{identity} (issuer {issuer})"
    return check_statement(statement, signer=signer, files=files, policy=policy)
