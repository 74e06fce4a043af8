"""Reading core metadata from a distribution's members, and diffing two releases' metadata."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from verify._behaviour.metadata_diff import MetadataChange, MetadataDiff, diff_metadata
from verify._checks.typosquat import PopularNames
from verify._dist.metadata import (
    LEGACY_BACKEND,
    MAX_METADATA_BYTES,
    MAX_REQUIREMENTS,
    DistMetadata,
    read_metadata,
)
from verify.errors import ArchiveError
from verify.models import Finding, Severity

WHEEL_METADATA = "demo-1.0.dist-info/METADATA"


def core(*lines: str, name: str = "demo", version: str = "1.0") -> bytes:
    """Core metadata text with Name and Version (unless blanked) and the given header lines."""
    head = ["Metadata-Version: 2.4"]
    head += [f"Name: {name}"] if name else []
    head += [f"Version: {version}"] if version else []
    return ("\n".join([*head, *lines]) + "\n\nThe long description.\n").encode()


def read(
    files: Mapping[str, bytes],
) -> tuple[DistMetadata | None, tuple[Finding, ...]]:
    """read_metadata over an in-memory archive."""
    return read_metadata(list(files), files.__getitem__)


def rules(findings: tuple[Finding, ...]) -> list[str]:
    return [finding.rule for finding in findings]


def only(findings: tuple[Finding, ...], rule: str) -> Finding:
    """The single finding of ``rule`` (and fail if there are none or several)."""
    matching = [finding for finding in findings if finding.rule == rule]
    assert len(matching) == 1, findings
    return matching[0]


# --- reading: wheels -----------------------------------------------------------------------


def test_wheel_metadata_is_read_field_by_field() -> None:
    files = {
        "demo/__init__.py": b"",
        WHEEL_METADATA: core(
            "Requires-Dist: requests>=2.31",
            'Requires-Dist: rich; extra == "cli"',
            "Provides-Extra: cli",
            "Author: Jane  Doe",
            "Author-email: Jane Doe <Jane@Example.ORG>, ops@example.org",
            "Maintainer-email: ops@example.org",
            "Home-page: https://example.org/demo",
            "Download-URL: https://downloads.example.org/demo",
            "Project-URL: Source, https://github.com/demo/demo",
            "Requires-Python: >=3.9",
            "License-Expression: MIT",
            "License: ignored, the expression wins",
        ),
        "demo-1.0.dist-info/entry_points.txt": (
            b"[console_scripts]\nDemo = demo.cli:main\n\n[demo.plugins]\nx = demo.x:X [extra]\n"
        ),
    }

    metadata, findings = read(files)

    assert findings == ()
    assert metadata == DistMetadata(
        name="demo",
        version="1.0",
        requires_dist=("requests>=2.31", 'rich; extra == "cli"'),
        provides_extra=("cli",),
        # Entry point names keep their case: they are case-sensitive.
        entry_points={
            "console_scripts": {"Demo": "demo.cli:main"},
            "demo.plugins": {"x": "demo.x:X [extra]"},
        },
        people=("Jane Doe", "jane@example.org", "ops@example.org"),
        project_urls={
            "Source": "https://github.com/demo/demo",
            "Home-page": "https://example.org/demo",
            "Download-URL": "https://downloads.example.org/demo",
        },
        requires_python=">=3.9",
        license="MIT",
        build_backend=None,
        backend_path=(),
        source=WHEEL_METADATA,
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(("License-Expression: Apache-2.0", "License: MIT"), "Apache-2.0", id="expr"),
        pytest.param(
            ("License: BSD 3-Clause\n        Copyright (c) someone",), "BSD 3-Clause", id="text"
        ),
        pytest.param((f"License: {'x' * 500}",), "x" * 200, id="text-capped"),
        pytest.param(
            (
                "Classifier: Programming Language :: Python",
                "Classifier: License :: OSI Approved :: MIT License",
                "Classifier: License :: Public Domain",
            ),
            "License :: OSI Approved :: MIT License; License :: Public Domain",
            id="classifiers",
        ),
        pytest.param(
            ("License: UNKNOWN", "Classifier: License :: OSI Approved :: MIT License"),
            "License :: OSI Approved :: MIT License",
            id="setuptools-unknown",
        ),
        pytest.param((), None, id="none"),
    ],
)
def test_license_falls_back_from_expression_to_text_to_classifiers(
    lines: tuple[str, ...], expected: str | None
) -> None:
    metadata, _ = read({WHEEL_METADATA: core(*lines)})
    assert metadata is not None
    assert metadata.license == expected


def test_people_are_normalized_sorted_and_unique() -> None:
    metadata, _ = read(
        {
            WHEEL_METADATA: core(
                "Author: Jane Doe",
                "Maintainer: Jane   Doe",
                "Author-email: JANE@EXAMPLE.ORG",
                "Maintainer-email: jane@example.org, Bob <bob@example.net>",
            )
        }
    )
    assert metadata is not None
    assert metadata.people == ("Bob", "Jane Doe", "bob@example.net", "jane@example.org")


def test_a_dist_info_below_the_top_level_is_not_the_wheels() -> None:
    metadata, findings = read(
        {
            WHEEL_METADATA: core(),
            "demo/_vendor/six-1.16.dist-info/METADATA": core(name="six", version="1.16"),
        }
    )
    assert findings == ()
    assert metadata is not None
    assert (metadata.name, metadata.source) == ("demo", WHEEL_METADATA)


# --- reading: sdists -----------------------------------------------------------------------

PYPROJECT = b"""
[build-system]
requires = ["backend"]
build-backend = "backend_impl"
backend-path = ["_build"]

