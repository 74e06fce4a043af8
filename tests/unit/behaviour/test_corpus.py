"""The evaluation corpus: every modelled compromise gets a high or critical finding, every
benign update none (see ``tests/helpers/corpus.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers.corpus import BASE, BENIGN, MALICIOUS, Variant
from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from verify._behaviour.diff import (
    BehaviourDiff,
    DistFile,
    compare_sdist_and_wheel,
    diff_distributions,
)
from verify._checks.typosquat import PopularNames
from verify._rules.severity import severity_at_least
from verify.models import Finding, Severity

POPULAR = PopularNames.load()
RELEASED = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _cases(variants: tuple[Variant, ...]) -> list[tuple[Variant, str]]:
    return [(variant, form) for variant in variants for form in variant.forms]


def _diff(variant: Variant, form: str, tmp_path: Path) -> BehaviourDiff:
    build = build_wheel if form == "wheel" else build_sdist
    old = build(BASE, tmp_path / "old")
    new = build(variant.build(), tmp_path / "new")
    return diff_distributions(
        DistFile(new, new.name, RELEASED + timedelta(days=variant.gap_days)),
        DistFile(old, old.name, RELEASED),
        popular=POPULAR,
    )


def _serious(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in findings if severity_at_least(f.severity, Severity.HIGH)]


@pytest.mark.parametrize(
    ("variant", "form"), _cases(MALICIOUS), ids=lambda v: v.id if isinstance(v, Variant) else v
)
def test_every_compromise_gets_a_high_or_critical_finding(
    variant: Variant, form: str, tmp_path: Path
) -> None:
    diff = _diff(variant, form, tmp_path)
    serious = _serious(diff.findings)
    assert {f.rule for f in serious} & set(variant.expect), (
        f"{variant.what} ({form}): expected one of {variant.expect} at high or critical; "
        f"got {[(f.rule, f.severity.value, f.path, f.line) for f in diff.findings]}"
    )
    # The evidence points into the package: a path, and for source a line.
    for finding in serious:
        assert finding.path
        if finding.path.endswith(".py") and finding.rule not in ("dependency-typosquat",):
            assert finding.line


@pytest.mark.parametrize(
    ("variant", "form"), _cases(BENIGN), ids=lambda v: v.id if isinstance(v, Variant) else v
)
def test_benign_updates_get_no_high_or_critical_finding(
    variant: Variant, form: str, tmp_path: Path
) -> None:
    diff = _diff(variant, form, tmp_path)
    assert diff.baseline is not None
    assert _serious(diff.findings) == [], [
        (f.rule, f.severity.value, f.path, f.line, f.message) for f in diff.findings
    ]


@pytest.mark.parametrize("form", ["wheel", "sdist"])
def test_the_same_release_diffs_to_nothing(form: str, tmp_path: Path) -> None:
    build = build_wheel if form == "wheel" else build_sdist
    old = build(BASE, tmp_path / "old")
    diff = diff_distributions(DistFile(old, old.name), DistFile(old, old.name), popular=POPULAR)
    assert diff.findings == ()
    assert diff.files.added == diff.files.removed == diff.files.changed == ()


def test_a_capability_the_baseline_had_is_context_not_a_finding(tmp_path: Path) -> None:
    # 1.0 already runs git in an unchanged module; 1.1 adds another module that does too.
    runner = (
        "import subprocess\n\n\ndef head():\n"
        "    return subprocess.run(['git', 'rev-parse', 'HEAD'])\n"
    )
    files = {"demo/__init__.py": "", "demo/vcs.py": runner}
    old = build_wheel(DistSpec("demo", "1.0", files=files), tmp_path / "old")
    new = build_wheel(
        DistSpec("demo", "1.1", files={**files, "demo/tags.py": runner.replace("HEAD", "--tags")}),
        tmp_path / "new",
    )
    diff = diff_distributions(DistFile(new, new.name), DistFile(old, old.name), popular=POPULAR)
    assert not [f for f in diff.findings if f.rule == "process-spawn"]
    spawn = [f for f in diff.context if f.rule == "process-spawn"]
    assert spawn
    assert spawn[0].severity is Severity.LOW


def test_a_generic_new_capability_stays_low(tmp_path: Path) -> None:
    # The new feature opens URLs with urllib: reported, but low (allowed by default).
    diff = _diff(BENIGN[1], "wheel", tmp_path)
    network = [f for f in diff.findings if f.rule == "network-access"]
    assert network
    assert {f.severity for f in network} == {Severity.LOW}


def test_unchanged_wheel_files_are_not_read(tmp_path: Path) -> None:
    diff = _diff(BENIGN[2], "wheel", tmp_path)  # a new dependency: METADATA and RECORD change
    assert set(diff.files.changed) == {
        "tinyweb/__init__.py",  # its __version__
        "tinyweb-1.1.dist-info/METADATA",
        "tinyweb-1.1.dist-info/RECORD",
    }
    assert diff.files.added == diff.files.removed == ()
    # Every package file but __init__.py, and the WHEEL file.
    assert diff.skipped_files == len(diff.files.unchanged) == len(BASE.files)
    assert diff.analysed_files == 3


def test_the_release_gap_is_noted(tmp_path: Path) -> None:
    ctx = next(v for v in MALICIOUS if v.id == "ctx")
    diff = _diff(ctx, "wheel", tmp_path)
    assert any(f.rule == "release-gap" for f in diff.findings)


@pytest.mark.parametrize(("variant", "form"), _cases(MALICIOUS), ids=lambda v: getattr(v, "id", v))
def test_without_a_baseline_compromises_still_stand_out(
    variant: Variant, form: str, tmp_path: Path
) -> None:
    # A first upload (a typosquat's only release): patterns that are malicious on their own
    # keep their rating; so do processes and connections that run at install, start-up or
    # import time; other generic capabilities stay at medium.
    build = build_wheel if form == "wheel" else build_sdist
    new = build(variant.build(), tmp_path / "new")
    diff = diff_distributions(DistFile(new, new.name), None, popular=POPULAR)
    assert diff.baseline is None
    early = (" at install time", " at import time", " at interpreter start-up")
    generic = {"network-access", "process-spawn", "new-endpoint", "dependency-added"}
    assert not [
        f
        for f in _serious(diff.findings)
        if f.rule in generic and not any(phase in f.message for phase in early)
    ]
    assert _serious(diff.findings), [(f.rule, f.severity.value) for f in diff.findings]


def test_a_wheel_module_its_sdist_lacks_is_flagged(tmp_path: Path) -> None:
    sdist = build_sdist(BASE, tmp_path / "sdist")
    honest = build_wheel(BASE, tmp_path / "honest")
    assert compare_sdist_and_wheel(sdist, honest) == ()
    smuggled = DistSpec(
        BASE.name, BASE.version, files={**BASE.files, "tinyweb/_hook.py": "import os\n"}
    )
    wheel = build_wheel(smuggled, tmp_path / "smuggled")
    (finding,) = compare_sdist_and_wheel(sdist, wheel)
    assert finding.rule == "sdist-wheel-mismatch"
    assert finding.path == "tinyweb/_hook.py"


def test_src_layout_sdists_match_their_wheels(tmp_path: Path) -> None:
    files = {"src/tinyweb/__init__.py": "", "src/tinyweb/core.py": "X = 1\n"}
    sdist = build_sdist(DistSpec("tinyweb", "1.0", files=files), tmp_path / "sdist")
    wheel = build_wheel(
        DistSpec("tinyweb", "1.0", files={k.removeprefix("src/"): v for k, v in files.items()}),
        tmp_path / "wheel",
    )
    assert compare_sdist_and_wheel(sdist, wheel) == ()


def test_a_new_read_of_a_tool_credential_store_is_medium(tmp_path: Path) -> None:
    # virtualenv reads ~/.netrc for index credentials, as pip and requests do.
    files = {"demo/__init__.py": ""}
    reader = "import netrc\n\n\ndef auth(host):\n    return netrc.netrc().authenticators(host)\n"
    old = build_wheel(DistSpec("demo", "1.0", files=files), tmp_path / "old")
    new = build_wheel(
        DistSpec("demo", "1.1", files={**files, "demo/auth.py": reader}), tmp_path / "new"
    )
    diff = diff_distributions(DistFile(new, new.name), DistFile(old, old.name), popular=POPULAR)
    (read,) = [f for f in diff.findings if f.rule == "credential-read"]
    assert read.severity is Severity.MEDIUM
    assert _serious(diff.findings) == []
