"""Sigstore trust roots: production through TUF, the shipped root offline, or a private one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from verify._documents import parse_json
from verify.errors import InvalidInputError, UsageError

if TYPE_CHECKING:
    from sigstore.verify import Verifier

__all__ = ["TrustRoot", "load_trust_root"]

logger = logging.getLogger(__name__)

_CLIENT_TRUST_CONFIG = "application/vnd.dev.sigstore.clienttrustconfig"
_TRUSTED_ROOT = "application/vnd.dev.sigstore.trustedroot"
_HINT = "pass the ClientTrustConfig or TrustedRoot JSON of your Sigstore instance"


@dataclass(frozen=True, slots=True)
class TrustRoot:
    """A verifier and where its trust comes from."""

    verifier: Verifier
    #: ``production``, ``production (offline)`` or the trust config's path.
    source: str
    #: Set when a fresher root was wanted and could not be had.
    warning: str | None = None
    #: What names this root where verified outcomes are remembered: ``production`` (online
    #: or offline alike: the shipped root can only reject what a refreshed one accepts), or
    #: the digest of the trust config's bytes as read.
    identity: str = "production"


def _from_file(path: Path) -> TrustRoot:
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore.verify import Verifier

    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Sigstore trust config {path}: {exc}") from exc
    try:
        document = parse_json(raw, path)
    except InvalidInputError as exc:
        # parse_json names the file (and line); its errors include nesting too deep to read.
        raise InvalidInputError(
            f"cannot read the Sigstore trust config {exc.message}", hint=_HINT
        ) from None
    media_type = str(document.get("mediaType", "")) if isinstance(document, dict) else ""
    try:
        if media_type.startswith(_CLIENT_TRUST_CONFIG):
            trusted_root = ClientTrustConfig.from_json(raw).trusted_root
        elif media_type.startswith(_TRUSTED_ROOT):
            trusted_root = TrustedRoot.from_file(str(path))
        else:
            raise UsageError(
                f"{path} is neither a Sigstore ClientTrustConfig nor a TrustedRoot "
                f"(mediaType {media_type!r})",
                hint=_HINT,
            )
        identity = "config:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
        return TrustRoot(Verifier(trusted_root=trusted_root), source=str(path), identity=identity)
    except UsageError:
        raise
    except Exception as exc:  # sigstore raises its own and protobuf errors for bad roots
        raise UsageError(f"invalid Sigstore trust config {path}: {exc}") from exc


def _age_of_offline_root() -> str:
    """`` from N days ago`` for the trusted root sigstore-python would use offline."""
    try:
        from sigstore._internal.tuf import DEFAULT_TUF_URL, _get_dirs

        root = _get_dirs(DEFAULT_TUF_URL)[1] / "trusted_root.json"
        modified = datetime.fromtimestamp(root.stat().st_mtime, tz=timezone.utc)
    except (ImportError, AttributeError, OSError):
        return ""  # sigstore's internals moved: say less rather than fail
    days = (datetime.now(timezone.utc) - modified).days
    return f" (written {days} day{'s' if days != 1 else ''} ago)"


def load_trust_root(*, offline: bool = False, trust_config: Path | None = None) -> TrustRoot:
    """The verifier for this run.

    With ``trust_config``, that root alone. Offline, the root sigstore-python ships (or its
    cached TUF copy) with no network. Otherwise production through a TUF refresh; when the
    refresh cannot reach its repository, the cached or shipped root with a warning. A stale
    root can only reject a signature by a newer key, never accept one.
    """
    if trust_config is not None:
        return _from_file(trust_config)
    # sigstore is imported here, not at module level: most checks never need it.
    from sigstore.verify import Verifier

    if offline:
        return TrustRoot(Verifier.production(offline=True), source="production (offline)")
    try:
        return TrustRoot(Verifier.production(offline=False), source="production")
    except Exception as exc:  # TUF raises a family of download and repository errors
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        warning = (
            f"could not refresh Sigstore's trust root through TUF ({reason}); using the "
            f"cached or shipped root{_age_of_offline_root()}, which can only reject "
            "signatures by newer keys, never accept them"
        )
        logger.warning(warning)
        return TrustRoot(
            Verifier.production(offline=True), source="production (offline)", warning=warning
        )
