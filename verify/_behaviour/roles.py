"""The roles a distribution's files can have, and the reach that gives every file one.

See :mod:`verify._behaviour.reach` for what each role means and how it is worked out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["Reach", "Role", "is_test_path"]


class Role(str, enum.Enum):
    """What a file of a distribution can do when the distribution is installed."""

    #: Runs while pip builds or installs the distribution.
    INSTALL = "install"
    #: Copied into site-packages (or the scripts or data directory): may run at import time
    #: or when called.
    INSTALLED = "installed"
    #: Shipped but neither installed nor run by installing.
    INERT = "inert"


@dataclass(frozen=True, slots=True)
class Reach:
    """The role of every member of one distribution, and why."""

    #: Member path (as given) -> role.
    roles: Mapping[str, Role]
    #: Member path -> a short phrase for reports ("imported by setup.py").
    reasons: Mapping[str, str]
    #: Importable top-level names the distribution installs.
    top_level: tuple[str, ...]
    #: The installed set was guessed, not read from the build configuration.
    heuristic: bool = False
    #: Limits reached and other caveats, one phrase each.
    notes: tuple[str, ...] = ()

    def role(self, path: str) -> Role:
        """``path``'s role; a path not listed counts as installed (the riskier guess)."""
        role = self.roles.get(path) or self.roles.get(path.removeprefix("./"))
        return role if role is not None else Role.INSTALLED

    def reason(self, path: str) -> str:
        reason = self.reasons.get(path) or self.reasons.get(path.removeprefix("./"))
        return reason if reason is not None else "not listed in the distribution"

    def is_test(self, path: str) -> bool:
        """Whether ``path`` is test code (whatever its role): see :func:`is_test_path`."""
        return is_test_path(path)

    def paths(self, role: Role) -> tuple[str, ...]:
        """The member paths that have ``role``, sorted."""
        return tuple(sorted(path for path, r in self.roles.items() if r is role))


_TEST_DIRS: Final = frozenset({"tests", "test", "testing"})


def is_test_path(path: str) -> bool:
    """Whether ``path`` is test code: under a ``tests``/``test``/``testing`` directory, or a
    ``test_*.py``, ``*_test.py`` or ``conftest.py`` file. Says nothing about its role."""
    parts = path.split("/")
    name = parts[-1]
    return any(part in _TEST_DIRS for part in parts[:-1]) or (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )
