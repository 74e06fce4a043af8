"""The library's defaults that the parser shows and fills in, without importing the library.

Every command, ``--help`` and ``--version`` build the whole parser, so it must import nothing
heavy. The network defaults come from :mod:`verify.settings`, which imports only the standard
library; the trust store's module pulls in TOML writing, so its default is copied here, and
tests/unit/cli/test_startup.py checks that the copy is the same value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from verify.settings import DEFAULT_JOBS, DEFAULT_RETRIES, DEFAULT_TIMEOUT

__all__ = ["DEFAULT_JOBS", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "DEFAULT_TRUST_STORE"]

#: verify.trust_store.DEFAULT_TRUST_STORE.
DEFAULT_TRUST_STORE: Final = Path("pip-verify.trust.toml")
