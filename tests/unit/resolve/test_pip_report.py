"""verify._resolve.pip_report: pip's installation report, its hash-mismatch errors, its command."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._resolve.pip_report import (
    PipResolveRequest,
    parse_hash_mismatches,
    parse_report,
    pip_command,
    resolve_with_pip,
)
from verify.errors import InvalidInputError, ResolutionError, UsageError
from verify.models import Candidate, LockedFile
from verify.settings import ResolutionSettings, TargetEnvironment

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64
FILES = "https://files.example/packages"

# -- installation reports -----------------------------------------------------------------------


def archive_item(
    name: str,
    version: str,
    url: str,
    *,
    requested: bool | None = True,
    archive_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``install`` entry as ``pip install --dry-run --report`` writes it."""
    item: dict[str, Any] = {
        "download_info": {
            "url": url,
            "archive_info": archive_info
            if archive_info is not None
            else {"hash": f"sha256={SHA_A}", "hashes": {"sha256": SHA_A}},
        },
        "is_direct": False,
        "is_yanked": False,
        "metadata": {
            "metadata_version": "2.1",
            "name": name,
            "version": version,
            "requires_python": ">=3.8",
        },
    }
    if requested is not None:
        item["requested"] = requested
    return item


def report(*items: dict[str, Any], version: str = "1") -> dict[str, Any]:
    return {
        "version": version,
        "pip_version": "24.2",
        "install": list(items),
        "environment": {
            "implementation_name": "cpython",
            "python_full_version": "3.12.4",
            "sys_platform": "linux",
        },
    }


REALISTIC = json.loads(
    """
{
  "version": "1",
  "pip_version": "24.2",
  "install": [
    {
      "download_info": {
        "url": "https://files.example/packages/f9/9b/requests-2.32.3-py3-none-any.whl",
        "archive_info": {
          "hash": "sha256=70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
          "hashes": {
            "sha256": "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"
          }
        }
      },
      "is_direct": false,
      "is_yanked": false,
      "requested": true,
      "requested_extras": ["socks"],
      "metadata": {
        "metadata_version": "2.1",
        "name": "requests",
        "version": "2.32.3",
        "requires_dist": [
          "charset-normalizer<4,>=2",
          "PySocks!=1.5.7,>=1.5.6; extra == \\"socks\\""
        ],
        "requires_python": ">=3.8"
      }
    },
    {
      "download_info": {
        "url": "https://files.example/packages/12/90/Charset_Normalizer-3.3.2-py3-none-any.whl",
        "archive_info": {
          "hash": "sha256=3E4D1F6587322D2788836A99C69062FBB091331EC940E02D12D179C1D53E25FC",
          "hashes": {
            "sha256": "3e4d1f6587322d2788836a99c69062fbb091331ec940e02d12d179c1d53e25fc",
            "md5": "0123456789ABCDEF0123456789abcdef"
          }
        }
      },
      "is_direct": false,
      "is_yanked": false,
      "requested": false,
      "metadata": {"metadata_version": "2.1", "name": "Charset_Normalizer", "version": "3.3.2"}
    },
    {
      "download_info": {
        "url": "https://files.example/packages/aa/bb/legacy_pkg-1.0.tar.gz",
        "archive_info": {
          "hash": "SHA256=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
        }
      },
      "is_direct": false,
      "requested": false,
      "metadata": {"metadata_version": "1.2", "name": "Legacy.Pkg", "version": "1.0"}
    },
    {
      "download_info": {
        "url": "https://github.com/example/tool.git",
        "vcs_info": {
          "vcs": "git",
          "requested_revision": "v1.2",
          "commit_id": "4f2a1b9c0d3e5f6a7b8c9d0e1f2a3b4c5d6e7f80"
        }
      },
      "is_direct": true,
      "requested": true,
      "metadata": {"metadata_version": "2.1", "name": "tool", "version": "1.2"}
    },
    {
      "download_info": {"url": "file:///home/dev/project", "dir_info": {"editable": true}},
      "is_direct": true,
      "requested": true,
      "metadata": {"metadata_version": "2.3", "name": "my-project", "version": "0.1.dev0"}
    },
    {
      "download_info": {"url": "file:///home/dev/vendored", "dir_info": {}},
      "is_direct": true,
      "requested": false,
      "metadata": {"metadata_version": "2.1", "name": "vendored", "version": "3"}
    }
  ],
  "environment": {"implementation_name": "cpython", "python_version": "3.12"}
}
"""
)


