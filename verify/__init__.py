"""pip-verify: a verification gate for Python dependencies.

Resolve what would be installed, check every file's bytes, provenance and publisher, diff what
each release adds, and decide by a trust policy whether it may be installed.

Imports flow one way, down these layers (``tests/unit/test_layering.py`` enforces it):

1. CLI: ``verify._cli``, ``verify.__main__``.
2. Commands: ``check``, ``screen``, ``install``, ``compare``, and ``_upload`` (the quarantine
   gate's server).
3. Engine: ``verify._verifier``.
4. Rendering: ``verify._format`` (reads results; never a command or the CLI).
5. Concerns, none importing another in a cycle: ``_behaviour``, ``_dist``, ``_checks``,
   ``_vulnerabilities``, ``_provenance``, ``_resolve``, ``policy``, ``trust_store``.
6. Index access and fetching: ``_index``, ``_fetch``.
7. Base: ``models``, ``errors``, ``_documents``, ``_rules`` and this module (the version).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
