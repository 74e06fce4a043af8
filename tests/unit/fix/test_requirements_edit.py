"""The edits ``fix`` makes to a hashed requirements file, in-process: a pin rewritten in
place (extras and marker kept), a dependency added where its name sorts or at the end, and
edits placed by the file as read so that one never shifts another."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify.errors import UsageError
from verify.fix.requirements_edit import Pin, apply_pins

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def pin(name: str, version: str, *hashes: str, add: bool = False) -> Pin:
    return Pin(canonicalize_name(name), Version(version), hashes, add=add)


def edit(tmp_path: Path, text: str, *pins: Pin) -> str:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    return apply_pins(text, path, pins)


SORTED = (
    "# pinned by hand\n"
    f"Bar[x]==1.0 ; python_version >= '3' \\\n    --hash=sha256:{H1}\n"
    f"foo==1.0 --hash=sha256:{H1}\n"
    "# the end\n"
)


def test_a_new_pin_goes_where_its_name_sorts_and_a_moved_one_stays(tmp_path: Path) -> None:
    text = edit(
        tmp_path,
        SORTED,
        pin("baz", "1.0", H2, add=True),
        pin("bar", "2.0", H2, H3),
        pin("foo", "1.2", H3),
    )
    assert text == (
        "# pinned by hand\n"
        f'Bar[x]==2.0 ; python_version >= "3" \\\n    --hash=sha256:{H2} \\\n'
        f"    --hash=sha256:{H3}\n"
        f"baz==1.0 \\\n    --hash=sha256:{H2}\n"
        f"foo==1.2 \\\n    --hash=sha256:{H3}\n"
        "# the end\n"
    )


def test_a_new_pin_after_every_name_and_in_an_unsorted_file_goes_at_the_end(
    tmp_path: Path,
) -> None:
    unsorted = f"foo==1.0 --hash=sha256:{H1}\nbar==1.0 --hash=sha256:{H1}"
    added = f"baz==1.0 \\\n    --hash=sha256:{H2}\n"
    assert edit(tmp_path, unsorted, pin("baz", "1.0", H2, add=True)) == unsorted + "\n" + added
    assert edit(tmp_path, SORTED, pin("zed", "1.0", H2, add=True)) == SORTED + (
        f"zed==1.0 \\\n    --hash=sha256:{H2}\n"
    )


def test_a_later_pin_of_a_name_replaces_an_earlier_one(tmp_path: Path) -> None:
    text = edit(tmp_path, SORTED, pin("baz", "1.0", H2, add=True), pin("baz", "1.1", H3, add=True))
    assert "baz==1.1 \\\n" in text
    assert "baz==1.0" not in text


def test_a_pin_of_a_name_the_file_lacks_is_an_error_unless_added(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot find baz's line"):
        edit(tmp_path, SORTED, pin("baz", "1.0", H2))


def test_lines_of_an_included_file_and_options_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text(f"baz==1.0 --hash=sha256:{H1}\n", encoding="utf-8")
    text = f"--index-url https://a.example/simple/\n-r other.txt\nfoo==1.0 --hash=sha256:{H1}\n"
    assert edit(tmp_path, text, pin("foo", "1.2", H2)) == (
        f"--index-url https://a.example/simple/\n-r other.txt\nfoo==1.2 \\\n"
        f"    --hash=sha256:{H2}\n"
    )
