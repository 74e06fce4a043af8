"""Package-provided text made inert for the outputs people read.

Names, versions, archive member paths, metadata, snippets and decoded payloads come from the
package, so they may hold anything. Printed raw, an escape sequence redraws the reader's
terminal, a bidirectional override makes a path read differently from how it is stored, and
a line feed or carriage return starts a line the report never wrote (a forged verdict, say).
Renderers pass every such value through one of these functions; our own fixed text needs
none. Machine-readable outputs (the JSON report, SARIF's data) keep the exact values.

A replaced character is shown as Python's ``repr`` shows it, without the quotes: ``\\x1b``,
``\\n``, ``\\u202e``. Backslashes are left alone, so that ordinary code in snippets reads as
it is written; a name that spells out ``\\x1b`` and one that holds the character therefore
look alike, which only costs the reader a look at the JSON report.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE_CHARACTERS", "one_line", "with_line_breaks"]

#: C0 and C1 controls (line breaks and tabs included) and DEL; the line and paragraph
#: separators; the bidirectional embeddings, overrides and isolates; and lone surrogates,
#: which no output encoding can write.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# The same, but for CR and LF: for outputs whose own encoding carries line breaks safely.
_UNSAFE_BUT_BREAKS = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    character = match.group()
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(value: str) -> str:
    """``value`` safe to print within one line of terminal text: every unsafe character
    (see :data:`UNSAFE_CHARACTERS`) replaced by its visible escape; other text unchanged."""
    return UNSAFE_CHARACTERS.sub(_visible, value)


def with_line_breaks(value: str) -> str:
    """As :func:`one_line`, but CR and LF are kept, for an output that encodes them itself
    (a workflow command's %-encoding, which the runner turns back into line breaks)."""
    return _UNSAFE_BUT_BREAKS.sub(_visible, value)
