"""verify._records: small JSON records written atomically, and unusable ones discarded."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from verify._records import read_record, write_record


def as_int(data: object) -> int:
    if not isinstance(data, int):
        raise TypeError("not an integer")
    return data


def test_a_record_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "ab" / "record.json"
    write_record(path, 7)
    assert read_record(path, as_int) == 7
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]


def test_an_absent_record_is_none(tmp_path: Path) -> None:
    assert read_record(tmp_path / "absent.json", as_int) is None
    assert read_record(tmp_path / "absent" / "deeper.json", as_int) is None


@pytest.mark.parametrize("content", ["{", '"seven"', "[" * 100_000])
def test_an_unusable_record_is_removed(tmp_path: Path, content: str) -> None:
    path = tmp_path / "record.json"
    path.write_text(content, encoding="utf-8")
    assert read_record(path, as_int) is None
    assert not path.exists()


def test_a_root_that_is_a_file_reads_as_absent_and_writes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="verify._records")
    assert read_record(blocker / "record.json", as_int) is None
    write_record(blocker / "record.json", 7)
    assert blocker.read_text(encoding="utf-8") == "keep"
    assert "could not write the record" in caplog.text


def test_writers_in_many_threads_leave_one_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "ab" / "record.json"

    def write(value: int) -> None:
        for _ in range(20):
            write_record(path, value)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read_record(path, as_int) in range(8)
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]


def test_a_temporary_name_already_taken_is_not_written_through(tmp_path: Path) -> None:
    # Another host's process on a shared cache directory may hold this process's name.
    path = tmp_path / "record.json"
    taken = tmp_path / f"record.json.{os.getpid()}-{threading.get_ident()}.tmp"
    taken.write_text("theirs", encoding="utf-8")
    write_record(path, 7)
    assert read_record(path, as_int) == 7
    assert taken.read_text(encoding="utf-8") == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["record.json", taken.name])


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_record_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    write_record(path, 7)
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
