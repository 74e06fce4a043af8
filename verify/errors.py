"""The exception hierarchy of pip-verify.

Every failure that a user can cause or meet is a :class:`VerifyError`. The CLI maps each
class to one exit code, the same for every command:

* ``2``: :class:`UsageError` and its subclasses (bad arguments, unreadable input, invalid policy);
* ``3``: :class:`IncompleteError` and its subclasses (verification could not finish).

Policy denials (exit ``1``) are data in a report, never exceptions.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ArchiveError",
    "CacheError",
    "IncompleteError",
    "IndexResponseError",
    "InvalidInputError",
    "NetworkError",
    "OfflineError",
    "PolicyError",
    "ResolutionError",
    "UsageError",
    "VerifyError",
]


class VerifyError(Exception):
    """Base class of every error pip-verify raises on purpose.

    ``message`` says what failed; ``hint`` says what the user can do about it.
    """

    exit_code: int = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint, on one line, as the CLI prints them."""
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(VerifyError):
    """The command line or its inputs cannot be used as given (exit 2)."""

    exit_code = 2


class InvalidInputError(UsageError):
    """An input file (requirements, lock file, distribution) is malformed (exit 2)."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}", hint=hint)
        self.path = Path(path) if path is not None else None
        self.line = line


class PolicyError(InvalidInputError):
    """A policy file is invalid (exit 2)."""


class ArchiveError(InvalidInputError):
    """A distribution archive cannot be read safely: not an archive, truncated, or a member
    that breaks the reading limits (exit 2)."""


class IncompleteError(VerifyError):
    """Verification could not complete (exit 3); nothing may be installed."""

    exit_code = 3


class NetworkError(IncompleteError):
    """A host could not be reached, or answered with an error, after retries."""


class IndexResponseError(IncompleteError):
    """A package index answered with something that is not a valid simple API response."""


class ResolutionError(IncompleteError):
    """pip's resolver could not produce a dependency tree.

    ``unresolved`` names the requirement pip found no release of at all, when that is why:
    ``check`` then asks the indexes whether they serve the name (``name-unknown``).
    """

    def __init__(
        self, message: str, *, hint: str | None = None, unresolved: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.unresolved = unresolved


class CacheError(IncompleteError):
    """The local cache cannot be read or written."""


class OfflineError(IncompleteError):
    """Something needed the network while ``--offline`` was in force."""
