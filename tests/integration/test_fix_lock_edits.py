"""What ``pip-verify fix`` writes into a ``pylock.toml`` and prints for the locks other tools
own, in-process and without an index: each layout of a ``pylock.toml`` is rewritten in that
layout with every other byte kept, anything that cannot be rewritten faithfully is refused
(nothing is written then), and the commands for ``poetry.lock`` and ``Pipfile.lock`` fit the
groups the lock puts each package in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._documents import parse_toml
from verify._resolve.lock_commands import lock_commands
from verify._resolve.lockfields import LockKind
from verify._resolve.pylock import read_pylock
from verify._resolve.pylock_write import (
    PylockEdit,
    confirm_edits,
    find_entry,
    release_files,
    rewrite,
)
from verify._resolve.toml_text import scan, toml_value
from verify.check import CheckSettings
from verify.errors import InvalidInputError, UsageError
from verify.fix import FixSettings, run_fix
from verify.models import IndexFile
from verify.settings import InputSettings

PATH = Path("pylock.toml")
FOO = canonicalize_name("foo")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
OLD_SHA = "a" * 64
#: What the index gives beside the URL and the digest, as written after them.
SIZED = ", upload-time = 2024-01-02T03:04:05Z, size = 10"


def inline(filename: str, digest: str = OLD_SHA, extra: str = "") -> str:
    url = f"https://files.example/{filename}"
    return f'{{ url = "{url}", hashes = {{ sha256 = "{digest}" }}{extra} }}'


WHEEL = inline("foo-1.0-py3-none-any.whl")
SDIST = f"sdist = {inline('foo-1.0.tar.gz')}"


def index_file(
    filename: str,
    digest: str = "b" * 64,
    *,
    url: str | None = None,
    size: int | None = 10,
    upload_time: datetime | None = WHEN,
) -> IndexFile:
    return IndexFile(
        filename=filename,
        url=url or f"https://files.example/{filename}",
        hashes={"sha256": digest},
        index_url="https://index.example/simple/",
        size=size,
        upload_time=upload_time,
    )


def move(text: str, *files: IndexFile, line: int | None = None) -> str:
    """``text`` with foo 1.0 moved to 1.2, whose files are ``files``."""
    entry = find_entry(text, PATH, FOO, Version("1.0"), line)
    chosen = release_files(entry, files)
    assert not isinstance(chosen, str), chosen
    return rewrite(text, PATH, [PylockEdit(entry, Version("1.2"), chosen)])


def lock(*body: str) -> str:
    return "\n".join(['lock-version = "1.0"', 'created-by = "tests"', "", *body, ""])


def test_an_inline_array_of_several_lines_keeps_its_indent_and_drops_its_comments() -> None:
    text = lock(
        "[[packages]]",
        'name = "foo"',
        "version = '1.0'",
        "wheels = [",
        "  # one per platform",
        f"  {WHEEL},",
        "]",
        SDIST,
        "marker = \"python_version >= '3.10'\"",
    )
    moved = move(
        text,
        index_file("foo-1.2-py3-none-any.whl", size=None, upload_time=None),
        index_file("foo-1.2-cp311-abi3-manylinux_2_17_x86_64.whl", "c" * 64),
        index_file("foo-1.2.zip", "e" * 64),
        index_file("foo-1.2.tar.gz", "d" * 64),
        index_file("foo_evil-1.2-py3-none-any.whl", "f" * 64),  # another project's
        index_file("foo-1.2-bad.whl", "f" * 64),  # not a wheel's name
    )
    assert moved == lock(
        "[[packages]]",
        'name = "foo"',
        "version = '1.2'",
        "wheels = [",
        f"  {inline('foo-1.2-cp311-abi3-manylinux_2_17_x86_64.whl', 'c' * 64, SIZED)},",
        f"  {inline('foo-1.2-py3-none-any.whl', 'b' * 64)},",
        "]",
        f"sdist = {inline('foo-1.2.tar.gz', 'd' * 64, SIZED)}",
        "marker = \"python_version >= '3.10'\"",
    )


def test_one_wheel_on_one_line_becomes_an_indented_array_for_several() -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]")
    moved = move(
        text,
        index_file("foo-1.2-py3-none-any.whl", "c" * 64, size=None, upload_time=None),
        index_file("foo-1.2-py2.py3-none-any.whl", size=None, upload_time=None),
    )
    assert moved.endswith(
        'version = "1.2"\nwheels = [\n'
        f"    {inline('foo-1.2-py2.py3-none-any.whl', 'b' * 64)},\n"
        f"    {inline('foo-1.2-py3-none-any.whl', 'c' * 64)},\n"
        "]\n"
    )


def test_wheel_tables_with_inline_hashes_are_written_as_tables_where_the_first_was() -> None:
    """Two ``[[packages.wheels]]`` tables around a tool table: the new wheels take the first
    one's place and the second goes with the blank lines before it; the tool table stays."""
    text = lock(
        "[[packages]]",
        'name = "foo"',
        'version = "1.0"',
        "",
        "  [[packages.wheels]]",
        '  name = "foo-1.0-py3-none-any.whl"',
        '  url = "https://files.example/foo-1.0-py3-none-any.whl"',
        f'  hashes = {{ sha256 = "{OLD_SHA}" }}',
        "",
        "  [packages.tool.example]",
        "  reviewed = true",
        "",
        "  [[packages.wheels]]",
        '  name = "foo-1.0-py2-none-any.whl"',
        '  url = "https://files.example/foo-1.0-py2-none-any.whl"',
        f'  hashes = {{ sha256 = "{OLD_SHA}" }}',
        "",
        "[tool.example]",
        "kept = true",
    )
    moved = move(
        text,
        index_file(
            "foo-1.2-py3-none-any.whl",
            url="https://user:secret@files.example/foo-1.2-py3-none-any.whl?x=1",
        ),
    )
    assert moved == lock(
        "[[packages]]",
        'name = "foo"',
        'version = "1.2"',
        "",
        "  [[packages.wheels]]",
        '  name = "foo-1.2-py3-none-any.whl"',
        '  url = "https://files.example/foo-1.2-py3-none-any.whl?x=1"',
        f'  hashes = {{ sha256 = "{"b" * 64}" }}',
        "  upload-time = 2024-01-02T03:04:05Z",
        "  size = 10",
        "",
        "  [packages.tool.example]",
        "  reviewed = true",
        "",
        "[tool.example]",
        "kept = true",
    )


