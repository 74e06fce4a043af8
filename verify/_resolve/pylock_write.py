"""Move packages of a PEP 751 lock file (``pylock.toml``) to other releases, as text.

``pip-verify fix`` changes an entry's ``version`` and its files (``wheels``, ``sdist``) and
nothing else: comments, order, spacing and every other table stay byte for byte. tomlkit is
not a dependency, and neither TOML library we have keeps a file's layout (``tomllib`` only
reads; ``tomli-w`` writes a document anew, without its comments), so the change is made on the
text. The file is cut into table headers and statements; a statement's extent is the shortest
run of lines that TOML parses on its own, so a multi-line array or string is never cut. The
entry's ``version`` value is replaced where it is written, and its file tables are replaced in
the layout they had: inline (``wheels = [{ ... }]`` and ``sdist = { ... }``, as uv writes them)
or as tables (``[[packages.wheels]]`` and ``[packages.sdist]``, with ``hashes`` inline or as
their own table, as pip writes them).

Fail closed: the rewritten text is parsed again and must equal the old document with exactly
the intended changes, or :class:`~verify.errors.InvalidInputError` is raised and the caller
writes nothing. Entries whose files are not an index's (an archive, a VCS checkout, a
directory, local paths) and layouts this module does not know are refused the same way.

Each new file gets ``url`` and ``hashes.sha256``, ``size`` and ``upload-time`` when the index
gives them, and ``name`` when the old entry's files had one; keys the old files had come first,
in their order. The URL drops any user name and password the index URL carried: credentials
must never end up in a lock file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from verify._documents import parse_toml
from verify._resolve.lockfields import is_entry_of
from verify._resolve.pylock import LockedPackage
from verify._resolve.toml_text import TomlItem, indent, scan, split_lines, toml_value
from verify.errors import InvalidInputError
from verify.models import IndexFile

__all__ = ["PylockEdit", "PylockEntry", "confirm_edits", "find_entry", "release_files", "rewrite"]

_HINT = "move the package with the tool that wrote the lock, or edit its entry by hand"
#: The keys a new file table may have, in PEP 751's order.
_FILE_KEYS = ("name", "upload-time", "url", "size", "hashes")
_SDIST_SUFFIXES = (".tar.gz", ".zip")
_FILE_KINDS = ("wheels", "sdist")
_VERSION_RE = re.compile(
    r"""^(?P<head>[ \t]*(?:version|"version"|'version')[ \t]*=[ \t]*)"""
    r"""(?P<quote>["'])[^"'\\\r\n]*(?P=quote)(?P<tail>[ \t]*(?:#[^\r\n]*)?(?:\r?\n)?)\Z"""
)
#: An inline file table's statement, up to its opening bracket.
_INLINE_RE = {
    "wheels": re.compile(r"""^[ \t]*(?:wheels|"wheels"|'wheels')[ \t]*=[ \t]*(?=\[)"""),
    "sdist": re.compile(r"""^[ \t]*(?:sdist|"sdist"|'sdist')[ \t]*=[ \t]*(?=\{)"""),
}


@dataclass(frozen=True, slots=True)
class PylockEntry:
    """One ``[[packages]]`` entry that :func:`rewrite` can move to another release."""

    name: NormalizedName
    version: Version
    #: The 1-based line of the entry's ``[[packages]]`` header.
    line: int
    #: The entry's ``index`` key: the new files must come from that index.
    index: str | None
    wheels: bool
    sdist: bool


@dataclass(frozen=True, slots=True)
class PylockEdit:
    """Move ``entry`` to ``version``, whose files (from :func:`release_files`) are ``files``."""

    entry: PylockEntry
    version: Version
    files: tuple[IndexFile, ...]


@dataclass(frozen=True, slots=True)
class _Document:
    bom: str
    lines: list[str]
    data: dict[str, Any]
    #: Each ``[[packages]]`` entry's items (its header first), in the file's order.
    entries: list[list[TomlItem]]


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where an entry's changing values are written."""

    version: TomlItem
    version_match: re.Match[str]
    #: The items of the ``wheels`` and of the ``sdist``: one inline statement, or tables
    #: (headers and their statements).
    files: dict[str, list[TomlItem]] = field(default_factory=dict)
    #: An inline statement's text up to its bracket (``wheels = ``), by kind.
    heads: dict[str, str] = field(default_factory=dict)


def find_entry(
    text: str, path: Path, name: NormalizedName, version: Version, line: int | None
) -> PylockEntry:
    """The entry of ``name`` ``version`` (the one at ``line`` when several match), checked to
    be one :func:`rewrite` can move, before any release is looked for.

    :raises InvalidInputError: no such entry, or one that cannot be rewritten faithfully.
    """
    document = _read(text, path)
    position = _locate(document, path, name, version, line)
    _layout(document, position, path)
    package = document.data["packages"][position]
    index = package.get("index")
    return PylockEntry(
        name=name,
        version=version,
        line=document.entries[position][0].start + 1,
        index=index if isinstance(index, str) else None,
        wheels="wheels" in package,
        sdist="sdist" in package,
    )


def release_files(entry: PylockEntry, files: Sequence[IndexFile]) -> tuple[IndexFile, ...] | str:
    """The files of a release that replace ``entry``'s: every wheel if it had wheels, and the
    sdist if it had one; or why the release cannot replace it. A file whose name spells
    another project, which a page may list, is not one of them."""
    files = [f for f in files if _project(f.filename) == entry.name]
    wheels = {f.filename: f for f in files if f.filename.endswith(".whl")}
    sdists = [f for suffix in _SDIST_SUFFIXES for f in files if f.filename.endswith(suffix)]
    chosen: list[IndexFile] = []
    if entry.wheels:
        if not wheels:
            return "no wheel on the index, and the lock's entry has wheels"
        chosen += [wheels[filename] for filename in sorted(wheels)]
    if entry.sdist:
        if not sdists:
            return "no sdist on the index, and the lock's entry has one"
        chosen.append(sdists[0])  # a .tar.gz first: PEP 625's format
    return tuple(chosen)


def _project(filename: str) -> NormalizedName | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def rewrite(text: str, path: Path, edits: Sequence[PylockEdit]) -> str:
    """``text`` with each edit's entry moved to its release, and nothing else changed.

    :raises InvalidInputError: an edit cannot be made faithfully; nothing should be written.
    """
    document = _read(text, path)
    packages = list(document.data["packages"])
    replacements: list[tuple[int, int, str]] = []
    for edit in edits:
        entry = edit.entry
        position = _locate(document, path, entry.name, entry.version, entry.line)
        new = _moved(packages[position], edit, path)
        packages[position] = new
        replacements += _replacements(document, _layout(document, position, path), new)
    result = _apply(document.lines, replacements)
    try:
        rewritten = parse_toml(result, path)
    except InvalidInputError:  # pragma: no cover - built to parse; a backstop like the next
        rewritten = None
    if rewritten != {**document.data, "packages": packages}:
        raise InvalidInputError(
            "cannot rewrite the lock faithfully: the result does not read as intended",
            path=path,
            hint=_HINT,
        )
    return document.bom + result


def confirm_edits(
    packages: Sequence[LockedPackage], edits: Sequence[PylockEdit], path: Path
) -> None:
    """Check that the rewritten lock, as pip-verify's own reader reads it, pins each edit's
    release with exactly its files' sha256 digests.

    :raises InvalidInputError: it does not.
    """
    for edit in edits:
        wanted = {f.hashes["sha256"] for f in edit.files}
        if not any(
            p.candidate.name == edit.entry.name
            and p.candidate.version == edit.version
            and p.candidate.allowed_sha256 == wanted
            for p in packages
        ):
            raise InvalidInputError(
                f"the rewritten lock does not pin {edit.entry.name} {edit.version} to its files",
                path=path,
                hint=_HINT,
            )


def _read(text: str, path: Path) -> _Document:
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    data = parse_toml(body, path, hint="fix the lock file's syntax")
    lines = split_lines(body)
    entries: list[list[TomlItem]] = []
    for item in scan(lines, path, hint=_HINT):
        if item.header == ("packages",) and item.array:
            entries.append([item])
        elif item.header is not None and item.header[0] != "packages":
            entries.append([])  # a table after the packages ends the last entry
        elif entries and entries[-1]:
            entries[-1].append(item)
    entries = [entry for entry in entries if entry]
    packages = data.get("packages")
    if not isinstance(packages, list) or len(packages) != len(entries):
        raise InvalidInputError(
            "cannot rewrite the lock: its packages are not written as [[packages]] tables",
            path=path,
            hint=_HINT,
        )
    return _Document(bom, lines, data, entries)


def _locate(
    document: _Document, path: Path, name: NormalizedName, version: Version, line: int | None
) -> int:
    found = [
        position
        for position, package in enumerate(document.data["packages"])
        if is_entry_of(package, name, version)
    ]
    if len(found) > 1 and line is not None:
        found = [p for p in found if document.entries[p][0].start + 1 == line]
    if len(found) != 1:
        raise InvalidInputError(
            f"cannot tell which [[packages]] entry is {name} {version}",
            path=path,
            line=line,
            hint=_HINT,
        )
    return found[0]


def _layout(document: _Document, position: int, path: Path) -> _Layout:
    """Where the entry's ``version``, ``wheels`` and ``sdist`` are written; refused when they
    are not written in a way this module rewrites."""
    package = document.data["packages"][position]
    line = document.entries[position][0].start + 1

    def refuse(why: str) -> InvalidInputError:
        return InvalidInputError(
            f"cannot rewrite {package.get('name')}'s entry: {why}", path=path, line=line, hint=_HINT
        )

    for key in ("archive", "vcs", "directory"):
        if key in package:
            raise refuse(f"its files are not from an index (it has {key!r})")
    files = [*package.get("wheels", ()), *([package["sdist"]] if "sdist" in package else [])]
    if not files:
        raise refuse("it names no wheels and no sdist")
    if any(not isinstance(f, dict) or "path" in f or "url" not in f for f in files):
        raise refuse("it names local files, not an index's URLs")
    found: dict[str, list[TomlItem]] = {"version": [], "wheels": [], "sdist": []}
    table: tuple[str, ...] = ()  # the entry's sub-table the items are in
    for item in document.entries[position][1:]:
        table = item.header or table
        if table[1:2] in (("wheels",), ("sdist",)):
            found[table[1]].append(item)
        elif not table and item.key in found:
            found[str(item.key)].append(item)
    version = found["version"]
    match = _VERSION_RE.match(document.lines[version[0].start]) if len(version) == 1 else None
    if match is None or version[0].end - version[0].start != 1:
        raise refuse("its version is not one plain string on one line")
    layout = _Layout(version[0], match)
    for kind in _FILE_KINDS:
        items = layout.files[kind] = found[kind]
        if items and items[0].header is None:
            head = _INLINE_RE[kind].match(document.lines[items[0].start])
            if len(items) != 1 or head is None:
                raise refuse(f"its {kind} table is written with dotted keys")
            layout.heads[kind] = head.group()
    return layout


def _moved(old: Mapping[str, Any], edit: PylockEdit, path: Path) -> dict[str, Any]:
    """The entry's new table: ``old`` with the edit's version and files."""
    wheels = [f for f in edit.files if f.filename.endswith(".whl")]
    sdists = [f for f in edit.files if not f.filename.endswith(".whl")]
    if bool(wheels) != edit.entry.wheels or bool(sdists) != edit.entry.sdist:
        raise InvalidInputError(
            f"cannot rewrite {edit.entry.name}'s entry: {edit.version} has other kinds of files",
            path=path,
            line=edit.entry.line,
            hint=_HINT,
        )
    new = {**old, "version": str(edit.version)}
    if wheels:
        new["wheels"] = [_file_table(f, old["wheels"][0]) for f in wheels]
    if sdists:
        new["sdist"] = _file_table(sdists[0], old["sdist"])
    return new


def _replacements(
    document: _Document, layout: _Layout, new: Mapping[str, Any]
) -> list[tuple[int, int, str]]:
    lines, match = document.lines, layout.version_match
    quote = match.group("quote")
    version = f"{match.group('head')}{quote}{new['version']}{quote}{match.group('tail')}"
    replacements = [(layout.version.start, layout.version.end, version)]
    newline = "\r\n" if lines[layout.version.start].endswith("\r\n") else "\n"
    for kind in _FILE_KINDS:
        items = layout.files[kind]
        if not items:
            continue
        tables: list[dict[str, Any]] = new[kind] if kind == "wheels" else [new[kind]]
        if kind in layout.heads:
            head = layout.heads[kind]
            replacements.append(_inline(lines, items[0], head, kind, tables, newline))
        else:
            replacements += _tables(lines, items, kind, tables, newline)
    return replacements


def _inline(
    lines: list[str],
    item: TomlItem,
    head: str,
    kind: str,
    tables: list[dict[str, Any]],
    newline: str,
) -> tuple[int, int, str]:
    """Replace an inline ``wheels = [...]`` or ``sdist = {...}`` statement: one line, or one
    line per wheel when the old one had several lines or the release has several wheels."""
    values = [toml_value(t) for t in tables]
    if kind == "sdist":
        return item.start, item.end, f"{head}{values[0]}{newline}"
    if item.end - item.start == 1 and len(values) == 1:
        return item.start, item.end, f"{head}[{values[0]}]{newline}"
    inner = indent(lines[item.start + 1]) if item.end - item.start > 1 else ""
    inner = inner or indent(head) + "    "
    body = "".join(f"{inner}{value},{newline}" for value in values)
    return item.start, item.end, f"{head}[{newline}{body}{indent(head)}]{newline}"


def _tables(
    lines: list[str], items: list[TomlItem], kind: str, tables: list[dict[str, Any]], newline: str
) -> list[tuple[int, int, str]]:
    """Replace ``[[packages.wheels]]`` or ``[packages.sdist]`` tables, each with its
    ``hashes`` inline or as a table of its own, as the old ones had it."""
    separate = any(i.header is not None and len(i.header) == 3 for i in items)
    statements = [i for i in items if i.header is None]
    inner = indent(lines[statements[0].start]) if statements else ""
    outer = indent(lines[items[0].start])
    title = "[[packages.wheels]]" if kind == "wheels" else "[packages.sdist]"
    blocks: list[str] = []
    for table in tables:
        fields = {k: v for k, v in table.items() if not (separate and k == "hashes")}
        block = [f"{outer}{title}"] + [f"{inner}{k} = {toml_value(v)}" for k, v in fields.items()]
        blocks.append(newline.join(block) + newline)
        if separate:
            hashes = [f"{inner}{k} = {toml_value(v)}" for k, v in table["hashes"].items()]
            blocks.append(newline.join([f"{outer}[packages.{kind}.hashes]", *hashes]) + newline)
    groups = _groups(lines, items)
    replacements = [(groups[0][0], groups[0][1], newline.join(blocks))]
    for start, end in groups[1:]:
        while not lines[start - 1].strip():
            start -= 1  # the blank lines before a removed table go with it
        replacements.append((start, end, ""))
    return replacements


def _groups(lines: list[str], items: list[TomlItem]) -> list[tuple[int, int]]:
    """The line ranges of ``items``, runs separated only by blank lines joined."""
    groups: list[tuple[int, int]] = []
    for item in items:
        if groups and all(not line.strip() for line in lines[groups[-1][1] : item.start]):
            groups[-1] = (groups[-1][0], item.end)
        else:
            groups.append((item.start, item.end))
    return groups


def _apply(lines: list[str], replacements: list[tuple[int, int, str]]) -> str:
    out: list[str] = []
    position = 0
    for start, end, text in sorted(replacements):
        out += lines[position:start]
        if end == len(lines) and not lines[-1].endswith("\n"):
            text = text.rstrip("\r\n")  # a file that ended without a newline still does
        out.append(text)
        position = end
    return "".join(out + lines[position:])


def _file_table(file: IndexFile, old: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": file.filename if "name" in old else None,
        "upload-time": file.upload_time,
        "url": _without_credentials(file.url),
        "size": file.size,
        "hashes": {"sha256": file.hashes["sha256"]},
    }
    order = [k for k in old if k in _FILE_KEYS] + [k for k in _FILE_KEYS if k not in old]
    return {key: values[key] for key in order if values[key] is not None}


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, ""))
