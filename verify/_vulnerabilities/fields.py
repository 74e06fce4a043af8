"""Reading fields of decoded JSON (OSV records, API answers) without trusting their types, and
tidying their text to one line."""

from __future__ import annotations

__all__ = ["objects", "one_line", "short", "text", "texts"]


def text(value: object) -> str | None:
    """``value`` if it is a string."""
    return value if isinstance(value, str) else None


def texts(value: object) -> list[str]:
    """The strings of ``value`` if it is a list."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def objects(value: object) -> list[dict[str, object]]:
    """The objects of ``value`` if it is a list."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def one_line(value: str | None) -> str | None:
    """``value`` with its whitespace runs collapsed; ``None`` when nothing is left."""
    joined = " ".join(value.split()) if value else ""
    return joined or None


def short(value: object, limit: int = 200) -> str:
    """``value`` as one line of at most ``limit`` characters."""
    line = " ".join(str(value).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
