"""verify._dist.archive: safe, bounded reading of wheels and sdists.

Every archive is built here, in ``tmp_path``. Tests of hostile archives run in a sandbox (a
fresh working directory and a private ``tempfile.tempdir``) and check afterwards that nothing
was written anywhere in it and that the temporary directory was removed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from verify._dist.archive import (
    DEFAULT_LIMITS,
    Archive,
    ArchiveLimits,
    MemberKind,
    open_archive,
)
from verify.errors import ArchiveError
from verify.models import Finding, Severity

TAR_MODES = {".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.bz2": "w:bz2", ".tar.xz": "w:xz", ".tar": "w"}
SDIST_SUFFIXES = [*TAR_MODES, ".zip"]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Sandbox:
    """Where a test runs: archives go in ``dist``; ``cwd`` and ``tmp`` must stay empty."""

    root: Path
    dist: Path
    cwd: Path
    tmp: Path

    def assert_clean(self) -> None:
        """Nothing was written outside ``dist``, and no temporary directory is left."""
        assert sorted(p.name for p in self.root.iterdir()) == ["cwd", "dist", "tmp"]
        assert list(self.cwd.iterdir()) == []
        assert list(self.tmp.iterdir()) == []


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    box = Sandbox(tmp_path, tmp_path / "dist", tmp_path / "cwd", tmp_path / "tmp")
    for directory in (box.dist, box.cwd, box.tmp):
        directory.mkdir()
    monkeypatch.chdir(box.cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(box.tmp))
    return box


# --- Builders --------------------------------------------------------------------------------


def build_zip(
    path: Path,
    entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def build_tar(path: Path, entries: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    mode = next(m for suffix, m in TAR_MODES.items() if path.name.endswith(suffix))
    with tarfile.open(path, mode) as archive:  # type: ignore[call-overload]
        for info, data in entries:
            archive.addfile(info, None if data is None else io.BytesIO(data))
    return path


def tar_file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def tar_special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def build_sdist(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """An archive of regular files (and directories: names ending in '/'), by its suffix."""
    if path.suffix in (".zip", ".whl", ".egg"):
        return build_zip(path, entries)
    infos: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, data in entries:
        if name.endswith("/"):
            infos.append(tar_special(name.rstrip("/"), tarfile.DIRTYPE))
        else:
            infos.append(tar_file(name, data))
    return build_tar(path, infos)


def rules(archive: Archive) -> list[str]:
    return [finding.rule for finding in archive.findings]


def only_finding(archive: Archive, rule: str) -> Finding:
    found = [finding for finding in archive.findings if finding.rule == rule]
    assert len(found) == 1, archive.findings
    return found[0]


# --- Normal archives -------------------------------------------------------------------------


def test_wheel_lists_members_and_reads_files(sandbox: Sandbox) -> None:
    init, metadata = b"VALUE = 1\n" * 50, b"Metadata-Version: 2.1\nName: demo\n"
    path = build_zip(
        sandbox.dist / "demo-1.0-py3-none-any.whl",
        [
            ("demo/", b""),
            ("demo/__init__.py", init),
            ("demo-1.0.dist-info/METADATA", metadata),
        ],
    )
    with open_archive(path) as archive:
        assert (archive.format, archive.root, archive.truncated) == ("wheel", None, False)
        assert archive.findings == ()
        assert [(m.path, m.kind) for m in archive.members] == [
            ("demo", MemberKind.DIRECTORY),
            ("demo/__init__.py", MemberKind.FILE),
            ("demo-1.0.dist-info/METADATA", MemberKind.FILE),
        ]
        assert [m.path for m in archive.files()] == [
            "demo/__init__.py",
            "demo-1.0.dist-info/METADATA",
        ]
        member = archive.members[1]
        assert (member.size, member.crc32, member.raw_name) == (
            len(init),
            zlib.crc32(init),
            "demo/__init__.py",
        )
        assert member.compressed_size is not None
        assert member.compressed_size < len(init)
        assert archive.read("demo/__init__.py") == init
        assert archive.read("demo-1.0.dist-info/METADATA") == metadata
    with pytest.raises(ValueError, match="closed"):
        archive.read("demo/__init__.py")
    sandbox.assert_clean()


def test_a_zip_named_as_a_tar_is_read_as_the_zip_it_is(sandbox: Sandbox) -> None:
    # pip unpacks by content: a zip named .tar.gz installs as a zip, so it is read as one.
    zipped = build_zip(
        sandbox.dist / "demo-1.0.zip",
        [("demo-1.0/setup.py", b"print(1)\n"), ("demo-1.0/PKG-INFO", b"Name: demo\n")],
    )
    path = zipped.rename(sandbox.dist / "demo-1.0.tar.gz")
    with open_archive(path) as archive:
        assert archive.format == "zip"
        assert archive.read("setup.py") == b"print(1)\n"
        finding = only_finding(archive, "archive-disguised")
        assert finding.severity is Severity.MEDIUM
        assert "is a zip file" in finding.message
    sandbox.assert_clean()


def _raw_tar(members: list[tuple[str, bytes]]) -> bytes:
    """A tar stream of ``members`` with no end-of-archive marker (the zero blocks)."""
    out = bytearray()
    for name, data in members:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out += info.tobuf(format=tarfile.PAX_FORMAT)
        out += data + bytes(-len(data) % tarfile.BLOCKSIZE)
    return bytes(out)


def test_a_tar_cut_inside_a_member_is_unreadable(sandbox: Sandbox) -> None:
    stream = _raw_tar([("demo-1.0/setup.py", b"x" * 5000)])
    path = sandbox.dist / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(stream[: tarfile.BLOCKSIZE * 4]))
    with pytest.raises(ArchiveError, match=r"truncated|unexpected end"):
        open_archive(path)
    sandbox.assert_clean()


@pytest.mark.parametrize("suffix", SDIST_SUFFIXES)
def test_sdist_root_is_stripped(sandbox: Sandbox, suffix: str) -> None:
    path = build_sdist(
        sandbox.dist / f"pkg-1.0{suffix}",
        [
            ("pkg-1.0/", b""),
            ("pkg-1.0/setup.py", b"from setuptools import setup\n"),
            ("pkg-1.0/pkg/__init__.py", b""),
            ("./pkg-1.0/PKG-INFO", b"Name: pkg\n"),
        ],
    )
    with open_archive(path) as archive:
        assert archive.format == ("zip" if suffix == ".zip" else "tar")
        assert archive.root == "pkg-1.0"
        assert [m.path for m in archive.members] == [".", "setup.py", "pkg/__init__.py", "PKG-INFO"]
        assert archive.members[3].raw_name == "./pkg-1.0/PKG-INFO"
        assert [m.path for m in archive.files()] == ["setup.py", "pkg/__init__.py", "PKG-INFO"]
        assert archive.read("setup.py") == b"from setuptools import setup\n"
        assert archive.read("pkg/__init__.py") == b""
        assert archive.findings == ()
    sandbox.assert_clean()


@pytest.mark.parametrize(
    ("filename", "names"),
    [
        ("pkg-1.0.tar.gz", ["a/setup.py", "b/setup.py"]),  # two top-level directories
        ("pkg-1.0.tar.gz", ["setup.py"]),  # a top-level file is not a directory to strip
        ("pkg-1.0.zip", ["pkg-1.0", "pkg-1.0-extra/x"]),
        ("demo-1.0-py3-none-any.whl", ["demo/__init__.py"]),  # wheels are never stripped
        ("demo-1.0-py3.11.egg", ["demo/__init__.py"]),  # nor are eggs
    ],
)
def test_root_is_kept_when_there_is_no_single_top_directory(
    sandbox: Sandbox, filename: str, names: list[str]
) -> None:
    path = build_sdist(sandbox.dist / filename, [(name, b"x") for name in names])
    with open_archive(path) as archive:
        assert archive.root is None
        assert [m.path for m in archive.members] == names
        assert all(archive.read(name) == b"x" for name in names)


def test_large_tar_members_are_spooled_privately_and_removed(sandbox: Sandbox) -> None:
    big = bytes(range(256)) * (3 * MIB // 256)
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [tar_file("pkg-1.0/big.bin", big), tar_file("pkg-1.0/small.py", b"pass\n")],
    )
    archive = open_archive(path)
    try:
        (spool,) = sandbox.tmp.iterdir()
        assert [p.name for p in spool.iterdir()] == ["1"]  # named by counter, not by member
        assert archive.read("big.bin") == big
        assert archive.read("small.py") == b"pass\n"
    finally:
        archive.close()
    archive.close()  # idempotent
    sandbox.assert_clean()


def test_backslash_in_a_name_is_kept_when_harmless(sandbox: Sandbox) -> None:
    path = build_sdist(sandbox.dist / "pkg-1.0.tar.gz", [("pkg-1.0/pkg\\mod.py", b"x = 1\n")])
    with open_archive(path) as archive:
        assert archive.findings == ()
        assert [m.path for m in archive.files()] == ["pkg\\mod.py"]
        assert archive.read("pkg\\mod.py") == b"x = 1\n"


def test_unknown_tar_member_type_is_read_as_a_file(sandbox: Sandbox) -> None:
    # tarfile (so pip) extracts members of unknown types as regular files: scan them too.
    info, data = tar_file("pkg-1.0/odd.py", b"import os\n")
    info.type = b"Z"
    with open_archive(build_tar(sandbox.dist / "pkg-1.0.tar", [(info, data)])) as archive:
        assert [m.kind for m in archive.members] == [MemberKind.FILE]
        assert archive.read("odd.py") == b"import os\n"


# --- Hostile member names --------------------------------------------------------------------


UNSAFE_NAMES = [
    ("../escaped", "climbs out"),
    ("pkg-1.0/../../escaped", "climbs out"),
    ("..\\escaped", "climbs out"),
    ("pkg-1.0\\..\\..\\escaped", "climbs out"),
    ("{root}/absolute", "absolute path"),
    ("\\\\server\\share\\escaped", "absolute path"),
    ("C:\\escaped", "drive letter"),
    ("c:escaped", "drive letter"),
]


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
@pytest.mark.parametrize(("name", "problem"), UNSAFE_NAMES)
def test_unsafe_paths_are_reported_and_never_read(
    sandbox: Sandbox, suffix: str, name: str, problem: str
) -> None:
    name = name.format(root=sandbox.root)
    path = build_sdist(
        sandbox.dist / f"pkg-1.0{suffix}",
        [("pkg-1.0/setup.py", b"setup()\n"), (name, b"owned\n")],
    )
    with open_archive(path) as archive:
        finding = only_finding(archive, "archive-unsafe-path")
        assert finding.severity is Severity.CRITICAL
        assert finding.path == name
        assert problem in finding.message
        assert "not extracted or read" in finding.message
        assert [m.path for m in archive.members] == ["setup.py", name]
        assert [m.path for m in archive.files()] == ["setup.py"]
        with pytest.raises(ArchiveError, match="was not read"):
            archive.read(name)
        # The one hostile member does not hide the sdist's root.
        assert archive.root == "pkg-1.0"
        assert archive.read("setup.py") == b"setup()\n"
    sandbox.assert_clean()


@pytest.mark.parametrize(
    ("kind", "member_kind", "target", "words"),
    [
        (tarfile.SYMTYPE, MemberKind.SYMLINK, "/etc", "symbolic link to /etc"),
        (tarfile.SYMTYPE, MemberKind.SYMLINK, "../../..", "symbolic link to ../../.."),
        (tarfile.LNKTYPE, MemberKind.HARDLINK, "/etc/passwd", "hard link to /etc/passwd"),
    ],
)
def test_tar_links_are_reported_and_never_followed(
    sandbox: Sandbox, kind: bytes, member_kind: MemberKind, target: str, words: str
) -> None:
    # The classic attack: a link to a directory, then a file "inside" it.
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [
            tar_special("pkg-1.0/link", kind, target),
            tar_file("pkg-1.0/link/passwd", b"root::0:0::/:/bin/sh\n"),
        ],
    )
    with open_archive(path) as archive:
        finding = only_finding(archive, "archive-link")
        assert (finding.path, finding.severity) == ("link", Severity.HIGH)
        assert finding.message == f"{words} (not followed)"
        link = archive.members[0]
        assert (link.kind, link.link_target) == (member_kind, target)
        with pytest.raises(ArchiveError, match="not followed"):
            archive.read("link")
        # The file behind the link is the archive's own bytes, read from the archive.
        assert archive.read("link/passwd") == b"root::0:0::/:/bin/sh\n"
    sandbox.assert_clean()


def test_zip_symlink_marked_in_external_attr_is_not_followed(sandbox: Sandbox) -> None:
    path = build_zip(
        sandbox.dist / "demo-1.0-py3-none-any.whl",
        [
            (zip_info("demo/link", stat.S_IFLNK | 0o777), b"/etc/passwd"),
            ("demo/__init__.py", b""),
        ],
    )
    with open_archive(path) as archive:
        finding = only_finding(archive, "archive-link")
        assert (finding.path, finding.message) == (
            "demo/link",
            "symbolic link to /etc/passwd (not followed)",
        )
        assert archive.members[0].kind is MemberKind.SYMLINK
        assert archive.members[0].link_target == "/etc/passwd"
        assert [m.path for m in archive.files()] == ["demo/__init__.py"]
        with pytest.raises(ArchiveError, match="not followed"):
            archive.read("demo/link")
    sandbox.assert_clean()


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (tarfile.CHRTYPE, "character device"),
        (tarfile.BLKTYPE, "block device"),
        (tarfile.FIFOTYPE, "FIFO"),
    ],
)
def test_tar_special_files_are_reported(sandbox: Sandbox, kind: bytes, words: str) -> None:
    path = build_tar(sandbox.dist / "pkg-1.0.tar", [tar_special("pkg-1.0/dev", kind)])
    with open_archive(path) as archive:
        finding = only_finding(archive, "archive-special-file")
        assert (finding.path, finding.message) == ("dev", f"{words} (not read)")
        assert archive.members[0].kind is MemberKind.SPECIAL
        assert list(archive.files()) == []
        with pytest.raises(ArchiveError, match="not read"):
            archive.read("dev")
    sandbox.assert_clean()


@pytest.mark.parametrize(
    ("mode", "kind", "readable"),
    [
        (stat.S_IFIFO | 0o644, MemberKind.SPECIAL, False),
        (stat.S_IFCHR | 0o644, MemberKind.SPECIAL, False),
        # Extractors decide "directory" by a trailing slash only: this is written as a file.
        (stat.S_IFDIR | 0o755, MemberKind.FILE, True),
        (stat.S_IFREG | 0o644, MemberKind.FILE, True),
    ],
)
def test_zip_member_kind_follows_mode_bits(
    sandbox: Sandbox, mode: int, kind: MemberKind, readable: bool
) -> None:
    path = build_zip(sandbox.dist / "demo-1.0-py3-none-any.whl", [(zip_info("demo/x", mode), b"x")])
    with open_archive(path) as archive:
        assert archive.members[0].kind is kind
        assert rules(archive) == ([] if readable else ["archive-special-file"])
        assert [m.path for m in archive.files()] == (["demo/x"] if readable else [])


def test_zip_duplicate_entries_are_ambiguous(sandbox: Sandbox) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = build_zip(
            sandbox.dist / "demo-1.0-py3-none-any.whl",
            [
                ("demo/a.py", b"benign = True\n"),
                ("demo/a.py", b"import os; os.system('evil')\n"),
                ("demo/b.py", b"1"),
                ("demo/b.py", b"2"),
                ("./demo/b.py", b"3"),  # the same file once extracted
                ("demo/c.py", b"fine\n"),
            ],
        )
    with open_archive(path) as archive:
        findings = [f for f in archive.findings if f.rule == "archive-duplicate-entry"]
        assert [(f.path, f.severity) for f in findings] == [
            ("demo/a.py", Severity.HIGH),
            ("demo/b.py", Severity.HIGH),
        ]
        assert "appears 3 times" in findings[1].message
        assert len(archive.members) == 6
        assert [m.path for m in archive.files()] == ["demo/c.py"]
        for name in ("demo/a.py", "demo/b.py"):
            with pytest.raises(ArchiveError, match="ambiguous"):
                archive.read(name)


def test_tar_duplicate_entries_are_ambiguous(sandbox: Sandbox) -> None:
    # tarfile extracts the last copy, a scanner reading the first would miss it.
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [tar_file("pkg-1.0/setup.py", b"setup()\n"), tar_file("pkg-1.0/setup.py", b"evil()\n")],
    )
    with open_archive(path) as archive:
        assert only_finding(archive, "archive-duplicate-entry").path == "setup.py"
        with pytest.raises(ArchiveError, match="ambiguous"):
            archive.read("setup.py")
    sandbox.assert_clean()


# --- Bombs and limits ------------------------------------------------------------------------


def test_zip_member_with_high_compression_ratio_is_a_bomb(sandbox: Sandbox) -> None:
    path = sandbox.dist / "demo-1.0-py3-none-any.whl"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as writer,
        writer.open("demo/zeros.bin", "w", force_zip64=True) as stream,
    ):
        for _ in range(16):
            stream.write(bytes(MIB))
    with open_archive(path) as archive:
        finding = only_finding(archive, "archive-bomb")
        assert finding.path == "demo/zeros.bin"
        assert "ratio" in finding.message
        assert "over 1000:1" in finding.message
        assert archive.members[0].size == 16 * MIB
        assert list(archive.files()) == []
        with pytest.raises(ArchiveError, match="was not read"):
            archive.read("demo/zeros.bin")
    sandbox.assert_clean()


def test_zip_member_over_the_member_limit_is_a_bomb(sandbox: Sandbox) -> None:
    path = build_zip(
        sandbox.dist / "demo-1.0-py3-none-any.whl",
        [("demo/big.bin", bytes(range(256)) * 8), ("demo/ok.py", b"ok")],
    )
    with open_archive(path, limits=ArchiveLimits(max_member_size=1000)) as archive:
        finding = only_finding(archive, "archive-bomb")
        assert finding.path == "demo/big.bin"
        assert "2048 bytes uncompressed, over the 1000-byte member limit" in finding.message
        assert not archive.truncated
        assert archive.read("demo/ok.py") == b"ok"
        with pytest.raises(ArchiveError, match="member limit"):
            archive.read("demo/big.bin")


def test_zip_reads_stop_at_the_total_limit(sandbox: Sandbox) -> None:
    names = [f"{i}.bin" for i in range(3)]
    path = build_zip(sandbox.dist / "demo-1.0.zip", [(f"demo-1.0/{n}", b"z" * 1000) for n in names])
    with open_archive(path, limits=ArchiveLimits(max_total_size=2500)) as archive:
        assert archive.findings == ()
        assert archive.read(names[0]) == archive.read(names[1]) == b"z" * 1000
        with pytest.raises(ArchiveError, match="more than 2500 bytes from this archive in total"):
            archive.read(names[2])


def test_tar_member_over_the_member_limit_is_not_kept(sandbox: Sandbox) -> None:
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [
            tar_file("pkg-1.0/a.py", b"a"),
            tar_file("pkg-1.0/big.bin", b"b" * 5000),
            tar_file("pkg-1.0/c.py", b"c"),
        ],
    )
    with open_archive(path, limits=ArchiveLimits(max_member_size=1000)) as archive:
        finding = only_finding(archive, "archive-bomb")
        assert (finding.path, finding.severity) == ("big.bin", Severity.HIGH)
        assert not archive.truncated
        assert [m.path for m in archive.files()] == ["a.py", "c.py"]
        assert archive.read("c.py") == b"c"


def test_tar_total_limit_stops_the_listing(sandbox: Sandbox) -> None:
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [tar_file(f"pkg-1.0/{i}.bin", bytes([i]) * 4000) for i in range(6)],
    )
    with open_archive(path, limits=ArchiveLimits(max_total_size=10_000)) as archive:
        assert archive.truncated
        finding = only_finding(archive, "archive-bomb")
        assert "more than 10000 bytes uncompressed in total" in finding.message
        assert len(archive.members) < 6
        assert archive.read("0.bin") == bytes([0]) * 4000
        assert finding.path is not None
        with pytest.raises(ArchiveError, match="was not read"):
            archive.read(finding.path)
    sandbox.assert_clean()


def test_tar_header_with_huge_extended_data_stops_the_listing(sandbox: Sandbox) -> None:
    # tarfile would hold a pax header's data in memory whole, however large it says it is.
    info, data = tar_file("pkg-1.0/b.py", b"b")
    info.pax_headers = {"comment": "x" * (2 * MIB)}
    path = sandbox.dist / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as writer:
        first, first_data = tar_file("pkg-1.0/a.py", b"a")
        writer.addfile(first, io.BytesIO(first_data))
        writer.addfile(info, io.BytesIO(data))
    with open_archive(path) as archive:
        assert archive.truncated
        assert "extended data" in only_finding(archive, "archive-bomb").message
        assert [m.path for m in archive.members] == ["a.py"]
        assert archive.read("a.py") == b"a"


def test_zip_with_too_many_members_is_listed_up_to_the_limit(sandbox: Sandbox) -> None:
    path = sandbox.dist / "many-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(100_000):
            archive.writestr(f"m/{i}", b"")
        archive.writestr("m/last", b"last")
    with open_archive(path) as archive:
        assert archive.truncated
        finding = only_finding(archive, "archive-bomb")
        limit = DEFAULT_LIMITS.max_members
        assert finding.message.startswith(f"more than {limit} members (listing stopped")
        assert len(archive.members) == DEFAULT_LIMITS.max_members
        assert archive.members[-1].path == f"m/{DEFAULT_LIMITS.max_members - 1}"
        assert archive.read("m/0") == b""
        with pytest.raises(ArchiveError, match="no regular file"):
            archive.read("m/last")


@pytest.mark.parametrize(("count", "truncated"), [(20, False), (21, True)])
@pytest.mark.parametrize("prefix", [b"", b"#!/bin/sh\nexit 0\n" * 10])
def test_zip_member_limit_with_prepended_data_and_comment(
    sandbox: Sandbox, count: int, truncated: bool, prefix: bytes
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.comment = b"a comment at the end"
        for i in range(count):
            archive.writestr(f"demo/{i}.py", f"n = {i}\n".encode())
    path = sandbox.dist / "demo-1.0.zip"
    path.write_bytes(prefix + buffer.getvalue())
    with open_archive(path, limits=ArchiveLimits(max_members=20)) as archive:
        assert archive.truncated is truncated
        assert rules(archive) == (["archive-bomb"] if truncated else [])
        assert len(archive.members) == 20
        assert archive.read("19.py") == b"n = 19\n"


def test_tar_with_too_many_members_is_listed_up_to_the_limit(sandbox: Sandbox) -> None:
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz", [tar_file(f"pkg-1.0/{i}", b"") for i in range(3000)]
    )
    with open_archive(path, limits=ArchiveLimits(max_members=1000)) as archive:
        assert archive.truncated
        assert "more than 1000 members" in only_finding(archive, "archive-bomb").message
        assert len(archive.members) == 1000
    sandbox.assert_clean()


# --- Files that are not (complete) archives --------------------------------------------------


@pytest.mark.parametrize(
    "filename", ["pkg-1.0.tar.gz", "pkg-1.0.tar", "pkg-1.0.zip", "pkg-1.0-py3-none-any.whl"]
)
def test_empty_file(sandbox: Sandbox, filename: str) -> None:
    path = sandbox.dist / filename
    path.touch()
    with pytest.raises(ArchiveError, match="empty file"):
        open_archive(path)


@pytest.mark.parametrize(
    "filename", ["pkg-1.0.rar", "pkg-1.0.tar.zst", "tar.gz", "pkg.whl.txt", "setup.py"]
)
def test_unknown_suffix(sandbox: Sandbox, filename: str) -> None:
    path = sandbox.dist / filename
    path.write_bytes(b"data")
    with pytest.raises(ArchiveError, match="unknown archive type"):
        open_archive(path)


def test_missing_file(sandbox: Sandbox) -> None:
    with pytest.raises(ArchiveError, match="cannot read the archive"):
        open_archive(sandbox.dist / "absent-1.0.tar.gz")


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("pkg-1.0.tar.gz", "not a valid tar archive"),
        ("pkg-1.0.tar.bz2", "not a valid tar archive"),
        ("pkg-1.0.tar.xz", "not a valid tar archive"),
        ("pkg-1.0.tar", "not a valid tar archive"),
        ("pkg-1.0.zip", "not a zip archive"),
        ("pkg-1.0-py3-none-any.whl", "not a zip archive"),
    ],
)
def test_not_an_archive(sandbox: Sandbox, filename: str, message: str) -> None:
    path = sandbox.dist / filename
    path.write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(ArchiveError, match=message) as caught:
        open_archive(path)
    assert "\n" not in str(caught.value)
    sandbox.assert_clean()


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.bz2", ".tar.xz", ".tar", ".zip"])
def test_truncated_archive(sandbox: Sandbox, suffix: str) -> None:
    path = build_sdist(
        sandbox.dist / f"pkg-1.0{suffix}",
        [(f"pkg-1.0/{i}.bin", bytes(range(256)) * 40) for i in range(8)],
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated") as caught:
        open_archive(path)
    assert str(caught.value).startswith(f"{path}: ")
    sandbox.assert_clean()


@pytest.mark.parametrize("cut", [1024 + 100, 1024 + 511, 1024 + 512 + 100])
def test_tar_cut_inside_a_header_or_member_is_truncated(sandbox: Sandbox, cut: int) -> None:
    # tarfile itself stops quietly at a partial header.
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar", [tar_file(f"pkg-1.0/{i}.py", b"x" * 512) for i in range(3)]
    )
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ArchiveError, match="truncated"):
        open_archive(path)
    sandbox.assert_clean()


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.bz2", ".tar.xz", ".tar"])
def test_a_tar_stopping_after_a_member_without_its_marker_is_read_and_flagged(
    sandbox: Sandbox, suffix: str
) -> None:
    # What tarfile, and so pip, reads as a complete archive and installs: the members are
    # analysed like any others, and the missing marker is a high finding the default policy
    # denies (the archive was refused, exit 2, before; it is still never allowed).
    members = [("pkg-1.0/setup.py", b"import os\n" * 60), ("pkg-1.0/pkg/__init__.py", b"x = 1\n")]
    stream = _raw_tar(members)
    compressors: dict[str, Callable[[bytes], bytes]] = {
        ".tar.gz": gzip.compress,
        ".tar.bz2": bz2.compress,
        ".tar.xz": lzma.compress,
        ".tar": bytes,
    }
    compress = compressors[suffix]
    path = sandbox.dist / f"pkg-1.0{suffix}"
    path.write_bytes(compress(stream))
    with open_archive(path) as archive:
        assert {m.path: archive.read(m.path) for m in archive.files()} == {
            "setup.py": members[0][1],
            "pkg/__init__.py": members[1][1],
        }
        finding = only_finding(archive, "archive-unterminated")
        assert finding.severity is Severity.HIGH
        assert finding.path is None
        assert f"at byte {len(stream)}" in finding.message
        assert not archive.truncated
    sandbox.assert_clean()


def test_an_unterminated_tar_whose_compressed_stream_is_cut_is_refused(sandbox: Sandbox) -> None:
    # The marker is missing and the gzip trailer (CRC, length) too: a cut download, not an
    # archive pip would read.
    stream = _raw_tar([("pkg-1.0/setup.py", b"import os\n" * 60)])
    path = sandbox.dist / "pkg-1.0.tar.gz"
    path.write_bytes(gzip.compress(stream)[:-8])
    with pytest.raises(ArchiveError, match="truncated"):
        open_archive(path)
    sandbox.assert_clean()


def test_tar_with_garbage_instead_of_a_header_is_corrupt(sandbox: Sandbox) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info, data = tar_file("pkg-1.0/a.py", b"a" * 512)
        archive.addfile(info, io.BytesIO(data))
    path = sandbox.dist / "pkg-1.0.tar"
    path.write_bytes(buffer.getvalue()[:1024] + b"\x01" * 512 + bytes(10240))
    with pytest.raises(ArchiveError, match="no valid member header at byte 1024"):
        open_archive(path)


def _member_data_offset(path: Path, name: str) -> tuple[int, int]:
    """Where a zip member's compressed data starts in the file, and its length."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = path.read_bytes()
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_corrupt_zip_member_data_fails_on_read(sandbox: Sandbox, compression: int) -> None:
    content = b"".join(b"line %d of a module\n" % i for i in range(2000))
    path = build_zip(
        sandbox.dist / "demo-1.0-py3-none-any.whl",
        [("demo/mod.py", content), ("demo/ok.py", b"ok")],
        compression,
    )
    start, length = _member_data_offset(path, "demo/mod.py")
    data = bytearray(path.read_bytes())
    for i in range(start + length // 2, start + length // 2 + 8):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with open_archive(path) as archive:
        assert archive.read("demo/ok.py") == b"ok"
        with pytest.raises(ArchiveError, match=r"member 'demo/mod.py' is corrupt") as caught:
            archive.read("demo/mod.py")
    assert "\n" not in str(caught.value)


def test_corrupt_tar_gz_fails_on_open(sandbox: Sandbox) -> None:
    path = build_tar(
        sandbox.dist / "pkg-1.0.tar.gz",
        [tar_file("pkg-1.0/mod.py", b"".join(b"line %d\n" % i for i in range(5000)))],
    )
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 8):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):
        open_archive(path)
    sandbox.assert_clean()


def test_encrypted_zip_member_is_not_read(sandbox: Sandbox) -> None:
    path = build_zip(sandbox.dist / "demo-1.0-py3-none-any.whl", [("demo/secret.py", b"x")])
    data = bytearray(path.read_bytes())
    data[data.rfind(b"PK\x01\x02") + 8] |= 0x1  # the central record's "encrypted" flag
    path.write_bytes(bytes(data))
    with open_archive(path) as archive, pytest.raises(ArchiveError, match="encrypted"):
        archive.read("demo/secret.py")


@pytest.mark.parametrize(
    ("name", "message"),
    [("absent.py", "no regular file 'absent.py'"), ("pkg", "no regular file 'pkg'")],
)
def test_read_of_something_that_is_not_a_regular_file(
    sandbox: Sandbox, name: str, message: str
) -> None:
    path = build_sdist(sandbox.dist / "pkg-1.0.tar.gz", [("pkg-1.0/pkg/", b"")])
    with open_archive(path) as archive, pytest.raises(ArchiveError, match=message):
        archive.read(name)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_members"):
        ArchiveLimits(max_members=0)
