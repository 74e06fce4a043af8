"""File diff and RECORD checks: unchanged wheel files are never read, lying RECORDs are caught."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.helpers.dists import DistSpec, build_sdist, build_wheel, record_digest
from verify._behaviour.census import (
    check_record,
    diff_files,
    digest_as_recorded,
    language_of,
    read_record,
)
from verify._dist.archive import Archive, open_archive


def _wheel(tmp_path: Path, members: dict[str, bytes], record: str | None) -> Path:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if record is not None:
            archive.writestr("demo-1.0.dist-info/RECORD", record)
    return path


def _record_line(name: str, data: bytes) -> str:
    return f"{name},{record_digest(data)},{len(data)}\n"


def test_unchanged_wheel_files_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"demo/mod{i}.py": f"VALUE = {i}\n" for i in range(20)}
    old = build_wheel(DistSpec("demo", "1.0", files=files), tmp_path / "old")
    changed = {**files, "demo/mod3.py": "VALUE = 'three'\n", "demo/new.py": "X = 1\n"}
    new = build_wheel(DistSpec("demo", "1.0", files=changed), tmp_path / "new")
    reads: list[str] = []
    original = Archive.read

    def spy(self: Archive, path: str) -> bytes:
        reads.append(path)
        return original(self, path)

    with open_archive(old) as before, open_archive(new) as after:
        old_record, _ = read_record(before)
        new_record, _ = read_record(after)
        monkeypatch.setattr(Archive, "read", spy)
        diff = diff_files(before, after, old_record=old_record, new_record=new_record)
    assert diff.added == ("demo/new.py",)
    assert "demo/mod3.py" in diff.changed
    assert "demo/mod0.py" in diff.unchanged
    assert not [p for p in reads if p.startswith("demo/mod")], reads


def test_tar_sdists_compare_by_content(tmp_path: Path) -> None:
    old = build_sdist(
        DistSpec("demo", "1.0", files={"demo/a.py": "A = 1\n", "demo/b.py": "B = 1\n"}),
        tmp_path / "old",
    )
    new = build_sdist(
        DistSpec("demo", "1.1", files={"demo/a.py": "A = 2\n", "demo/b.py": "B = 1\n"}),
        tmp_path / "new",
    )
    with open_archive(old) as before, open_archive(new) as after:
        diff = diff_files(before, after)
    assert "demo/a.py" in diff.changed
    assert "demo/b.py" in diff.unchanged


@pytest.mark.parametrize(
    ("members", "record", "fragment"),
    [
        # A file the RECORD does not list.
        (
            {"demo/a.py": b"A = 1\n", "demo/extra.py": b"X\n"},
            _record_line("demo/a.py", b"A = 1\n"),
            "not in RECORD",
        ),
        # A RECORD line for a file the wheel does not have.
        (
            {"demo/a.py": b"A = 1\n"},
            _record_line("demo/a.py", b"A = 1\n") + _record_line("demo/gone.py", b""),
            "does not have",
        ),
        # A RECORD digest that is not the file's.
        ({"demo/a.py": b"A = 2\n"}, _record_line("demo/a.py", b"A = 1\n"), "RECORD says sha256="),
        # A malformed line.
        ({"demo/a.py": b"A = 1\n"}, "demo/a.py,sha256=x\n", "fields, not 3"),
    ],
)
def test_record_mismatches_are_findings(
    tmp_path: Path, members: dict[str, bytes], record: str, fragment: str
) -> None:
    path = _wheel(tmp_path, members, record + "demo-1.0.dist-info/RECORD,,\n")
    with open_archive(path) as archive:
        entries, problems = read_record(archive)
        read = [(p, digest_as_recorded(entries.get(p), archive.read(p))) for p in members]
        findings = (*problems, *check_record(archive, entries, read))
    assert any(fragment in f.message for f in findings), findings
    assert all(f.rule == "record-mismatch" for f in findings)


def test_a_wheel_without_record(tmp_path: Path) -> None:
    path = _wheel(tmp_path, {"demo/a.py": b"A = 1\n"}, None)
    with open_archive(path) as archive:
        entries, problems = read_record(archive)
    assert entries == {}
    assert [f.rule for f in problems] == ["record-mismatch"]


def test_a_correct_record_has_no_findings(tmp_path: Path) -> None:
    path = build_wheel(DistSpec("demo", "1.0", files={"demo/a.py": "A = 1\n"}), tmp_path)
    with open_archive(path) as archive:
        entries, problems = read_record(archive)
        read = [
            (m.path, digest_as_recorded(entries.get(m.path), archive.read(m.path)))
            for m in archive.files()
        ]
        assert problems == ()
        assert check_record(archive, entries, read) == ()


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"),
        ("x.JS", "javascript"),
        ("lib.so", "native"),
        ("run.sh", "shell"),
        ("data.json", None),
    ],
)
def test_language_of(path: str, language: str | None) -> None:
    assert language_of(path) == language
