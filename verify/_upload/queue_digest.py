"""The configuration digest: what besides the file decides a verdict, which workers share
verdicts by. Workers whose digests match answer a job with each other's stored verdicts."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from verify._version import __version__
from verify.errors import PolicyError
from verify.screen import ScreenSettings
from verify.settings import VerificationSettings
from verify.trust_store import DEFAULT_TRUST_STORE

__all__ = ["config_digest", "verification_files_digest"]

# Settings that can change a verdict, by the name each had when screen's settings were one
# flat record (the names are hashed, so they stay; renaming them would split the verdicts of
# workers that agree). The rest (cache directory, timeouts, retries, download jobs) only
# change how fast or whether screening completes, and an incomplete screening is never cached.
# Workers with their own cache directories thus share verdicts.
_VERDICT_FIELDS: tuple[tuple[str, Callable[[ScreenSettings], object]], ...] = (
    ("index_url", lambda s: s.index_url),
    ("public_index_urls", lambda s: s.public_index_urls),
    ("policy_path", lambda s: s.verification.policy_path),
    ("trust_config", lambda s: s.verification.trust_config),
    ("expect", lambda s: s.verification.expect),
    ("trust_store", lambda s: s.verification.trust_store),
    ("record", lambda s: s.verification.record),
    ("osv_url", lambda s: s.verification.osv_url),
    ("vulnerability_db", lambda s: s.verification.vulnerability_db),
    ("offline", lambda s: s.network.offline),
)
# Added after the names above: hashed only when not the default, so the digests of every
# configuration that existed before them are unchanged.
_VERDICT_FIELDS_SINCE: tuple[tuple[str, Callable[[ScreenSettings], object], object], ...] = (
    ("behaviour", lambda s: s.verification.behaviour, True),
)


def config_digest(settings: ScreenSettings) -> str:
    """A hex sha256 over what decides a verdict besides the file: the pip-verify version, the
    policy file's bytes (``<default>`` for the embedded policy), the Sigstore trust config's
    and the trust store's bytes, and the settings that can change a verdict.

    Raises :class:`~verify.errors.PolicyError` if the policy file cannot be read.
    """
    digest = hashlib.sha256(f"pip-verify/{__version__}\0".encode())
    digest.update(verification_files_digest(settings.verification))
    fields = tuple((name, read(settings)) for name, read in _VERDICT_FIELDS)
    digest.update(repr(fields).encode())
    for name, read, default in _VERDICT_FIELDS_SINCE:
        if (value := read(settings)) != default:
            digest.update(repr((name, value)).encode())
    return digest.hexdigest()


def verification_files_digest(verification: VerificationSettings) -> bytes:
    """What the files a verification reads contribute to a verdict's key: the policy file's
    bytes (``<default>`` for the embedded policy), the Sigstore trust config's and the trust
    store's. The gate's queue and the proxy key their verdicts with it.

    Raises :class:`~verify.errors.PolicyError` if the policy file cannot be read.
    """
    parts = []
    if verification.policy_path is None:
        parts.append(b"policy:<default>\0")
    else:
        try:
            policy = verification.policy_path.read_bytes()
        except OSError as exc:
            raise PolicyError(
                f"cannot read the policy file: {exc.strerror}", path=verification.policy_path
            ) from None
        parts.append(b"policy:" + hashlib.sha256(policy).digest() + b"\0")
    if verification.trust_config is not None:
        with contextlib.suppress(OSError):
            trust = verification.trust_config.read_bytes()
            parts.append(b"trust-config:" + hashlib.sha256(trust).digest() + b"\0")
    # The trusted publishers decide publisher-change: a store an admin edited (trust accept)
    # must not be answered with verdicts made under the old one.
    store = verification.trust_store or DEFAULT_TRUST_STORE
    with contextlib.suppress(OSError):
        parts.append(b"trust-store:" + hashlib.sha256(store.read_bytes()).digest() + b"\0")
    return b"".join(parts)
