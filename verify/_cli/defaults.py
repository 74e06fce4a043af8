"""The library's defaults that the parser shows and fills in, without importing the library.

Every command, ``--help`` and ``--version`` build the whole parser, so it must import nothing
heavy; the modules that own these values pull in the network stack, the resolver and the
trust store. tests/unit/test_cli_startup.py checks that the copies here are the same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["DEFAULT_JOBS", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "DEFAULT_TRUST_STORE"]

#: verify._index.session.DEFAULT_TIMEOUT: seconds per network request.
DEFAULT_TIMEOUT: Final = 15.0
#: verify._index.session.DEFAULT_RETRIES.
DEFAULT_RETRIES: Final = 3
#: verify._fetch.fetch.DEFAULT_JOBS: parallel downloads.
DEFAULT_JOBS: Final = 8
#: verify.trust_store.DEFAULT_TRUST_STORE.
DEFAULT_TRUST_STORE: Final = Path("pip-verify.trust.toml")