def by_name(candidates: Sequence[Candidate]) -> dict[str, Candidate]:
    return {str(c.name): c for c in candidates}


def test_parse_realistic_report() -> None:
    candidates = parse_report(REALISTIC)
    assert [str(c.name) for c in candidates] == [
        "requests",
        "charset-normalizer",
        "legacy-pkg",
        "tool",
        "my-project",
        "vendored",
    ]
    found = by_name(candidates)
    requests = found["requests"]
    assert requests.version == Version("2.32.3")
    assert requests.requested is True
    assert requests.preselected is True
    assert requests.origin == "resolver"
    assert requests.unverifiable is None
    assert requests.files == (
        LockedFile(
            filename="requests-2.32.3-py3-none-any.whl",
            url="https://files.example/packages/f9/9b/requests-2.32.3-py3-none-any.whl",
            hashes={"sha256": "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"},
        ),
    )
    charset = found["charset-normalizer"]
    assert charset.requested is False
    assert charset.files[0].filename == "Charset_Normalizer-3.3.2-py3-none-any.whl"
    assert charset.files[0].hashes == {
        "sha256": "3e4d1f6587322d2788836a99c69062fbb091331ec940e02d12d179c1d53e25fc",
        "md5": "0123456789abcdef0123456789abcdef",
    }
    legacy = found["legacy-pkg"]
    assert legacy.files[0].hashes == {"sha256": SHA_B}
    assert legacy.files[0].filename == "legacy_pkg-1.0.tar.gz"


def test_vcs_and_directories_are_unverifiable() -> None:
    found = by_name(parse_report(REALISTIC))
    tool = found["tool"]
    assert tool.files == ()
    assert tool.requested is True
    assert tool.version == Version("1.2")
    assert tool.unverifiable is not None
    assert "VCS" in tool.unverifiable
    assert "https://github.com/example/tool.git" in tool.unverifiable
    project = found["my-project"]
    assert project.files == ()
    assert project.unverifiable is not None
    assert "editable" in project.unverifiable
    assert "file:///home/dev/project" in project.unverifiable
    vendored = found["vendored"]
    assert vendored.unverifiable is not None
    assert "directory" in vendored.unverifiable
    assert "editable" not in vendored.unverifiable
    assert vendored.requested is False


def test_unverifiable_urls_are_redacted() -> None:
    item = archive_item("tool", "1.0", "https://bot:s3cret@git.example/tool.git")
    item["download_info"] = {
        "url": "https://bot:s3cret@git.example/tool.git",
        "vcs_info": {"vcs": "git", "commit_id": "0" * 40},
    }
    (candidate,) = parse_report(report(item))
    assert candidate.unverifiable is not None
    assert "s3cret" not in candidate.unverifiable
    assert "git.example/tool.git" in candidate.unverifiable


