"""Provenance already verified, remembered for a while so a re-check does not verify it again.

Verifying a file's provenance is a function of four things: the file's name and digest, the
provenance documents, and the Sigstore trust root. A re-check that finds the same documents
for the same file under the same trust gets the same answer, so a *verified* outcome is kept
on disk under a key made of all four and reused while it is younger than
:data:`VERDICT_MAX_AGE`. A hit skips parsing the documents, loading the trust root (a TUF
refresh, online) and the signature checks, and with them importing sigstore and
pypi-attestations: most of a second of a warm check.

The documents themselves are read again on every check (from the HTTP cache while the index
says they are fresh), so changed or withdrawn provenance is seen at once; only the
cryptography is skipped for bytes already verified. Only verified outcomes are kept: an
invalid or unchecked one is worked out anew each time, so nothing that failed is ever
carried forward. The age bound is there for the trust root, which TUF may rotate or revoke:
a remembered outcome is at most a day older than the root it would be checked against.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from verify._provenance.evidence import Documents
from verify._provenance.identity import PublisherIdentity, PublisherKind
from verify._provenance.trust_root import TrustRoot
from verify._records import read_record, write_record

__all__ = ["PRODUCTION", "VERDICT_MAX_AGE", "RememberedProvenance", "trust_identity"]

#: How long a verified outcome is reused before the signatures are checked again.
VERDICT_MAX_AGE: Final = timedelta(hours=24)
#: The identity of Sigstore's production trust root (see :attr:`TrustRoot.identity`).
PRODUCTION: Final = "production"
#: Bumped whenever what a record holds changes, so old records are not read.
_FORMAT = "1"


def trust_identity(trust: TrustRoot | None) -> str:
    """What names the trust root in the key: a private root's own identity (the digest of
    its config's bytes), else Sigstore's production instance, whose root is loaded only if
    something needs verifying."""
    return trust.identity if trust is not None else PRODUCTION


class RememberedProvenance:
    """Verified provenance outcomes under ``root``, for one trust root."""

    def __init__(self, root: Path, trust: str, *, now: datetime | None = None) -> None:
        self.root = root
        self.trust = trust
        self._now = now

    def _path(self, filename: str, sha256: str, documents: Documents) -> Path:
        key = hashlib.sha256(
            "\0".join((_FORMAT, self.trust, filename, sha256, documents.digest())).encode()
        ).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def recall(self, filename: str, sha256: str, documents: Documents) -> PublisherIdentity | None:
        """The identity these documents were verified to carry for this file, if they were
        verified less than :data:`VERDICT_MAX_AGE` ago."""
        now = self._now or datetime.now(timezone.utc)

        def load(data: object) -> PublisherIdentity | None:
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise ValueError("not a remembered provenance outcome")
            verified = datetime.fromisoformat(data["verified"])
            if not timedelta(0) <= now - verified < VERDICT_MAX_AGE:
                return None
            return _identity(data["identity"])

        return read_record(self._path(filename, sha256, documents), load)

    def remember(
        self, filename: str, sha256: str, documents: Documents, identity: PublisherIdentity
    ) -> None:
        """Keep a verified outcome (a failure to write it is only logged)."""
        now = self._now or datetime.now(timezone.utc)
        write_record(
            self._path(filename, sha256, documents),
            {"format": _FORMAT, "verified": now.isoformat(), "identity": identity.as_dict()},
        )


def _identity(data: Any) -> PublisherIdentity:
    if not isinstance(data, dict):
        raise TypeError("the identity is not an object")
    fields = {key: data[key] for key in PublisherIdentity.__dataclass_fields__}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"identity field {key} is not a string")
    if not isinstance(fields["issuer"], str):
        raise TypeError("the identity has no issuer")
    fields["kind"] = PublisherKind(fields["kind"])
    return PublisherIdentity(**fields)
