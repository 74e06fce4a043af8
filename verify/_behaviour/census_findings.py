"""What a release's changed file set says on its own, whatever the files do.

New directories with odd names, native code in a package that had none, a file far larger
than anything the baseline shipped, a language the package never used, and changed source
whose entropy or line length jumped: each is reported from the file census (see
:mod:`verify._behaviour.census`) and the profiles of the files read.
"""

from __future__ import annotations

import posixpath
import re

from verify._behaviour.census import NATIVE_SUFFIXES, FileDiff, language_of
from verify._behaviour.diff_side import Side
from verify._behaviour.profile import SHAPED_KINDS, FileProfile
from verify._behaviour.rating import rule_finding
from verify._behaviour.roles import Role
from verify.models import Finding, Severity

__all__ = [
    "NEW_LANGUAGE_MIN_SIZE",
    "OUTLIER_FACTOR",
    "OUTLIER_MIN_SIZE",
    "census_findings",
    "entropy_can_jump",
    "old_entropy_matters",
]


#: A new file at least this large, and this many times the largest file of the baseline,
#: is a size outlier: the 10 MB blob in a 50 KB package.
OUTLIER_MIN_SIZE = 1024 * 1024
OUTLIER_FACTOR = 10
#: Files of a language the baseline did not ship count once they add up to this much.
NEW_LANGUAGE_MIN_SIZE = 64 * 1024
#: A changed file's entropy jumps when it rises by more than JUMP_RISE to more than JUMP_TO bits
#: a byte (the spread of encoded or compressed data); its longest line when it reaches
#: LONG_LINE characters and more than LINE_FACTOR times the old one (minified code).
JUMP_RISE = 1.0
JUMP_TO = 5.0
LONG_LINE = 2000
LINE_FACTOR = 4
#: A shared library's name with its version after ".so" (``libzmq-2f02442c.so.5.2.5``).
_VERSIONED_SO = re.compile(r"\.so(?:\.\d+)+$")
#: Dot-directories that sdists commonly carry and that are never installed.
_KNOWN_DOT_DIRS = frozenset(
    {".github", ".gitlab", ".circleci", ".devcontainer", ".vscode", ".idea", ".git"}
)