@pytest.mark.parametrize(
    ("archive_info", "expected"),
    [
        ({"hashes": {"sha256": SHA_A}}, {"sha256": SHA_A}),
        ({"hash": f"sha256={SHA_A}"}, {"sha256": SHA_A}),
        ({"hash": f"md5={'D' * 32}"}, {"md5": "d" * 32}),
        # Both: the ``hashes`` dict wins for its algorithm, the legacy key adds others.
        ({"hash": f"sha256={SHA_B}", "hashes": {"sha256": SHA_A}}, {"sha256": SHA_A}),
        (
            {"hash": f"md5={'e' * 32}", "hashes": {"SHA256": SHA_A}},
            {"sha256": SHA_A, "md5": "e" * 32},
        ),
        ({}, {}),
        ({"hashes": {}}, {}),
        ({"hash": "no-equals-sign"}, {}),
    ],
)
def test_archive_hashes(archive_info: dict[str, Any], expected: dict[str, str]) -> None:
    item = archive_item("demo", "1.0", f"{FILES}/demo-1.0.tar.gz", archive_info=archive_info)
    (candidate,) = parse_report(report(item))
    assert dict(candidate.files[0].hashes) == expected
    assert candidate.allowed_sha256 == frozenset()


@pytest.mark.parametrize(("requested", "expected"), [(True, True), (False, False), (None, False)])
def test_requested_flag(requested: bool | None, expected: bool) -> None:
    item = archive_item("demo", "1.0", f"{FILES}/demo-1.0.tar.gz", requested=requested)
    (candidate,) = parse_report(report(item))
    assert candidate.requested is expected


def test_filename_is_unquoted_and_fragment_dropped() -> None:
    url = f"{FILES}/demo-1.0%2Blocal-py3-none-any.whl#sha256={SHA_A}"
    (candidate,) = parse_report(report(archive_item("demo", "1.0+local", url)))
    assert candidate.files[0].filename == "demo-1.0+local-py3-none-any.whl"
    assert candidate.version == Version("1.0+local")


def test_report_minor_version_and_empty_install() -> None:
    assert parse_report(report(version="1.1")) == []
    assert parse_report({"install": []}) == []


def _without(key: str) -> dict[str, Any]:
    item = archive_item("demo", "1.0", f"{FILES}/demo-1.0.tar.gz")
    del item[key]
    return report(item)


def _with_metadata(**metadata: Any) -> dict[str, Any]:
    item = archive_item("demo", "1.0", f"{FILES}/demo-1.0.tar.gz")
    item["metadata"] = metadata
    return report(item)


def _with_download_info(info: Any) -> dict[str, Any]:
    item = archive_item("demo", "1.0", f"{FILES}/demo-1.0.tar.gz")
    item["download_info"] = info
    return report(item)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (None, "no 'install' list"),
        ([], "no 'install' list"),
        ("{}", "no 'install' list"),
        ({}, "no 'install' list"),
        ({"install": {}}, "no 'install' list"),
        ({"version": "2", "install": []}, "version 2"),
        ({"install": ["demo==1.0"]}, "malformed entry"),
        ({"install": [None]}, "malformed entry"),
        (_without("metadata"), "malformed entry"),
        (_without("download_info"), "malformed entry"),
        (_with_metadata(name="demo"), "malformed entry"),
        (_with_metadata(version="1.0"), "malformed entry"),
        (_with_metadata(name="demo", version="not a version"), "malformed entry"),
        (_with_download_info({}), "malformed entry"),
        (_with_download_info({"url": "x", "archive_info": {"hashes": "sha256"}}), "malformed"),
        (_with_download_info({"url": "x", "archive_info": {"hash": 5}}), "malformed entry"),
        (_with_download_info({"url": "x", "archive_info": "sha256=abc"}), "malformed entry"),
        (_with_download_info({"url": "x", "dir_info": None}), "malformed entry"),
        (_with_download_info({"url": "x", "archive_info": None}), "malformed entry"),
    ],
)
def test_malformed_reports(document: Any, fragment: str) -> None:
    with pytest.raises(ResolutionError) as info:
        parse_report(document)
    assert fragment in info.value.message


# -- pip's hash mismatch error ------------------------------------------------------------------

MISMATCH_HEAD = (
    "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated "
    "the package versions, please update the hashes. Otherwise, examine the package contents "
    "carefully; someone may have tampered with them."
)


