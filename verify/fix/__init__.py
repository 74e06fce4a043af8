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

For a hashed requirements file, each candidate is resolved with pip's resolver with the lock's
other pins as constraints (:mod:`verify.fix.dependencies`): a package the release needs that
the lock lacks is added (``name==version`` with every file's hash, where its name sorts when
the file is sorted, else at the end), and a pin its ``Requires-Dist`` excludes is moved to
the nearest release it admits; each is held to the same policy and guardrails as the release
itself, and a release whose new dependencies do not pass is not taken. A ``pylock.toml`` gets
no new or moved entries yet: there, a release that needs any is not taken, and says why.

The guardrails are the policy's ``[fix]`` table (defaults in the embedded policy), each
overridable in :class:`FixSettings` (as on the command line); :class:`Guardrails` is what a
run kept (:mod:`verify.fix.guardrails`): never beyond ``allow``; never a release with a file
younger than the cooldown (``cooldown-days``, else the ``release-age`` rule's ``min-age``),
nor one whose age the index does not give; never another index than the one the package is
pinned to (``same-index``); never a release whose verified publisher is not the trust store's
or the pinned release's (``same-publisher``); never a downgrade unless ``downgrade`` allows one,
and then only the nearest that passes when no upgrade does; never a pre-release. The same
policy (behaviour, provenance, everything else) judges every candidate.

For a lock its tool owns, ``fix --apply`` runs the commands (the command line does: the library
runs no tool) and :func:`check_applied` holds the lock the tool wrote to what was verified.
"""

from __future__ import annotations

from verify.fix.applied import AppliedCheck, check_applied
from verify.fix.model import (
    DependencyChange,
    FixChange,
    FixOutcome,
    FixSettings,
    Guardrails,
    UpdateKind,
)
from verify.fix.run import fixed_lock_path, lock_diff, run_fix

__all__ = [
    "AppliedCheck",
    "DependencyChange",
    "FixChange",
    "FixOutcome",
    "FixSettings",
    "Guardrails",
    "UpdateKind",
    "check_applied",
    "fixed_lock_path",
    "lock_diff",
    "run_fix",
]
