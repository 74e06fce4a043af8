"""Policies for tests that exercise one rule without the default provenance requirement.

The loopback test index serves no provenance unless a test adds it, so under the default
policy every package would warn ``provenance-required``; tests about other rules use this
policy to keep their expectations about those rules alone.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

__all__ = ["without_provenance_requirement"]


@functools.cache
def without_provenance_requirement() -> Path:
    """The default policy with ``provenance-required`` allowed (written once per session)."""
    path = Path(tempfile.mkdtemp(prefix="pip-verify-policy-")) / "policy.toml"
    path.write_text(
        'extends = "default"\n\n[rules.provenance-required]\ndecision = "allow"\n'
        'on-error = "allow"\n',
        encoding="utf-8",
    )
    return path