def census_findings(new: Side, old: Side | None, files: FileDiff, *, pure: bool) -> list[Finding]:
    findings: list[Finding] = []
    archive = new.archive
    sizes = {m.path: m.size for m in archive.files()}
    old_paths = [m.path for m in old.archive.files()] if old else []
    old_dirs = {posixpath.dirname(p) for p in old_paths}
    # Natives the baseline shipped, by name: extension modules and other binaries apart.
    old_extensions = any(_is_library(p) for p in old_paths)
    old_binaries = (
        any(
            (old.profiles.get(p) is not None and old.profiles[p].kind == "native")
            or p.endswith((".dll", ".dylib", ".exe"))
            for p in old_paths
        )
        if old
        else False
    )
    new_dirs_seen: set[str] = set()
    for path in files.added:
        directory = posixpath.dirname(path)
        if directory and directory not in old_dirs:
            odd = _odd_component(directory, sdist=archive.format != "wheel")
            if odd and odd not in new_dirs_seen:
                new_dirs_seen.add(odd)
                findings.append(
                    rule_finding(
                        "hidden-directory",
                        f"new directory {odd!r}" + ("" if old else " (no baseline)"),
                        path,
                    )
                )
        profile = new.profiles.get(path)
        is_native = (profile is not None and profile.kind == "native") or path.endswith(
            (*NATIVE_SUFFIXES, ".exe")
        )
        if not is_native:
            continue
        extension = _is_library(path)
        if extension and not old_extensions and (old is not None or pure):
            findings.append(
                rule_finding(
                    "native-extension-added",
                    f"native extension {posixpath.basename(path)} in a "
                    + ("pure-Python wheel" if pure else "package that had none"),
                    path,
                )
            )
        elif not extension and not old_binaries:
            findings.append(_binary_added(new, path, sizes.get(path, 0), baseline=old is not None))
    if old is None:
        return findings
    largest_before = max((m.size for m in old.archive.files()), default=0)
    for path in (*files.added, *files.changed):
        size = sizes.get(path, 0)
        if size >= OUTLIER_MIN_SIZE and size > OUTLIER_FACTOR * max(largest_before, 1):
            findings.append(
                rule_finding(
                    "size-outlier",
                    f"{path} is {size:,} bytes; the largest file before was "
                    f"{largest_before:,} bytes",
                    path,
                )
            )
    old_languages = {language_of(p) for p in old_paths}
    added_by_language: dict[str, list[str]] = {}
    for path in files.added:
        language = language_of(path)
        if language and language not in ("python", "native") and language not in old_languages:
            added_by_language.setdefault(language, []).append(path)
    for language, paths in added_by_language.items():
        total = sum(sizes.get(p, 0) for p in paths)
        if total >= NEW_LANGUAGE_MIN_SIZE:
            biggest = max(paths, key=lambda p: sizes.get(p, 0))
            findings.append(
                rule_finding(
                    "new-language",
                    f"{len(paths)} new {language} file(s), {total:,} bytes, in a package that "
                    f"shipped no {language} before (largest: {biggest})",
                    biggest,
                )
            )
    for path in files.changed:
        before, after = old.profiles.get(path), new.profiles.get(path)
        if before is None or after is None or after.kind not in SHAPED_KINDS:
            continue
        # The new version's entropy is measured; the old one's wherever it can matter (see
        # old_entropy_matters): elsewhere it is None, and no finding reads it.
        old_entropy, new_entropy = before.entropy or 0.0, after.entropy or 0.0
        entropy_jump = new_entropy - old_entropy > JUMP_RISE and new_entropy > JUMP_TO
        if entropy_jump or _line_jump(before, after):
            findings.append(
                rule_finding(
                    "profile-jump",
                    f"{path}: entropy {old_entropy:.1f} -> {new_entropy:.1f} bits/byte, "
                    f"longest line {before.max_line:,} -> {after.max_line:,} characters",
                    path,
                )
            )
    return findings


def old_entropy_matters(before: FileProfile, after: FileProfile) -> bool:
    """Whether the old version's entropy can change what ``profile-jump`` says of a changed
    file: it decides the finding only when the new version's exceeds JUMP_TO
    (:func:`entropy_can_jump`), and is quoted when the longest line jumped. Elsewhere it is
    left unmeasured: measuring it for every changed file took about a tenth of the time of the
    benchmark's 20-package diffs."""
    return entropy_can_jump(after) or _line_jump(before, after)


def entropy_can_jump(after: FileProfile) -> bool:
    """Whether a changed file's new version is dense enough for its entropy to have jumped:
    known from the new version alone, before the old one is read."""
    return after.kind in SHAPED_KINDS and (after.entropy or 0.0) > JUMP_TO


def _line_jump(before: FileProfile, after: FileProfile) -> bool:
    return after.max_line >= LONG_LINE and after.max_line > LINE_FACTOR * max(before.max_line, 1)


def _is_library(path: str) -> bool:
    """An extension module or a shared library: a versioned one (``libarrow.so.2600``, what
    auditwheel vendors) is a library like any ``.so``, not a program."""
    return (
        path.endswith((".so", ".pyd"))
        or ".cpython-" in path
        or _VERSIONED_SO.search(path) is not None
    )


def _binary_added(side: Side, path: str, size: int, *, baseline: bool) -> Finding:
    message = f"bundled executable {posixpath.basename(path)} ({size:,} bytes)"
    message += " in a package that had none" if baseline else " (no baseline)"
    if side.rated_role(path) is Role.INERT:
        # A test fixture or build aid in an sdist: never installed, never run by installing.
        return rule_finding(
            "binary-added",
            message + ", in a file that is neither installed nor run by installing",
            path,
            severity=Severity.MEDIUM,
        )
    return rule_finding("binary-added", message, path)


def _odd_component(directory: str, *, sdist: bool) -> str | None:
    for part in directory.split("/"):
        if part.startswith(".") and not (sdist and part in _KNOWN_DOT_DIRS):
            return part
        if any(not (ch.isascii() and ch.isprintable()) or ch.isspace() for ch in part):
            return part
    return None