[project]
name = "demo"
scripts = { demo = "demo.cli:main" }
gui-scripts = { demo-gui = "demo.gui:main" }

[project.entry-points."demo.plugins"]
declared = "demo.plugins:declared"
"""


def test_sdist_reads_pkg_info_and_pyproject() -> None:
    files = {
        "PKG-INFO": core("Requires-Dist: requests"),
        "pyproject.toml": PYPROJECT,
        "demo.egg-info/PKG-INFO": core(name="ignored"),
        "demo.egg-info/entry_points.txt": b"[demo.plugins]\nbuilt = demo.plugins:built\n",
        "demo/__init__.py": b"",
    }

    metadata, findings = read(files)

    assert findings == ()
    assert metadata is not None
    assert (metadata.name, metadata.source) == ("demo", "PKG-INFO")
    assert metadata.build_backend == "backend_impl"
    assert metadata.backend_path == ("_build",)
    assert metadata.entry_points == {
        "console_scripts": {"demo": "demo.cli:main"},
        "gui_scripts": {"demo-gui": "demo.gui:main"},
        "demo.plugins": {"built": "demo.plugins:built", "declared": "demo.plugins:declared"},
    }


def test_sdist_falls_back_to_egg_info_pkg_info_and_the_legacy_backend() -> None:
    files = {
        "./setup.py": b"from setuptools import setup; setup()",
        "./src/demo.egg-info/PKG-INFO": core(version="2.0"),
        "./tests/data/other.egg-info/PKG-INFO": core(name="fixture"),
    }

    metadata, findings = read(files)

    assert findings == ()
    assert metadata is not None
    assert (metadata.version, metadata.source) == ("2.0", "src/demo.egg-info/PKG-INFO")
    assert metadata.build_backend == LEGACY_BACKEND


@pytest.mark.parametrize(
    ("extra", "backend"),
    [
        pytest.param({}, None, id="no-build-files"),
        pytest.param({"pyproject.toml": b"[build-system]\nrequires = []\n"}, None, id="no-key"),
        pytest.param(
            {"setup.py": b"", "pyproject.toml": b"[build-system]\nrequires = []\n"},
            LEGACY_BACKEND,
            id="no-key-with-setup-py",
        ),
        pytest.param(
            {
                "setup.py": b"",
                "pyproject.toml": b'[build-system]\nbuild-backend = "hatchling.build"',
            },
            "hatchling.build",
            id="named",
        ),
    ],
)
def test_sdist_build_backend(extra: dict[str, bytes], backend: str | None) -> None:
    metadata, findings = read({"PKG-INFO": core(), **extra})
    assert findings == ()
    assert metadata is not None
    assert metadata.build_backend == backend


def test_sdist_without_pkg_info_keeps_what_pyproject_says() -> None:
    metadata, findings = read({"pyproject.toml": PYPROJECT})

    finding = only(findings, "metadata-malformed")
    assert (finding.path, finding.severity) == ("PKG-INFO", Severity.HIGH)
    assert "no PKG-INFO" in finding.message
    assert metadata is not None
    assert (metadata.name, metadata.source) == (None, "pyproject.toml")
    assert metadata.backend_path == ("_build",)


# --- reading: hostile and malformed input ---------------------------------------------------


def _refuse(path: str) -> bytes:
    raise ArchiveError("member exceeds the size limit", path=path)


@pytest.mark.parametrize(
    ("files", "path", "evidence"),
    [
        pytest.param(
            {WHEEL_METADATA: bytes(range(256)) * 4},
            WHEEL_METADATA,
            "not core metadata",
            id="garbage",
        ),
        pytest.param(
            {"demo-1.0.dist-info/RECORD": b""}, WHEEL_METADATA, "has no demo-1.0", id="no-metadata"
        ),
        pytest.param({"demo/__init__.py": b""}, "PKG-INFO", "no PKG-INFO", id="no-metadata-at-all"),
        pytest.param(
            {WHEEL_METADATA: core(), "evil-1.0.dist-info/METADATA": core(name="evil")},
            "demo-1.0.dist-info",
            "2 .dist-info directories (demo-1.0.dist-info, evil-1.0.dist-info)",
            id="two-dist-info",
        ),
        pytest.param(
            {WHEEL_METADATA: b"Name: demo\nName: evil\nVersion: 1.0\n"},
            WHEEL_METADATA,
            "cannot parse name (repeated",
            id="repeated-name",
        ),
        pytest.param(
            {WHEEL_METADATA: b"Name: d\xffmo\nVersion: 1.0\n"},
            WHEEL_METADATA,
            "cannot parse name (repeated, or not UTF-8)",
            id="name-not-utf8",
        ),
        pytest.param(
            {WHEEL_METADATA: b"Metadata-Version: 2.1\nVersion: 1.0\n"},
            WHEEL_METADATA,
            "has no Name field",
            id="no-name",
        ),
        pytest.param(
            {WHEEL_METADATA: b"Name: demo\n" + b"X-Padding: " + b"a" * MAX_METADATA_BYTES},
            WHEEL_METADATA,
            "over the 10 MiB metadata limit",
            id="huge",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"[build-system\nbuild-backend = 1"},
            "pyproject.toml",
            "not valid TOML",
            id="invalid-toml",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"a = " + b"[" * 100_000},
            "pyproject.toml",
            "not valid TOML: maximum recursion depth",
            id="toml-nesting",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"\xff\xfe[build-system]"},
            "pyproject.toml",
            "not valid TOML",
            id="toml-not-utf8",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"build-system = 3"},
            "pyproject.toml",
            "[build-system] is a int, not a table",
            id="toml-build-system-type",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"[build-system]\nbuild-backend = ['x']"},
            "pyproject.toml",
            "build-backend is not a string",
            id="toml-backend-type",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"[project]\nscripts = ['x']"},
            "pyproject.toml",
            "[project.scripts] is a list, not a table",
            id="toml-scripts-type",
        ),
        pytest.param(
            {"PKG-INFO": core(), "pyproject.toml": b"[project.entry-points]\ng = 1"},
            "pyproject.toml",
            "[project.entry-points.g] is a int, not a table",
            id="toml-entry-points-type",
        ),
        pytest.param(
            {WHEEL_METADATA: core(), "demo-1.0.dist-info/entry_points.txt": b"no section = x\n"},
            "demo-1.0.dist-info/entry_points.txt",
            "cannot be parsed: File contains no section headers",
            id="entry-points-syntax",
        ),
        pytest.param(
            {WHEEL_METADATA: core(), "demo-1.0.dist-info/entry_points.txt": b"[g]\nx = \xff\n"},
            "demo-1.0.dist-info/entry_points.txt",
            "is not UTF-8",
            id="entry-points-not-utf8",
        ),
    ],
)
def test_malformed_input_is_a_finding_not_an_exception(
    files: dict[str, bytes], path: str, evidence: str
) -> None:
    _, findings = read(files)

    finding = only(findings, "metadata-malformed")
    assert finding.path == path
    assert finding.severity is Severity.HIGH
    assert evidence in finding.message
    assert "\n" not in finding.message


def test_a_reader_refusing_the_member_is_a_finding() -> None:
    metadata, findings = read_metadata([WHEEL_METADATA], _refuse)

    assert metadata is None
    finding = only(findings, "metadata-malformed")
    assert finding.path == WHEEL_METADATA
    assert "member exceeds the size limit" in finding.message


@pytest.mark.parametrize(
    ("pyproject", "backend_path"),
    [
        # A lone string is the wrong type but still names an in-tree directory: keep it.
        pytest.param(b'[build-system]\nbackend-path = "."', (".",), id="string"),
        pytest.param(b'[build-system]\nbackend-path = [".", 3]', (".",), id="mixed-list"),
        pytest.param(b"[build-system]\nbackend-path = 3", (), id="int"),
    ],
)
def test_odd_backend_path_types_are_reported_and_kept_where_possible(
    pyproject: bytes, backend_path: tuple[str, ...]
) -> None:
    metadata, findings = read({"PKG-INFO": core(), "pyproject.toml": pyproject})

    assert "backend-path" in only(findings, "metadata-malformed").message
    assert metadata is not None
    assert metadata.backend_path == backend_path


def test_too_many_requirements_are_reported_and_capped() -> None:
    lines = [f"Requires-Dist: dep{i}" for i in range(MAX_REQUIREMENTS + 1)]
    metadata, findings = read({WHEEL_METADATA: core(*lines)})

    assert "5,001 Requires-Dist entries" in only(findings, "metadata-malformed").message
    assert metadata is not None
    assert len(metadata.requires_dist) == MAX_REQUIREMENTS


def test_partial_metadata_survives_a_bad_side_file() -> None:
    metadata, findings = read(
        {
            "PKG-INFO": core("Requires-Dist: requests"),
            "setup.py": b"",
            "pyproject.toml": b"not toml at all [",
        }
    )

    assert rules(findings) == ["metadata-malformed"]
    assert metadata is not None
    assert metadata.requires_dist == ("requests",)
    # pip stops at an invalid pyproject.toml, so setup.py does not make it a legacy build.
    assert metadata.build_backend is None


# --- diffing --------------------------------------------------------------------------------

OLD = DistMetadata(
    name="demo",
    version="1.0",
    requires_dist=("requests>=2",),
    provides_extra=("cli",),
    entry_points={"console_scripts": {"demo": "demo.cli:main"}},
    people=("Jane Doe", "jane@example.org"),
    project_urls={
        "Source": "https://github.com/demo/demo",
        "Home-page": "https://www.example.org/demo",
    },
    requires_python=">=3.9",
    license="MIT",
    build_backend="hatchling.build",
    backend_path=(),
    source="PKG-INFO",
)


def new(**changes: object) -> DistMetadata:
    """OLD as version 2.0, with ``changes``."""
    return dataclasses.replace(OLD, **{"version": "2.0", **changes})  # type: ignore[arg-type]


POPULAR = PopularNames.from_names(["requests", "numpy", "django"])


def test_unchanged_metadata_has_no_changes_and_no_findings() -> None:
    assert diff_metadata(OLD, OLD, popular=POPULAR) == MetadataDiff(changes=(), findings=())


def test_a_new_version_alone_is_a_change_without_findings() -> None:
    diff = diff_metadata(OLD, new())
    assert diff == MetadataDiff(changes=(MetadataChange("version", "1.0", "2.0"),), findings=())


def test_new_dependency() -> None:
    diff = diff_metadata(OLD, new(requires_dist=("requests>=2", "Left_Pad>=1")))

    finding = only(diff.findings, "dependency-added")
    assert (finding.severity, finding.path) == (Severity.LOW, "PKG-INFO")
    assert finding.message == "new dependency left-pad ('Left_Pad>=1'): 1.0 → 2.0"
    assert MetadataChange("requires-dist", None, "Left_Pad>=1") in diff.changes


@pytest.mark.parametrize(
    ("requirements", "change"),
    [
        pytest.param(
            ("requests>=3",),
            MetadataChange("requires-dist", "requests>=2", "requests>=3"),
            id="specifier",
        ),
        pytest.param(("Requests >= 2",), None, id="spelling-and-spacing"),
        pytest.param(
            ("requests>=2", "requests[socks]>=2; python_version < '3.10'"),
            MetadataChange(
                "requires-dist",
                "requests>=2",
                "requests>=2 | requests[socks]>=2; python_version < '3.10'",
            ),
            id="second-requirement-same-name",
        ),
        pytest.param((), MetadataChange("requires-dist", "requests>=2", None), id="removed"),
    ],
)
def test_same_dependency_changed_is_a_change_not_a_finding(
    requirements: tuple[str, ...], change: MetadataChange | None
) -> None:
    diff = diff_metadata(OLD, new(requires_dist=requirements))

    assert diff.findings == ()
    assert [c for c in diff.changes if c.field == "requires-dist"] == ([change] if change else [])


def test_a_self_reference_is_not_a_new_dependency() -> None:
    diff = diff_metadata(OLD, new(requires_dist=("requests>=2", 'demo[cli]; extra == "all"')))
    assert diff.findings == ()


def test_unparsable_requirement_is_malformed() -> None:
    diff = diff_metadata(OLD, new(requires_dist=("requests>=2", "not a ^ requirement")))

    finding = only(diff.findings, "metadata-malformed")
    assert finding.severity is Severity.HIGH
    assert "'not a ^ requirement' is not a valid requirement" in finding.message
    assert "dependency-added" not in rules(diff.findings)


def test_new_extra_is_a_dependency_added_finding() -> None:
    diff = diff_metadata(OLD, new(provides_extra=("CLI", "Socks")))

    finding = only(diff.findings, "dependency-added")
    assert finding.message == "new extra 'Socks': 1.0 → 2.0"
    assert diff.changes[0] == MetadataChange("provides-extra", None, "Socks")


def test_new_typosquat_dependency() -> None:
    diff = diff_metadata(OLD, new(requires_dist=("requests>=2", "reqeusts")), popular=POPULAR)

    assert sorted(rules(diff.findings)) == ["dependency-added", "dependency-typosquat"]
    finding = only(diff.findings, "dependency-typosquat")
    assert finding.severity is Severity.HIGH
    assert "dependency reqeusts resembles requests" in finding.message


@pytest.mark.parametrize(
    ("popular", "requirement"),
    [
        pytest.param(POPULAR, "numpy", id="popular-itself"),
        pytest.param(POPULAR, "unrelated-project", id="unrelated"),
        pytest.param(None, "reqeusts", id="no-popular-list"),
    ],
)
def test_no_typosquat_finding(popular: PopularNames | None, requirement: str) -> None:
    diff = diff_metadata(OLD, new(requires_dist=("requests>=2", requirement)), popular=popular)
    assert rules(diff.findings) == ["dependency-added"]


def test_an_old_typosquat_is_not_reported_again() -> None:
    baseline = new(version="1.0", requires_dist=("reqeusts",))
    diff = diff_metadata(baseline, new(requires_dist=("reqeusts",)), popular=POPULAR)
    assert diff.findings == ()


def test_without_baseline_no_dependency_added_but_typosquats_are_checked() -> None:
    release = new(requires_dist=("requests>=2", "djangoo", "numpy"), provides_extra=("x",))

    diff = diff_metadata(None, release, popular=POPULAR)

    finding = only(diff.findings, "dependency-typosquat")
    assert "dependency djangoo resembles django" in finding.message
    assert "no baseline → 2.0" in finding.message
    assert "dependency-added" not in rules(diff.findings)
    # Everything is a change from nothing.
    assert MetadataChange("requires-dist", None, "numpy") in diff.changes
    assert MetadataChange("version", None, "2.0") in diff.changes


@pytest.mark.parametrize(
    ("group", "name", "value", "severity", "evidence"),
    [
        pytest.param("console_scripts", "demo-admin", "demo.admin:main", Severity.LOW, "", id="ok"),
        pytest.param(
            "console_scripts", "sudo", "demo.x:main", Severity.HIGH, "system command 'sudo'", id="s"
        ),
        pytest.param(
            "console_scripts", "Python3.12", "demo:m", Severity.HIGH, "command 'python'", id="py3"
        ),
        pytest.param("gui_scripts", "ls", "demo:m", Severity.HIGH, "command 'ls'", id="gui"),
        pytest.param("pytest11", "demo", "demo.plugin", Severity.MEDIUM, "'pytest11'", id="auto"),
        pytest.param("demo.hooks", "x", "os:system", Severity.MEDIUM, "library's 'os'", id="os"),
        pytest.param(
            "demo.hooks", "x", "__import__('os')", Severity.MEDIUM, "not a module:attr", id="expr"
        ),
    ],
)
def test_new_entry_point(
    group: str, name: str, value: str, severity: Severity, evidence: str
) -> None:
    entry_points = {**OLD.entry_points, group: {name: value}}
    diff = diff_metadata(OLD, new(entry_points=entry_points))

    finding = only(diff.findings, "entry-point-added")
    assert finding.severity is severity
    assert f"new entry point [{group}] {f'{name} = {value}'!r}" in finding.message
    assert evidence in finding.message
    assert MetadataChange("entry-points", None, f"[{group}] {name} = {value}") in diff.changes


def test_a_projects_own_command_is_not_shadowing() -> None:
    pip = new(name="pip", entry_points={"console_scripts": {"pip3.14": "pip._internal:main"}})
    diff = diff_metadata(dataclasses.replace(pip, version="1.0", entry_points={}), pip)
    assert only(diff.findings, "entry-point-added").severity is Severity.LOW


def test_changed_entry_point_target_is_a_change_only() -> None:
    diff = diff_metadata(OLD, new(entry_points={"console_scripts": {"demo": "demo.cli2:main"}}))

    assert diff.findings == ()
    assert diff.changes[0] == MetadataChange(
        "entry-points",
        "[console_scripts] demo = demo.cli:main",
        "[console_scripts] demo = demo.cli2:main",
    )


def test_without_baseline_only_risky_entry_points_are_reported() -> None:
    release = new(entry_points={"console_scripts": {"demo": "demo.cli:main", "ssh": "demo:m"}})

    diff = diff_metadata(None, release)

    finding = only(diff.findings, "entry-point-added")
    assert finding.severity is Severity.HIGH
    assert "'ssh = demo:m'" in finding.message


def test_maintainer_change_names_the_email_domains() -> None:
    diff = diff_metadata(OLD, new(people=("Jane Doe", "jane@evil.example")))

    finding = only(diff.findings, "maintainer-change")
    assert finding.severity is Severity.MEDIUM
    assert finding.message == (
        "maintainers changed (1.0 → 2.0): added 'jane@evil.example'; removed "
        "'jane@example.org'; email domains example.org → evil.example"
    )
    assert MetadataChange("people", None, "jane@evil.example") in diff.changes
    assert MetadataChange("people", "jane@example.org", None) in diff.changes


def test_maintainer_added_on_the_same_domain_does_not_mention_domains() -> None:
    diff = diff_metadata(OLD, new(people=(*OLD.people, "bob@example.org")))
    message = only(diff.findings, "maintainer-change").message
    assert message == "maintainers changed (1.0 → 2.0): added 'bob@example.org'"


@pytest.mark.parametrize(
    ("old_people", "new_people"),
    [
        pytest.param(OLD.people, ("jane@example.org", "Jane Doe"), id="unchanged"),
        pytest.param((), ("jane@example.org",), id="first-time"),
        pytest.param(OLD.people, (), id="dropped-entirely"),
    ],
)
def test_no_maintainer_change_finding(
    old_people: tuple[str, ...], new_people: tuple[str, ...]
) -> None:
    diff = diff_metadata(new(version="1.0", people=old_people), new(people=new_people))
    assert "maintainer-change" not in rules(diff.findings)


def test_project_url_moved_to_another_host() -> None:
    urls = {**OLD.project_urls, "Source": "https://gitlab.example/demo/demo"}
    diff = diff_metadata(OLD, new(project_urls=urls))

    finding = only(diff.findings, "project-url-change")
    assert finding.severity is Severity.MEDIUM
    assert "project URL 'Source' moved from github.com to gitlab.example" in finding.message
    assert (
        MetadataChange(
            "project-urls",
            "Source: https://github.com/demo/demo",
            "Source: https://gitlab.example/demo/demo",
        )
        in diff.changes
    )


def test_home_page_and_homepage_are_one_label() -> None:
    # Home-page (the old field) became a "Homepage" Project-URL pointing elsewhere.
    urls = {"Source": "https://github.com/demo/demo", "Homepage": "https://demo.evil.example"}
    diff = diff_metadata(OLD, new(project_urls=urls))
    assert "'Homepage' moved from example.org to demo.evil.example" in (
        only(diff.findings, "project-url-change").message
    )


@pytest.mark.parametrize(
    "urls",
    [
        pytest.param(
            {"Source": "https://github.com/demo/demo2", "Home-page": "https://example.org/"},
            id="paths-and-www",
        ),
        pytest.param(
            {**OLD.project_urls, "Funding": "https://funding.example/demo"}, id="new-label-only"
        ),
        pytest.param({"Source": "HTTPS://GitHub.com./demo/demo"}, id="host-case-and-dot"),
    ],
)
def test_project_url_changes_without_a_new_host_are_not_findings(urls: dict[str, str]) -> None:
    diff = diff_metadata(OLD, new(project_urls=urls))

    assert diff.findings == ()
    assert any(change.field == "project-urls" for change in diff.changes)


def test_new_host_while_the_old_ones_vanish() -> None:
    urls = {"Repository": "https://codeberg.example/demo", "Docs": "https://demo.docs.example"}
    diff = diff_metadata(OLD, new(project_urls=urls))

    finding = only(diff.findings, "project-url-change")
    assert finding.message == (
        "project URLs now point at codeberg.example, demo.docs.example instead of "
        "example.org, github.com (1.0 → 2.0)"
    )


@pytest.mark.parametrize(
    ("requires_python", "finding"),
    [(">=3.10", True), (None, True), (" >=3.9 ", False), (">=3.9", False)],
)
def test_requires_python_change(requires_python: str | None, finding: bool) -> None:
    diff = diff_metadata(OLD, new(requires_python=requires_python))

    assert rules(diff.findings) == (["requires-python-change"] if finding else [])
    if finding:
        assert diff.findings[0].severity is Severity.INFO
        assert diff.changes[0] == MetadataChange("requires-python", ">=3.9", requires_python)


def test_equivalent_requires_python_is_no_change() -> None:
    baseline = new(version="1.0", requires_python=">=3.9,<4")
    assert diff_metadata(baseline, new(requires_python="<4, >=3.9")).changes == (
        MetadataChange("version", "1.0", "2.0"),
    )


def test_build_backend_change() -> None:
    diff = diff_metadata(OLD, new(build_backend=LEGACY_BACKEND))

    finding = only(diff.findings, "build-backend-change")
    assert finding.severity is Severity.MEDIUM
    assert finding.message == (
        "build backend 'hatchling.build' → 'setuptools.build_meta:__legacy__' (1.0 → 2.0)"
    )


def test_in_tree_backend_is_an_install_hook() -> None:
    diff = diff_metadata(OLD, new(build_backend="backend", backend_path=("_build",)))

    assert sorted(rules(diff.findings)) == ["build-backend-change", "install-hook"]
    hook = only(diff.findings, "install-hook")
    assert hook.severity is Severity.HIGH
    assert "in-tree build backend 'backend' (backend-path '_build')" in hook.message
    assert MetadataChange("backend-path", None, "_build") in diff.changes


def test_in_tree_backend_without_baseline_is_still_an_install_hook() -> None:
    diff = diff_metadata(None, new(backend_path=("_build",)))
    assert rules(diff.findings) == ["install-hook"]


def test_moved_backend_path_is_a_backend_change_not_a_new_hook() -> None:
    baseline = new(version="1.0", backend_path=("_build",))
    diff = diff_metadata(baseline, new(backend_path=("tools",)))

    assert rules(diff.findings) == ["build-backend-change"]
    assert "backend-path '_build' → 'tools'" in diff.findings[0].message


def test_wheel_against_sdist_is_no_backend_finding() -> None:
    wheel = new(build_backend=None, source=WHEEL_METADATA)
    diff = diff_metadata(OLD, wheel)

    assert diff.findings == ()
    assert MetadataChange("build-backend", "hatchling.build", None) in diff.changes


@pytest.mark.parametrize(
    ("license_", "finding"), [("Apache-2.0", True), (None, True), ("MIT", False)]
)
def test_license_change(license_: str | None, finding: bool) -> None:
    diff = diff_metadata(OLD, new(license=license_))

    assert rules(diff.findings) == (["license-change"] if finding else [])
    if finding:
        assert diff.findings[0].severity is Severity.LOW
        assert f"license 'MIT' → {license_ or 'none'!r}" in diff.findings[0].message


@pytest.mark.parametrize(
    ("expected_name", "expected_version", "evidence"),
    [
        ("demo-evil", "2.0", "metadata Name 'demo' is not the file name's 'demo-evil'"),
        ("demo", "2.1", "metadata Version '2.0' is not the file name's '2.1'"),
        ("demo", "not a version", "metadata Version '2.0' is not the file name's"),
    ],
)
def test_name_or_version_not_the_file_names(
    expected_name: str, expected_version: str, evidence: str
) -> None:
    diff = diff_metadata(OLD, new(), expected_name=expected_name, expected_version=expected_version)

    finding = only(diff.findings, "metadata-malformed")
    assert (finding.severity, finding.path) == (Severity.HIGH, "PKG-INFO")
    assert evidence in finding.message


def test_name_and_version_compare_as_normalized() -> None:
    release = new(name="Demo_Pkg", version="2.0.0")
    diff = diff_metadata(OLD, release, expected_name="demo-pkg", expected_version="2")
    assert diff.findings == ()


def test_changes_are_listed_field_by_field_in_a_fixed_order() -> None:
    release = new(
        name="Demo",
        requires_dist=("zope", "attrs"),
        provides_extra=(),
        entry_points={},
        people=("jane@example.org",),
        project_urls={},
        requires_python=">=3.10",
        license="BSD",
        build_backend="flit_core.buildapi",
        backend_path=("b",),
    )

    fields = [change.field for change in diff_metadata(OLD, release).changes]

    assert fields == [
        "requires-dist",
        "requires-dist",
        "requires-dist",
        "provides-extra",
        "entry-points",
        "people",
        "project-urls",
        "project-urls",
        "requires-python",
        "build-backend",
        "backend-path",
        "license",
        "name",
        "version",
    ]
    requires = [c for c in diff_metadata(OLD, release).changes if c.field == "requires-dist"]
    assert [c.new for c in requires] == ["attrs", None, "zope"]


def test_messages_are_one_line_without_control_characters() -> None:
    hostile = "evil\n[finding] all clear \x1b[2J\u202e"
    diff = diff_metadata(OLD, new(license=hostile))

    message = only(diff.findings, "license-change").message
    assert message == "license 'MIT' → 'evil [finding] all clear [2J' (1.0 → 2.0)"
    assert MetadataChange("license", "MIT", "evil [finding] all clear [2J") in diff.changes


def test_read_then_diff_end_to_end() -> None:
    def wheel(version: str, *lines: str) -> dict[str, bytes]:
        dist_info = f"demo-{version}.dist-info"
        return {f"{dist_info}/METADATA": core(*lines, version=version)}

    old, _ = read(wheel("1.0", "Requires-Dist: requests", "Author-email: a@example.org"))
    release, findings = read(
        wheel(
            "1.1", "Requires-Dist: requests", "Requires-Dist: reqeusts", "Author-email: a@x.example"
        )
    )
    assert findings == ()
    assert release is not None

    diff = diff_metadata(
        old, release, popular=POPULAR, expected_name="demo", expected_version="1.1"
    )

    assert sorted(rules(diff.findings)) == [
        "dependency-added",
        "dependency-typosquat",
        "maintainer-change",
    ]
    assert {finding.path for finding in diff.findings} == {"demo-1.1.dist-info/METADATA"}
