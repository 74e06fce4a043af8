"""``pip-verify fix``: the nearest lock that passes, for a hashed requirements file or a
``pylock.toml`` (written), or a ``uv.lock``, ``poetry.lock`` or ``Pipfile.lock`` (the commands
that make the change printed: uv, Poetry and Pipenv own those files; see
:mod:`verify._resolve.lock_commands` for which commands and why).

For every package the policy denies, or that has a known vulnerability, the releases after the
pinned one are tried smallest upgrade first (patch, then minor, then major, within ``allow``),
each verified with ``check``'s engine together with what it depends on, until one passes the
whole policy with no known vulnerability. The lock is then rewritten with that release and the
sha256 of each of its files on the index (for a ``pylock.toml``, the entry's ``version`` and
its wheels and sdist, in the file's own layout: :mod:`verify._resolve.pylock_write`), and the
rewritten lock is read back and verified in full before it is written. A package with no
passing release is left as it is, with the reason of each release that was tried.

Guardrails: never a downgrade, never a pre-release, never another index than the lock's, never
beyond ``allow``, never a release younger than the policy's ``release-age`` cooldown (even
where the policy only warns about it), and the same policy (publisher, behaviour, everything
else) judges every candidate.
"""

from __future__ import annotations

from verify.fix.model import FixChange, FixOutcome, FixSettings, UpdateKind
from verify.fix.run import fixed_lock_path, lock_diff, run_fix

__all__ = [
    "FixChange",
    "FixOutcome",
    "FixSettings",
    "UpdateKind",
    "fixed_lock_path",
    "lock_diff",
    "run_fix",
]