@dataclass(frozen=True)
class Mismatch:
    """One package in pip's ``HashMismatch`` error."""

    requirement: str  # str(InstallRequirement): "name==1.0 from URL[ (from parent)]"
    allowed: Mapping[str, Sequence[str]]
    got: Mapping[str, str]

    def body(self) -> str:
        # pip._internal.exceptions.hashes.HashMismatch.body() and _hash_comparison()
        lines: list[str] = []
        for name, expecteds in self.allowed.items():
            for position, digest in enumerate(expecteds):
                label = name if position == 0 else "    or"
                lines.append(f"        Expected {label} {digest}")
            lines.append(f"             Got        {self.got[name]}\n")
        comparison = "\n".join(lines)
        return f"    {self.requirement}:\n{comparison}"


def pip_stderr(*mismatches: Mismatch, before: str = "") -> str:
    """What pip prints: its ``HashErrors`` message logged at critical level (``ERROR: ``)."""
    text = "\n".join([MISMATCH_HEAD, *(m.body() for m in mismatches)])
    return f"{before}ERROR: {text}\n"


def test_reproduction_matches_pips_own_message() -> None:
    from pip._internal.exceptions import HashErrors, HashMismatch
    from pip._internal.models.link import Link
    from pip._internal.req.constructors import install_req_from_line

    beta_url = f"http://127.0.0.1:8080/files/beta-2.0-py3-none-any.whl#sha256={SHA_A}"
    gamma_url = "http://127.0.0.1:8080/files/gamma-3.0.tar.gz"
    errors = HashErrors()
    beta = install_req_from_line("beta==2.0", comes_from="alpha==1.0")
    beta.link = Link(beta_url)
    error = HashMismatch({"sha256": [SHA_A, SHA_B]}, {"sha256": hashlib.sha256(b"x")})
    error.req = beta
    errors.append(error)
    gamma = install_req_from_line("gamma==3.0")
    gamma.link = Link(gamma_url)
    error = HashMismatch({"sha256": [SHA_C]}, {"sha256": hashlib.sha256(b"y")})
    error.req = gamma
    errors.append(error)

    ours = pip_stderr(
        Mismatch(
            f"beta==2.0 from {beta_url} (from alpha==1.0)",
            {"sha256": [SHA_A, SHA_B]},
            {"sha256": hashlib.sha256(b"x").hexdigest()},
        ),
        Mismatch(
            f"gamma==3.0 from {gamma_url}",
            {"sha256": [SHA_C]},
            {"sha256": hashlib.sha256(b"y").hexdigest()},
        ),
    )
    assert ours == f"ERROR: {errors}\n"


def test_mismatch_of_a_dependency_from_an_html_index() -> None:
    url = "http://127.0.0.1:8080/files/beta-2.0-py3-none-any.whl"
    stderr = pip_stderr(
        Mismatch(
            f"beta==2.0 from {url}#sha256={SHA_A} (from alpha==1.0)",
            {"sha256": [SHA_A]},
            {"sha256": SHA_B},
        )
    )
    assert parse_hash_mismatches(stderr) == [
        Candidate(
            name=canonicalize_name("beta"),
            version=Version("2.0"),
            files=(
                LockedFile(filename="beta-2.0-py3-none-any.whl", url=url, hashes={"sha256": SHA_A}),
            ),
            origin="resolver",
            preselected=True,
        )
    ]