def test_an_entry_with_an_sdist_only_gets_the_new_sdist() -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', SDIST)
    moved = move(text, index_file("foo-1.2-py3-none-any.whl"), index_file("foo-1.2.tar.gz"))
    assert moved == lock(
        "[[packages]]",
        'name = "foo"',
        'version = "1.2"',
        f"sdist = {inline('foo-1.2.tar.gz', 'b' * 64, SIZED)}",
    )


def test_a_byte_order_mark_and_a_last_line_without_newline_stay() -> None:
    text = "\ufeff" + lock("[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]")
    moved = move(
        text.rstrip("\n"), index_file("foo-1.2-py3-none-any.whl", size=None, upload_time=None)
    )
    assert moved.startswith('\ufefflock-version = "1.0"\n')
    assert moved.endswith(f'hashes = {{ sha256 = "{"b" * 64}" }} }}]')


def test_of_two_entries_with_the_same_version_the_one_on_the_line_is_moved() -> None:
    entry = ["[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]"]
    text = lock(*entry, "marker = \"sys_platform == 'win32'\"", "", *entry)
    with pytest.raises(InvalidInputError, match="cannot tell which"):
        find_entry(text, PATH, FOO, Version("1.0"), None)
    moved = move(text, index_file("foo-1.2-py3-none-any.whl"), line=10)
    assert moved.count('\nversion = "1.0"') == 1
    assert moved.index('\nversion = "1.0"') < moved.index('\nversion = "1.2"')


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (
            ['archive = { url = "https://files.example/foo.zip", hashes = { sha256 = "aa" } }'],
            "not from an index",
        ),
        (
            ['vcs = { type = "git", url = "https://git.example/foo", commit-id = "ab" }'],
            "not from an index",
        ),
        (['directory = { path = "." }'], "not from an index"),
        ([f"wheels = [{WHEEL.replace('url = ', 'path = ')}]"], "local files"),
        (['requires-python = ">=3.10"'], "no wheels and no sdist"),
        (
            [
                'sdist.url = "https://files.example/foo-1.0.tar.gz"',
                f'sdist.hashes = {{ sha256 = "{OLD_SHA}" }}',
            ],
            "dotted keys",
        ),
    ],
)
def test_entries_that_cannot_be_rewritten_faithfully_are_refused(
    entry: list[str], reason: str
) -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', *entry)
    with pytest.raises(InvalidInputError, match=reason):
        find_entry(text, PATH, FOO, Version("1.0"), None)


def test_a_version_written_otherwise_than_as_one_plain_string_is_refused() -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = """1.0"""', f"wheels = [{WHEEL}]")
    with pytest.raises(InvalidInputError, match="one plain string"):
        find_entry(text, PATH, FOO, Version("1.0"), None)


@pytest.mark.parametrize(
    "body",
    [
        [f'packages = [{{ name = "foo", version = "1.0", wheels = [{WHEEL}] }}]'],
        ["[[packages]]", 'name = "foo"', 'version = "1.1"', f"wheels = [{WHEEL}]"],
        ["[[packages]]", 'name = "foo"', 'version = "not a version"', f"wheels = [{WHEEL}]"],
    ],
)
def test_an_entry_that_is_not_there_as_a_table_is_refused(body: list[str]) -> None:
    with pytest.raises(InvalidInputError, match="cannot"):
        find_entry(lock(*body), PATH, FOO, Version("1.0"), None)


