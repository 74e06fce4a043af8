"""The verification engine: pinned candidates in, a :class:`~verify.models.Report` out.

"Gate" means the upload gate (``pip-verify gate``, :mod:`verify._upload`) and nothing else;
the engine that every command runs is the :class:`Verifier`.
"""

from __future__ import annotations

from verify._verifier.engine import CheckOptions, Verifier

__all__ = ["CheckOptions", "Verifier"]
