"""Who may review: the reviewers named in a file given at start-up (``--review-tokens``), one
``NAME:TOKEN`` per line. They sign in with HTTP Basic authentication (the name and the token).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from verify.errors import UsageError

__all__ = ["Reviewers"]


@dataclass(frozen=True, slots=True)
class Reviewers:
    """The people who may review, by name, with their tokens."""

    tokens: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> Reviewers:
        """Read ``NAME:TOKEN`` lines (``#`` comments and blank lines skipped).

        Raises :class:`~verify.errors.UsageError` for a file that cannot be read, a line
        that is not ``NAME:TOKEN``, a token shorter than 16 characters, or no reviewer at all.
        """
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read the reviewers file {path}: {exc.strerror}",
                hint="one NAME:TOKEN per line",
            ) from exc
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"the reviewers file {path} is not UTF-8 text", hint="one NAME:TOKEN per line"
            ) from exc
        tokens: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            if not sep or not name.strip() or len(token.strip()) < 16:
                raise UsageError(
                    f"{path}:{number}: not NAME:TOKEN with a token of 16 characters or more",
                    hint="e.g. alice:$(python -c 'import secrets; print(secrets.token_urlsafe())')",
                )
            tokens[name.strip()] = token.strip()
        if not tokens:
            raise UsageError(f"{path} names no reviewer", hint="one NAME:TOKEN per line")
        return cls(tokens)

    def who(self, username: str | None, password: str | None) -> str | None:
        """The reviewer these credentials sign in, or ``None``."""
        if username is None or password is None:
            return None
        expected = self.tokens.get(username)
        if expected is None:
            # Compare anyway, so a wrong name takes as long as a wrong token.
            hmac.compare_digest(password.encode(), b"\0" * 32)
            return None
        return username if hmac.compare_digest(password.encode(), expected.encode()) else None
