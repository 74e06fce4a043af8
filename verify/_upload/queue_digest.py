"""The configuration digest: what besides the file decides a verdict, which workers share
verdicts by. Workers whose digests match answer a job with each other's stored verdicts."""

from __future__ import annotations

import contextlib
import hashlib

from verify._version import __version__
from verify.errors import PolicyError
from verify.screen import ScreenSettings
from verify.trust_store import DEFAULT_TRUST_STORE

__all__ = ["config_digest"]

# Settings that can change a verdict; the rest (cache directory, timeouts, retries, download
# jobs) only change how fast or whether screening completes, and an incomplete screening is
# never cached. Workers with their own cache directories thus share verdicts.
_VERDICT_FIELDS = (
    "index_url",
    "public_index_urls",
    "policy_path",
    "trust_config",
    "expect",
    "trust_store",
    "record",
    "osv_url",
    "vulnerability_db",
    "offline",
)


def config_digest(settings: ScreenSettings) -> str:
    """A hex sha256 over what decides a verdict besides the file: the pip-verify version, the
    policy file's bytes (``<default>`` for the embedded policy), the Sigstore trust config's
    and the trust store's bytes, and the settings that can change a verdict.

    Raises :class:`~verify.errors.PolicyError` if the policy file cannot be read.
    """
    digest = hashlib.sha256(f"pip-verify/{__version__}\0".encode())
    if settings.policy_path is None:
        digest.update(b"policy:<default>\0")
    else:
        try:
            policy = settings.policy_path.read_bytes()
        except OSError as exc:
            raise PolicyError(
                f"cannot read the policy file: {exc.strerror}", path=settings.policy_path
            ) from None
        digest.update(b"policy:" + hashlib.sha256(policy).digest() + b"\0")
    if settings.trust_config is not None:
        with contextlib.suppress(OSError):
            trust = settings.trust_config.read_bytes()
            digest.update(b"trust-config:" + hashlib.sha256(trust).digest() + b"\0")
    # The trusted publishers decide publisher-change: a store an admin edited (trust accept)
    # must not be answered with verdicts made under the old one.
    store = settings.trust_store or DEFAULT_TRUST_STORE
    with contextlib.suppress(OSError):
        digest.update(b"trust-store:" + hashlib.sha256(store.read_bytes()).digest() + b"\0")
    fields = tuple((name, getattr(settings, name)) for name in _VERDICT_FIELDS)
    digest.update(repr(fields).encode())
    return digest.hexdigest()