def test_a_value_toml_cannot_hold_is_refused_not_written_otherwise() -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]")
    with pytest.raises(InvalidInputError, match="faithfully"):
        move(text, index_file("foo-1.2-py3-none-any.whl", url="https://files.example/\ud800.whl"))


def test_files_of_other_kinds_than_the_entrys_are_refused() -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]")
    entry = find_entry(text, PATH, FOO, Version("1.0"), None)
    edit = PylockEdit(entry, Version("1.2"), (index_file("foo-1.2.tar.gz"),))
    with pytest.raises(InvalidInputError, match="other kinds of files"):
        rewrite(text, PATH, [edit])


def test_a_release_without_the_kinds_of_files_the_entry_has_is_passed_over() -> None:
    text = lock(
        "[[packages]]",
        'name = "foo"',
        'version = "1.0"',
        f"wheels = [{WHEEL}]",
        SDIST,
    )
    entry = find_entry(text, PATH, FOO, Version("1.0"), None)
    assert "no wheel" in str(release_files(entry, [index_file("foo-1.2.tar.gz")]))
    wheel = index_file("foo-1.2-py3-none-any.whl")
    assert "no sdist" in str(release_files(entry, [wheel]))


def test_the_rewritten_lock_must_read_back_with_each_release_and_its_files(
    tmp_path: Path,
) -> None:
    text = lock("[[packages]]", 'name = "foo"', 'version = "1.0"', f"wheels = [{WHEEL}]")
    path = tmp_path / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    entry = find_entry(text, path, FOO, Version("1.0"), None)
    edit = PylockEdit(entry, Version("1.2"), (index_file("foo-1.2-py3-none-any.whl"),))
    with pytest.raises(InvalidInputError, match=r"does not pin foo 1\.2"):
        confirm_edits(read_pylock(path), [edit], path)
    path.write_text(rewrite(text, path, [edit]), encoding="utf-8")
    confirm_edits(read_pylock(path), [edit], path)


def test_toml_values_read_back_as_written() -> None:
    plus_two = timezone(timedelta(hours=2))
    values = {
        "text": 'a "quoted" \\ back\tslash\x7f',
        "aware": datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=plus_two),
        "naive": datetime(2024, 1, 2, 3, 4, 5),
        "table": {"n": 3, "yes": True, "no": False},
    }
    assert parse_toml(f"x = {toml_value(values)}", PATH) == {"x": values}


@pytest.mark.parametrize("line", ["[packages\n", "a = [\n", "= 1\n"])
def test_a_line_toml_cannot_read_is_named(line: str) -> None:
    with pytest.raises(InvalidInputError, match=r"pylock.toml:2: cannot rewrite the file"):
        scan(["# first\n", line], PATH, hint="")


def test_commands_for_poetry_name_the_packages_group_from_old_and_new_locks() -> None:
    def poetry(entry: str) -> str:
        others = '[[package]]\nname = "foo"\nversion = "x"\n\n[[package]]\nname = "bar"\n'
        return f'{others}version = "1.0"\n\n[[package]]\nname = "Foo"\nversion = "1.0"\n{entry}\n'

    moves = [(FOO, Version("1.0"), Version("1.2"))]
    path = Path("poetry.lock")
    assert lock_commands(LockKind.POETRY, poetry('category = "dev"'), path, moves) == (
        "poetry add --lock --group dev foo==1.2",
    )
    assert lock_commands(LockKind.POETRY, poetry('groups = ["main", "dev"]'), path, moves) == (
        "poetry add --lock foo==1.2",
    )
    assert lock_commands(LockKind.POETRY, poetry("groups = 3"), path, moves) == (
        "poetry add --lock foo==1.2",
    )
    with pytest.raises(InvalidInputError, match="not a name fix can put in a command"):
        lock_commands(LockKind.POETRY, poetry('groups = ["dev; rm -rf ~"]'), path, moves)
    with pytest.raises(ValueError, match="writes pylock itself"):
        lock_commands(LockKind.PYLOCK, "", PATH, moves)


def test_commands_for_pipenv_read_a_lock_with_a_byte_order_mark() -> None:
    document = {"_meta": {}, "default": {}, "develop": {"Foo": {"version": "==1.0"}}}
    text = "\ufeff" + json.dumps(document)
    moves = [(FOO, Version("1.0"), Version("1.2"))]
    assert lock_commands(LockKind.PIPFILE, text, Path("Pipfile.lock"), moves) == (
        "pipenv upgrade --lock-only --dev foo==1.2",
    )


def test_fix_takes_a_lock_file_pip_verify_knows(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("a = 1\n", encoding="utf-8")
    settings = FixSettings(check=CheckSettings(inputs=InputSettings(lock_files=(other,))))
    with pytest.raises(UsageError, match="not a lock file pip-verify knows"):
        run_fix(settings)
