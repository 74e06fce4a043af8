"""pip-verify: a verification gate for Python dependencies.

Resolve what would be installed, check every file's bytes, provenance and publisher, diff what
each release adds, and decide by a trust policy whether it may be installed.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
