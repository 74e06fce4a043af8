"""verify._format.untrusted: package-provided text made safe for one line of a terminal."""

from __future__ import annotations

import pytest

from verify._format.untrusted import one_line, with_line_breaks

#: Every code point, surrogates included.
EVERY_CHARACTER = "".join(map(chr, range(0x110000)))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("demo/\x1b[2J\x1b[H.py", "demo/\\x1b[2J\\x1b[H.py"),
        ("a\nallow demo", "a\\nallow demo"),
        ("a\rallow demo", "a\\rallow demo"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("nul\x00 bell\x07 del\x7f", "nul\\x00 bell\\x07 del\\x7f"),
        ("c1 \x85 \x9b2J \x9f", "c1 \\x85 \\x9b2J \\x9f"),
        ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
        ("notes\u202eyp.txt", "notes\\u202eyp.txt"),
        ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        ("lone \udc80 surrogate", "lone \\udc80 surrogate"),
    ],
)
def test_unsafe_characters_become_visible_escapes(value: str, shown: str) -> None:
    assert one_line(value) == shown


@pytest.mark.parametrize(
    "value",
    [
        "",
        "demo-1.0-py3-none-any.whl",
        "Grüße, 日本語, emoji 🐍, Ελληνικά, עברית",
        # Backslashes stay as written: snippets are code.
        r"re.compile(r'\d+\n')",
        "C:\\path\\to\\file.py",
        "a\u200db\u00a0c",
    ],
)
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert one_line(value) == value
    assert with_line_breaks(value) == value


def test_every_printable_character_is_unchanged() -> None:
    printable = "".join(c for c in EVERY_CHARACTER if c.isprintable())
    assert one_line(printable) == printable


def test_nothing_escaped_can_break_a_line() -> None:
    # str.splitlines breaks at every character a terminal or editor may treat as a line end.
    shown = one_line(EVERY_CHARACTER)
    assert len(shown.splitlines()) == 1
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    bidi = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
    assert not any(c in shown for c in (*controls, *bidi, "\u2028", "\u2029"))
    shown.encode("utf-8")  # no lone surrogate is left to fail the output stream


def test_with_line_breaks_keeps_only_cr_and_lf() -> None:
    assert with_line_breaks("a\r\nb\x1b[2J\u202ec\td") == "a\r\nb\\x1b[2J\\u202ec\\td"
    kept = with_line_breaks(EVERY_CHARACTER)
    assert one_line(kept) == one_line(EVERY_CHARACTER)
    assert kept.count("\n") == 1
    assert kept.count("\r") == 1
