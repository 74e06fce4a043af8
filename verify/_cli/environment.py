"""The environment variables pip-verify reads. Only the CLI reads them: the library takes
every setting as an argument, so that what it does never depends on the process it runs in.

* ``PIP_VERIFY_CACHE_DIR``: the cache directory when ``--cache-dir`` is not given;
* ``PIP_VERIFY_OSV_URL`` and ``PIP_VERIFY_VULNERABILITY_DB``: the vulnerability source when
  ``--osv-url`` and ``--vulnerability-db`` are not given;
* ``PIP_VERIFY_USER``: who changes the trust store, else the login name;
* ``VIRTUAL_ENV``: the environment ``install`` targets when ``--python`` is not given;
* the CI's own variables for an ambient OIDC token (:func:`ambient_identity_token`), when
  ``--attest`` signs keyless with Sigstore.

(The quarantine's and the upstream's variables are read where those commands parse them.)
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from verify.errors import UsageError

__all__ = ["CACHE_DIR_ENV", "ambient_identity_token", "env_path", "env_text", "user", "virtual_env"]

CACHE_DIR_ENV = "PIP_VERIFY_CACHE_DIR"


def env_text(name: str) -> str | None:
    """The variable's value, ``None`` when unset or empty."""
    return os.environ.get(name) or None


def env_path(name: str) -> Path | None:
    """The variable's value as a path (``~`` expanded), ``None`` when unset or empty."""
    value = env_text(name)
    return Path(value).expanduser() if value else None


def user() -> str:
    """Who is changing the trust store: ``$PIP_VERIFY_USER``, else the login name."""
    try:
        return env_text("PIP_VERIFY_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def virtual_env() -> str | None:
    """The active virtual environment (``$VIRTUAL_ENV``), if any."""
    return env_text("VIRTUAL_ENV")


def ambient_identity_token() -> str | None:
    """The CI's ambient OIDC identity token for Sigstore, ``None`` when there is none.

    sigstore-python's ``detect_credential`` looks, in this order, on GitHub Actions
    (``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``..._TOKEN``, set with ``id-token: write``), on
    Google Cloud, on Buildkite, on GitLab CI (``SIGSTORE_ID_TOKEN``) and on CircleCI. A CI
    that should have one and does not (a GitHub job without ``id-token: write``) is a usage
    error naming what is missing.
    """
    from sigstore.oidc import IdentityError, detect_credential

    try:
        return detect_credential()
    except IdentityError as exc:
        raise UsageError(
            f"no ambient OIDC credential for keyless signing: {exc}",
            hint="pass --signing-key PEM for air-gapped use, or grant the job an OIDC token "
            "(GitHub Actions: permissions: id-token: write)",
        ) from None