def test_several_packages() -> None:
    stderr = pip_stderr(
        Mismatch(
            f"beta==2.0 from {FILES}/beta-2.0-py3-none-any.whl#sha256={SHA_A} (from alpha==1.0)",
            {"sha256": [SHA_A]},
            {"sha256": SHA_C},
        ),
        Mismatch(
            f"gamma==3.0 from {FILES}/gamma-3.0.tar.gz#sha256={SHA_B} (from -r req.txt (line 2))",
            {"sha256": [SHA_B.upper()]},
            {"sha256": SHA_C},
        ),
        before="Collecting alpha==1.0\nWARNING: something unrelated: http://x.example/y:\n",
    )
    candidates = parse_hash_mismatches(stderr)
    assert [(str(c.name), c.version) for c in candidates] == [
        ("beta", Version("2.0")),
        ("gamma", Version("3.0")),
    ]
    assert [c.files[0].url for c in candidates] == [
        f"{FILES}/beta-2.0-py3-none-any.whl",
        f"{FILES}/gamma-3.0.tar.gz",
    ]
    assert [dict(c.files[0].hashes) for c in candidates] == [{"sha256": SHA_A}, {"sha256": SHA_B}]
    assert all(c.preselected and c.origin == "resolver" for c in candidates)


def test_only_the_first_allowed_digest_is_kept() -> None:
    stderr = pip_stderr(
        Mismatch(
            f"beta==2.0 from {FILES}/beta-2.0-py3-none-any.whl (from alpha==1.0)",
            {"sha256": [SHA_A, SHA_B]},
            {"sha256": SHA_C},
        )
    )
    (candidate,) = parse_hash_mismatches(stderr)
    assert dict(candidate.files[0].hashes) == {"sha256": SHA_A}


def test_mismatch_of_a_top_level_requirement_from_a_json_index() -> None:
    # Captured from pip 26 against a PEP 691 JSON index: JSON links carry no #sha256
    # fragment, and a command-line requirement has no "(from ...)" part, so the URL is
    # directly followed by the colon.
    stderr = (
        f"ERROR: {MISMATCH_HEAD}\n"
        "    gamma==3.0 from http://127.0.0.1:49113/files/gamma-3.0-py3-none-any.whl:\n"
        f"        Expected sha256 {SHA_A}\n"
        f"             Got        {SHA_B}\n\n"
    )
    (candidate,) = parse_hash_mismatches(stderr)
    assert str(candidate.name) == "gamma"
    assert candidate.files[0].filename == "gamma-3.0-py3-none-any.whl"
    assert candidate.files[0].url == "http://127.0.0.1:49113/files/gamma-3.0-py3-none-any.whl"
    assert dict(candidate.files[0].hashes) == {"sha256": SHA_A}


def test_captured_html_index_mismatch() -> None:
    stderr = (
        f"ERROR: {MISMATCH_HEAD}\n"
        "    gamma==3.0 from http://127.0.0.1:35665/files/gamma-3.0-py3-none-any.whl"
        f"#sha256={SHA_A}:\n"
        f"        Expected sha256 {SHA_A}\n"
        f"             Got        {SHA_B}\n\n"
    )
    (candidate,) = parse_hash_mismatches(stderr)
    assert candidate.files[0].url == "http://127.0.0.1:35665/files/gamma-3.0-py3-none-any.whl"


@pytest.mark.parametrize(
    "stderr",
    [
        "",
        "ERROR: No matching distribution found for demo==9\n",
        pip_stderr(
            Mismatch(
                f"odd from {FILES}/not-a-dist (from a==1)", {"sha256": [SHA_A]}, {"sha256": SHA_B}
            )
        ),
    ],
)
def test_no_mismatches(stderr: str) -> None:
    assert parse_hash_mismatches(stderr) == []


# -- the pip command ----------------------------------------------------------------------------


