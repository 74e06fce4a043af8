"""Who published a file: the publisher identity in a Sigstore (Fulcio) signing certificate.

Fulcio writes the CI system's OIDC claims into certificate extensions under the
``1.3.6.1.4.1.57264.1`` arc. They are only trustworthy once the certificate chain has been
verified; this module only reads them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    # Only verified certificates are read, after sigstore (which imports cryptography) ran;
    # a check with no provenance to verify never needs it.
    from cryptography import x509

__all__ = [
    "ExpectedIdentity",
    "PublisherIdentity",
    "PublisherKind",
    "certificate_claims",
    "identity_from_certificate",
    "identity_from_claims",
    "parse_expectation",
]

_ARC = "1.3.6.1.4.1.57264.1."
_ISSUER_V1 = _ARC + "1"
_ISSUER_V2 = _ARC + "8"
_BUILD_SIGNER_URI = _ARC + "9"
_SOURCE_REPOSITORY_URI = _ARC + "12"
_SOURCE_REPOSITORY_DIGEST = _ARC + "13"
_SOURCE_REPOSITORY_REF = _ARC + "14"
_BUILD_CONFIG_URI = _ARC + "18"
_BUILD_TRIGGER = _ARC + "20"
_RUN_INVOCATION_URI = _ARC + "21"

#: OIDC issuers of the publisher kinds PEP 740 indexes support (these are token issuers,
#: not package hosts).
_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_GITLAB_ISSUER = "https://gitlab.com"
_GOOGLE_ISSUER = "https://accounts.google.com"
_CIRCLECI_ISSUER_PREFIX = "https://oidc.circleci.com/org/"


class PublisherKind(str, enum.Enum):
    """The CI system (OIDC issuer) that obtained the signing certificate."""

    GITHUB = "GitHub"
    GITLAB = "GitLab"
    GOOGLE = "Google"
    CIRCLECI = "CircleCI"
    #: An issuer pip-verify does not know how to read an identity from.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PublisherIdentity:
    """The identity a signing certificate vouches for."""

    kind: PublisherKind
    issuer: str
    #: ``owner/name`` (GitHub), ``namespace/project`` (GitLab), or ``None``.
    repository: str | None = None
    #: The workflow file: ``release.yml`` (GitHub), ``.gitlab-ci.yml`` (GitLab).
    workflow: str | None = None
    #: The deployment environment; certificates do not carry it, provenance objects may.
    environment: str | None = None
    #: The certificate's subject (SAN): an email for Google, a URI for CI systems.
    subject: str | None = None
    ref: str | None = None
    sha: str | None = None
    trigger: str | None = None
    run_url: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready fields, with the kind as its string."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


def _decode_utf8(value: bytes) -> str:
    # The newer claims are DER UTF8String values; the legacy issuer (.1.1) is raw bytes.
    if len(value) >= 2 and value[0] == 0x0C:
        length = value[1]
        offset = 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(value[2 : 2 + count], "big")
            offset = 2 + count
        return value[offset : offset + length].decode("utf-8", "replace")
    return value.decode("utf-8", "replace")


def certificate_claims(certificate: x509.Certificate) -> dict[str, str]:
    """The Fulcio claim extensions of ``certificate``, by dotted OID."""
    from cryptography import x509

    claims: dict[str, str] = {}
    for extension in certificate.extensions:
        oid = extension.oid.dotted_string
        if oid.startswith(_ARC) and isinstance(extension.value, x509.UnrecognizedExtension):
            claims[oid] = _decode_utf8(extension.value.value)
    return claims


def _subject(certificate: x509.Certificate) -> str | None:
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for kind in (x509.UniformResourceIdentifier, x509.RFC822Name):
        values = san.get_values_for_type(kind)
        if values:
            return str(values[0])
    return None


def _path(uri: str | None) -> str | None:
    if not uri:
        return None
    return urlsplit(uri).path.strip("/") or None


def _workflow_file(
    build_config: str | None, repository_uri: str | None, kind: PublisherKind
) -> str | None:
    if not build_config:
        return None
    without_ref = build_config.split("@", 1)[0]
    if kind is PublisherKind.GITHUB:
        marker = "/.github/workflows/"
        return without_ref.split(marker, 1)[1] if marker in without_ref else None
    if kind is PublisherKind.GITLAB and repository_uri and without_ref.startswith(repository_uri):
        # https://gitlab.example/ns/proj//.gitlab-ci.yml: the file path follows "//".
        return without_ref[len(repository_uri) :].lstrip("/") or None
    return None


def _kind(issuer: str) -> PublisherKind:
    if issuer == _GITHUB_ISSUER:
        return PublisherKind.GITHUB
    if issuer == _GITLAB_ISSUER:
        return PublisherKind.GITLAB
    if issuer == _GOOGLE_ISSUER:
        return PublisherKind.GOOGLE
    if issuer.startswith(_CIRCLECI_ISSUER_PREFIX):
        return PublisherKind.CIRCLECI
    return PublisherKind.UNKNOWN


def identity_from_claims(
    claims: Mapping[str, str], *, subject: str | None = None, environment: str | None = None
) -> PublisherIdentity:
    """The publisher identity described by Fulcio claims (see :func:`certificate_claims`)."""
    issuer = claims.get(_ISSUER_V2) or claims.get(_ISSUER_V1) or ""
    kind = _kind(issuer)
    repository_uri = claims.get(_SOURCE_REPOSITORY_URI)
    return PublisherIdentity(
        kind=kind,
        issuer=issuer,
        repository=_path(repository_uri)
        if kind in (PublisherKind.GITHUB, PublisherKind.GITLAB)
        else None,
        workflow=_workflow_file(claims.get(_BUILD_CONFIG_URI), repository_uri, kind),
        environment=environment,
        subject=subject,
        ref=claims.get(_SOURCE_REPOSITORY_REF),
        sha=claims.get(_SOURCE_REPOSITORY_DIGEST),
        trigger=claims.get(_BUILD_TRIGGER),
        run_url=claims.get(_RUN_INVOCATION_URI),
    )


def identity_from_certificate(
    certificate: x509.Certificate, *, environment: str | None = None
) -> PublisherIdentity:
    """The publisher identity a (verified) signing certificate vouches for."""
    return identity_from_claims(
        certificate_claims(certificate), subject=_subject(certificate), environment=environment
    )


_EXPECTATION_KEYS = ("kind", "repository", "workflow", "workflow_filepath", "environment")


@dataclass(frozen=True, slots=True)
class ExpectedIdentity:
    """A publisher a file must come from: a pin decided before looking at the file.

    ``kind`` and ``repository`` are required; ``workflow`` and ``environment`` are compared
    when given (pin the workflow too: any workflow of a repository can otherwise publish).
    """

    kind: str
    repository: str
    workflow: str | None = None
    environment: str | None = None
    #: Where the pin came from, for messages (``--expect``, ``pylock.toml:12``).
    origin: str = ""

    def matches(self, identity: PublisherIdentity) -> bool:
        """Whether a verified identity is this publisher."""
        if self.kind.lower() != identity.kind.value.lower():
            return False
        if self.repository.lower() != (identity.repository or "").lower():
            return False
        if self.workflow is not None and self.workflow != identity.workflow:
            return False
        return self.environment is None or self.environment == identity.environment

    def __str__(self) -> str:
        parts = [f"{self.kind} {self.repository}"]
        if self.workflow:
            parts.append(f"workflow {self.workflow}")
        if self.environment:
            parts.append(f"environment {self.environment}")
        return ", ".join(parts)

    @classmethod
    def from_table(cls, table: Mapping[str, object], *, origin: str = "") -> ExpectedIdentity:
        """From a PEP 751 ``attestation-identities`` table or an ``--expect`` value."""
        unknown = sorted(set(table) - set(_EXPECTATION_KEYS))
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r}; allowed: {', '.join(_EXPECTATION_KEYS)}")
        kind, repository = table.get("kind"), table.get("repository")
        if not isinstance(kind, str) or not isinstance(repository, str) or not repository:
            raise ValueError("needs a 'kind' and a 'repository'")
        known = {k.value.lower(): k.value for k in PublisherKind if k is not PublisherKind.UNKNOWN}
        if kind.lower() not in known:
            raise ValueError(f"unknown publisher kind {kind!r}; known: {', '.join(known.values())}")
        workflow = table.get("workflow", table.get("workflow_filepath"))
        environment = table.get("environment")
        return cls(
            kind=known[kind.lower()],
            repository=repository,
            workflow=workflow if isinstance(workflow, str) else None,
            environment=environment if isinstance(environment, str) else None,
            origin=origin,
        )


def parse_expectation(text: str) -> tuple[str, ExpectedIdentity]:
    """``NAME:kind=GitHub,repository=OWNER/REPO,workflow=FILE[,environment=ENV]``."""
    name, sep, spec = text.partition(":")
    if not sep or not name.strip():
        raise ValueError("expected NAME:kind=...,repository=...[,workflow=...][,environment=...]")
    table: dict[str, object] = {}
    for item in spec.split(","):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"{item!r} is not KEY=VALUE")
        table[key.strip()] = value.strip()
    return name.strip(), ExpectedIdentity.from_table(table, origin="--expect")
