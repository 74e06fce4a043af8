"""Which files a release added, removed or changed, and what its file list says on its own.

For wheels the comparison uses each side's ``RECORD``: a file whose path, RECORD digest,
size and zip CRC are the same on both sides is unchanged and is never decompressed. The
files that are read (added or changed) are checked against the new wheel's RECORD, so a
RECORD that lies about them is caught. sdists have no RECORD: zip sdists compare CRC and
size, tar sdists (already read in one streaming pass) compare sha256.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from verify._dist.archive import Archive, Member, MemberKind
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.errors import ArchiveError
from verify.models import Finding

__all__ = [
    "NATIVE_SUFFIXES",
    "FileDiff",
    "RecordEntry",
    "check_record",
    "diff_files",
    "digest_as_recorded",
    "language_of",
    "read_record",
    "record_digest",
]

#: Extension modules and shared libraries, by name.
NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")
#: Files a wheel's RECORD lists without a hash, or does not list at all (PEP 376, PEP 427).
_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")

_LANGUAGES = {
    ".py": "python",
    ".pyw": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "javascript",
    ".sh": "shell",
    ".bash": "shell",
    ".ps1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".vbs": "vbscript",
    ".exe": "executable",
    ".jar": "java",
    ".class": "java",
    ".go": "go",
    ".rs": "rust",
    ".rb": "ruby",
    ".pl": "perl",
    ".php": "php",
    ".lua": "lua",
    ".wasm": "webassembly",
}


def language_of(path: str) -> str | None:
    """The programming language a file is in, by its suffix (``None`` for data)."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in NATIVE_SUFFIXES:
        return "native"
    return _LANGUAGES.get(suffix)


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One line of a wheel's RECORD."""

    path: str
    algorithm: str | None
    digest: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class FileDiff:
    """How two file lists differ. Without a baseline every file is ``added``."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def record_digest(data: bytes, algorithm: str = "sha256") -> str:
    """``data``'s digest as RECORD writes it: urlsafe base64 without padding."""
    raw = hashlib.new(algorithm, data).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def digest_as_recorded(entry: RecordEntry | None, data: bytes) -> str | None:
    """``data``'s digest in the algorithm RECORD names for it (``None``: none to compute)."""
    if entry is None or not entry.digest or entry.algorithm is None:
        return None
    if entry.algorithm not in hashlib.algorithms_available:
        return None
    return record_digest(data, entry.algorithm)


def _record_path(archive: Archive) -> str | None:
    records = [
        m.path
        for m in archive.files()
        if m.path.count("/") == 1 and m.path.endswith(".dist-info/RECORD")
    ]
    return records[0] if len(records) == 1 else None


def read_record(archive: Archive) -> tuple[dict[str, RecordEntry], tuple[Finding, ...]]:
    """A wheel's RECORD by path, with findings for a RECORD that is missing or malformed."""
    if archive.format != "wheel":
        return {}, ()
    path = _record_path(archive)
    if path is None:
        return {}, (_mismatch("the wheel has no single *.dist-info/RECORD", None),)
    try:
        text = archive.read(path).decode("utf-8")
    except (ArchiveError, UnicodeDecodeError) as exc:
        return {}, (_mismatch(f"RECORD cannot be read: {exc}", path),)
    entries: dict[str, RecordEntry] = {}
    findings: list[Finding] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return {}, (_mismatch(f"RECORD is not valid CSV: {exc}", path),)
    for number, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != 3:
            findings.append(_mismatch(f"RECORD line {number} has {len(row)} fields, not 3", path))
            continue
        name, hashed, size = row
        algorithm, _, digest = hashed.partition("=")
        entries[name] = RecordEntry(
            name,
            algorithm or None,
            digest or None,
            int(size) if size.isdigit() else None,
        )
    return entries, tuple(findings)


def _mismatch(message: str, path: str | None) -> Finding:
    rule = BEHAVIOUR_RULES["record-mismatch"]
    return Finding(rule.id, rule.severity, message, path=path)


