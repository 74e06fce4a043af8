"""pip-verify's version, at the bottom of the layers so that every module may read it."""

from __future__ import annotations

__all__ = ["__version__"]

# flit reads the version from ``verify/__init__.py`` by parsing it, so the literal is repeated
# there; tests/unit/test_public_api.py holds the two equal.
__version__ = "0.1.0"
