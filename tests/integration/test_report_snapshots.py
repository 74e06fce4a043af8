"""Reports on the integration fixtures, byte for byte (JSON key order included).

The engine is being restructured (issue 16) with its behaviour unchanged: these snapshots say
what "unchanged" means. Each case runs the real CLI on the corpus's tinyweb releases, with
1.0 served on a loopback index; ports and temporary paths are the only parts replaced.

After an intended change of output, regenerate with ``python -m pytest
tests/integration/test_report_snapshots.py --update-snapshots`` and review the diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PackageIndex
from tests.helpers.corpus import BASE, BENIGN, MALICIOUS
from tests.helpers.dists import build_wheel
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data" / "snapshots"
VARIANTS = {variant.id: variant for variant in (*MALICIOUS, *BENIGN)}
#: (command, variant, format): screen against the index for every variant's JSON, and every
#: format for a few; check and diff offline.
CASES = [
    *(("screen", variant, "json") for variant in sorted(VARIANTS)),
    *(
        ("screen", variant, fmt)
        for variant in ("pth-file", "feature")
        for fmt in ("text", "sarif", "markdown")
    ),
    *(("check", variant, fmt) for variant in ("install-hook", "refactor") for fmt in ("json",)),
    *(("diff", variant, fmt) for variant in ("pth-file", "feature") for fmt in ("json", "text")),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    directory = tmp_path_factory.mktemp("snapshot-index")
    build_wheel(BASE, directory)
    with PackageIndex(directory) as served:
        yield served


def _normalised(text: str, index: PackageIndex) -> str:
    text = text.replace(index.url, "http://index.example/simple/")
    text = re.sub(r"127\.0\.0\.1:\d+", "index.example", text)
    return text.replace(str(index.directory), "<index>")


def _run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    index: PackageIndex,
    case: tuple[str, str, str],
) -> str:
    """The exit code and report of one case, run from ``workdir`` with relative paths (so
    that the paths a report shows are the same in every run)."""
    command, variant, fmt = case
    workdir.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(workdir)
    build_wheel(VARIANTS[variant].build(), workdir / "new")
    new = f"new/{BASE.name}-1.1-py3-none-any.whl"
    cache = ["--cache-dir", "cache"]
    argv: list[str]
    if command == "screen":
        argv = ["screen", new, "--index", index.url, "--no-public-check", *cache]
        argv += ["--policy", str(without_provenance_requirement())]
    elif command == "check":
        argv = ["check", new, "--offline", *cache]
    else:
        build_wheel(BASE, workdir / "old")
        argv = ["diff", f"old/{BASE.name}-1.0-py3-none-any.whl", new]
    code = main([*argv, "--format", fmt, "-o", f"report.{fmt}"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    report = (workdir / f"report.{fmt}").read_text()
    return f"exit {code}\n" + _normalised(report, index)


@pytest.mark.parametrize(("command", "variant", "fmt"), CASES)
def test_reports_are_unchanged(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    index: PackageIndex,
    request: pytest.FixtureRequest,
    command: str,
    variant: str,
    fmt: str,
) -> None:
    case = (command, variant, fmt)
    produced = _run(capsys, monkeypatch, tmp_path / "first", index, case)
    # A second run, with a cold cache, must give the same bytes, or the snapshot would be of
    # noise.
    assert _run(capsys, monkeypatch, tmp_path / "second", index, case) == produced
    snapshot = SNAPSHOTS / f"{command}-{variant}.{fmt}.txt"
    update: Any = request.config.getoption("--update-snapshots")
    if update:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(produced)
    assert snapshot.is_file(), f"no snapshot {snapshot.name}: run with --update-snapshots"
    assert produced == snapshot.read_text()