def _same(
    old: Member, new: Member, old_record: RecordEntry | None, new_record: RecordEntry | None
) -> bool | None:
    """Whether two members hold the same bytes, if that can be told without reading them."""
    if old.size != new.size:
        return False
    if old.crc32 is not None and new.crc32 is not None and old.crc32 != new.crc32:
        return False
    if (
        old_record is not None
        and new_record is not None
        and old_record.digest
        and new_record.digest
        and old_record.algorithm == new_record.algorithm
    ):
        # The zip CRC must agree too: an installer extracts with CRC checks, so bytes that
        # differ from the RECORD line they keep would need a forged CRC as well.
        return old_record.digest == new_record.digest and old.crc32 == new.crc32
    if old.crc32 is not None and new.crc32 is not None:
        return True  # same size and CRC-32 (zip sdists): changed files are read anyway
    return None


def diff_files(
    old: Archive | None,
    new: Archive,
    *,
    old_record: dict[str, RecordEntry] | None = None,
    new_record: dict[str, RecordEntry] | None = None,
) -> FileDiff:
    """Compare the regular files of two archives by path and content.

    Files whose sameness cannot be told from metadata (tar sdists) are compared by their
    sha256, which costs nothing more: tar members are already in memory or spooled.
    """
    new_files = {m.path: m for m in new.files()}
    if old is None:
        return FileDiff(tuple(new_files), (), (), ())
    # A wheel's .dist-info and .data directories carry the version in their names: match
    # them across versions by what they are, not what they are called.
    old_files = {_key(m.path): m for m in old.files()}
    new_keys = {_key(path): path for path in new_files}
    added = tuple(path for key, path in new_keys.items() if key not in old_files)
    removed = tuple(m.path for key, m in old_files.items() if key not in new_keys)
    changed: list[str] = []
    unchanged: list[str] = []
    for key, path in new_keys.items():
        before = old_files.get(key)
        if before is None:
            continue
        member = new_files[path]
        same = _same(
            before,
            member,
            (old_record or {}).get(before.path),
            (new_record or {}).get(path),
        )
        if same is None:
            same = _sha256(old, before.path) == _sha256(new, path)
        (unchanged if same else changed).append(path)
    return FileDiff(added, removed, tuple(changed), tuple(unchanged))


def _key(path: str) -> str:
    top, slash, rest = path.partition("/")
    if slash and top.endswith(".dist-info"):
        return "{dist-info}/" + rest
    if slash and top.endswith(".data"):
        return "{data}/" + rest
    return path


def _sha256(archive: Archive, path: str) -> str | None:
    try:
        return hashlib.sha256(archive.read(path)).hexdigest()
    except ArchiveError:
        return None


def check_record(
    new: Archive,
    record: dict[str, RecordEntry],
    read: Iterable[tuple[str, str | None]],
) -> tuple[Finding, ...]:
    """RECORD against the archive: every file listed, every listed file present, and the
    digest of every file that was read as RECORD says. ``read`` pairs each file read with
    its digest in RECORD's algorithm for it (``None`` when there is none to compare)."""
    if new.format != "wheel" or not record:
        return ()
    # Every file the archive holds, read or not: a member refused for its size is present,
    # and reported as an archive finding of its own.
    present = {m.path for m in new.members if m.kind is MemberKind.FILE}
    findings = [
        _mismatch(f"{path} is in the wheel but not in RECORD", path)
        for path in present
        if path not in record and posixpath.basename(path) not in _UNHASHED
    ]
    findings += [
        _mismatch(f"RECORD lists {path}, which the wheel does not have", path)
        for path in record
        if path not in present and not path.endswith("/")
    ]
    for path, actual in read:
        entry = record.get(path)
        if entry is None or not entry.digest or entry.algorithm is None:
            continue
        if entry.algorithm not in hashlib.algorithms_available:
            findings.append(_mismatch(f"RECORD uses unknown hash {entry.algorithm}", path))
            continue
        if actual != entry.digest:
            findings.append(
                _mismatch(
                    f"{path}: RECORD says {entry.algorithm}={entry.digest}, the file has {actual}",
                    path,
                )
            )
    return tuple(findings)