def test_pip_command_defaults(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    command = pip_command(PipResolveRequest(requirements=("demo==1.0",)), report_path, "/py")
    assert command[:4] == ["/py", "-m", "pip", "install"]
    assert "--dry-run" in command
    assert "--ignore-installed" in command
    assert "--only-binary=:all:" in command
    assert command[command.index("--report") + 1] == str(report_path)
    assert command[-1] == "demo==1.0"
    assert "--no-index" not in command
    assert "--pre" not in command
    assert "--index-url" not in command
    assert not any(arg in command for arg in ("--python-version", "--platform", "--abi"))


def test_pip_command_allows_source_builds_on_request(tmp_path: Path) -> None:
    command = pip_command(
        PipResolveRequest(
            requirements=("demo",), resolution=ResolutionSettings(allow_source_builds=True)
        ),
        tmp_path / "r",
        "py",
    )
    assert not any("only-binary" in arg for arg in command)


def test_pip_command_options(tmp_path: Path) -> None:
    request = PipResolveRequest(
        requirements=("a==1", "b[x]>=2"),
        requirement_files=(tmp_path / "req.txt",),
        constraint_files=(tmp_path / "c.txt",),
        resolution=ResolutionSettings(
            index_url="https://i.example/simple/",
            extra_index_urls=("https://x1.example/simple/", "https://x2.example/simple/"),
            find_links=("/wheels",),
            no_index=True,
            pre=True,
        ),
    )
    command = pip_command(request, tmp_path / "r.json", "py")

    def after(option: str) -> list[str]:
        return [command[i + 1] for i, arg in enumerate(command) if arg == option]

    assert after("--index-url") == ["https://i.example/simple/"]
    assert after("--extra-index-url") == [
        "https://x1.example/simple/",
        "https://x2.example/simple/",
    ]
    assert after("--find-links") == ["/wheels"]
    assert after("--requirement") == [str(tmp_path / "req.txt")]
    assert after("--constraint") == [str(tmp_path / "c.txt")]
    assert "--no-index" in command
    assert "--pre" in command
    assert command[-2:] == ["a==1", "b[x]>=2"]


def test_target_args() -> None:
    target = TargetEnvironment(
        python_version="3.9",
        platforms=("manylinux2014_x86_64", "musllinux_1_2_x86_64"),
        implementation="cp",
        abis=("cp39", "abi3"),
    )
    assert target.is_set
    assert target.pip_args() == [
        "--python-version", "3.9",
        "--platform", "manylinux2014_x86_64",
        "--platform", "musllinux_1_2_x86_64",
        "--implementation", "cp",
        "--abi", "cp39",
        "--abi", "abi3",
    ]  # fmt: skip
    assert TargetEnvironment().pip_args() == []
    assert not TargetEnvironment().is_set
    command = pip_command(
        PipResolveRequest(requirements=("d",), resolution=ResolutionSettings(target=target)),
        Path("r"),
        "py",
    )
    assert command[command.index("--python-version") + 1] == "3.9"
    assert command.count("--platform") == 2
    assert "--only-binary=:all:" in command


@pytest.mark.parametrize(
    "target",
    [
        TargetEnvironment(python_version="3.9"),
        TargetEnvironment(platforms=("win_amd64",)),
        TargetEnvironment(implementation="pp"),
        TargetEnvironment(abis=("abi3",)),
    ],
)
def test_target_with_source_builds_is_a_usage_error(
    target: TargetEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("verify._resolve.pip_report.subprocess.run", _no_subprocess)
    request = PipResolveRequest(
        requirements=("demo",),
        resolution=ResolutionSettings(target=target, allow_source_builds=True),
    )
    with pytest.raises(UsageError) as info:
        resolve_with_pip(request)
    assert "--allow-source-builds" in (info.value.hint or "")


def _no_subprocess(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("pip must not be run")


@pytest.mark.parametrize("requirement", ["demo==", "not a requirement!", "demo>=1,,2", "[x]"])
def test_invalid_requirement(requirement: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("verify._resolve.pip_report.subprocess.run", _no_subprocess)
    with pytest.raises(InvalidInputError) as info:
        resolve_with_pip(PipResolveRequest(requirements=("ok==1.0", requirement)))
    assert repr(requirement) in info.value.message
    assert info.value.hint is not None


# -- resolve_with_pip with a stand-in for pip ----------------------------------------------------

FAKE_PIP = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PIP_ARGS"], "w") as fh:
    json.dump(args, fh)
mode = os.environ["FAKE_PIP_MODE"]
if mode == "ok":
    with open(args[args.index("--report") + 1], "w") as fh:
        fh.write(os.environ["FAKE_PIP_REPORT"])
    sys.exit(0)
sys.stderr.write(os.environ["FAKE_PIP_STDERR"])
sys.exit(1)
"""


@pytest.fixture
def fake_pip(tmp_path: Path) -> Path:
    if sys.platform == "win32":  # pragma: no cover
        pytest.skip("the stand-in pip is a POSIX script")
    script = tmp_path / "fake-python"
    script.write_text(FAKE_PIP.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def fake_env(tmp_path: Path, mode: str, **values: str) -> dict[str, str]:
    env = dict(os.environ)
    env["FAKE_PIP_MODE"] = mode
    env["FAKE_PIP_ARGS"] = str(tmp_path / "args.json")
    env.update({f"FAKE_PIP_{key.upper()}": value for key, value in values.items()})
    return env


def test_resolve_with_pip_reads_the_report(fake_pip: Path, tmp_path: Path) -> None:
    env = fake_env(tmp_path, "ok", report=json.dumps(REALISTIC))
    resolution = resolve_with_pip(
        PipResolveRequest(requirements=("requests[socks]==2.32.3",)), python=str(fake_pip), env=env
    )
    assert resolution.stopped is None
    assert [str(c.name) for c in resolution.candidates][:2] == ["requests", "charset-normalizer"]
    args = json.loads((tmp_path / "args.json").read_text())
    assert args[:3] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in args


def test_resolve_with_pip_failure_shows_pips_error(fake_pip: Path, tmp_path: Path) -> None:
    stderr = (
        "Looking in indexes: https://bot:s3cret@index.example/simple\n"
        "ERROR: Could not find a version that satisfies the requirement demo==9 (from versions: "
        "1.0) at https://bot:s3cret@index.example/simple/demo/\n"
        "ERROR: No matching distribution found for demo==9\n"
    )
    env = fake_env(tmp_path, "fail", stderr=stderr)
    with pytest.raises(ResolutionError) as info:
        resolve_with_pip(
            PipResolveRequest(requirements=("demo==9",)), python=str(fake_pip), env=env
        )
    assert "Could not find a version" in info.value.message
    assert "s3cret" not in info.value.one_line()
    assert info.value.hint is not None
    assert "--allow-source-builds" in info.value.hint


def test_resolve_with_pip_hash_mismatch_stops(fake_pip: Path, tmp_path: Path) -> None:
    stderr = pip_stderr(
        Mismatch(
            f"beta==2.0 from {FILES}/beta-2.0-py3-none-any.whl#sha256={SHA_A} (from alpha==1.0)",
            {"sha256": [SHA_A]},
            {"sha256": SHA_B},
        )
    )
    env = fake_env(tmp_path, "fail", stderr=stderr)
    resolution = resolve_with_pip(
        PipResolveRequest(requirements=("alpha==1.0",)), python=str(fake_pip), env=env
    )
    assert resolution.stopped is not None
    (candidate,) = resolution.candidates
    assert str(candidate.name) == "beta"
    assert dict(candidate.files[0].hashes) == {"sha256": SHA_A}


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, "
            "status=None)) after connection broken by 'NewConnectionError(\"HTTPConnection("
            "host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] "
            "Connection refused\")': /simple/alpha/\nERROR: No matching distribution found",
            "127.0.0.1:9 (connection refused)",
        ),
        ("ERROR: No matching distribution found for alpha", None),
    ],
)
def test_unreachable_host_is_read_from_pips_warnings(stderr: str, expected: str | None) -> None:
    from verify._resolve.pip_report import _unreachable_host

    assert _unreachable_host(stderr) == expected
