"""The guardrails of ``pip-verify fix`` in-process: where each limit of a run comes from, the
order releases are tried in, the cooldown, the index a package is pinned to, and the
publisher a new release must come from (see tests/integration/test_fix_guardrails.py for
each changing what ``fix`` picks)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._provenance.identity import ExpectedIdentity
from verify.check import CheckSettings
from verify.errors import UsageError
from verify.fix import FixSettings, Guardrails, UpdateKind
from verify.fix.guardrails import (
    PublisherReference,
    candidate_order,
    cooldown_of,
    cooldown_problem,
    index_problem,
    pinned_index,
    publisher_problem,
    publisher_reference,
    resolve_guardrails,
)
from verify.models import (
    Decision,
    FileResult,
    HashStatus,
    IndexFile,
    PackageResult,
    Provenance,
    ProvenanceStatus,
    Reason,
)
from verify.policy import load_policy, parse_policy
from verify.policy.model import FIX_DEFAULTS
from verify.trust_store import TrustEntry

FOO = canonicalize_name("foo")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
DAY = 86400
A = "https://a.example/simple/"
B = "https://b.example/simple/"
ACME = {"kind": "GitHub", "issuer": "i", "repository": "acme/foo", "workflow": "release.yml"}
EVIL = {**ACME, "repository": "evil/foo"}


def versions(*texts: str) -> list[Version]:
    return [Version(text) for text in texts]


def test_the_defaults_are_the_embedded_policys() -> None:
    default = Guardrails()
    assert (default.allow, default.cooldown_days) == (
        FIX_DEFAULTS.allow,
        FIX_DEFAULTS.cooldown_days,
    )
    assert (default.same_index, default.same_publisher, default.downgrade) == (
        FIX_DEFAULTS.same_index,
        FIX_DEFAULTS.same_publisher,
        FIX_DEFAULTS.downgrade,
    )


def test_each_limit_comes_from_the_settings_else_the_policy_else_the_default() -> None:
    policy = parse_policy('[fix]\nallow = "patch"\nsame-index = false\n', origin="inline")
    settings = FixSettings(CheckSettings(), allow=UpdateKind.MAJOR, downgrade=True)
    guardrails = resolve_guardrails(settings, policy)
    assert guardrails == Guardrails(
        UpdateKind.MAJOR,
        None,
        same_index=False,
        same_publisher=True,
        downgrade=True,
        set_by={
            "allow": "command line",
            "cooldown-days": "release-age",
            "same-index": "policy",
            "same-publisher": "default",
            "downgrade": "command line",
        },
    )
    assert cooldown_of(guardrails, policy, "foo") == 3 * DAY
    days = resolve_guardrails(dataclasses.replace(settings, cooldown_days=5), policy)
    assert (days.cooldown_days, days.set_by["cooldown-days"]) == (5, "command line")
    assert cooldown_of(days, policy, "foo") == 5 * DAY


@pytest.mark.parametrize(
    ("allow", "downgrade", "expected"),
    [
        (UpdateKind.PATCH, False, ["1.2.4", "1.2.10"]),
        (UpdateKind.MINOR, False, ["1.2.4", "1.2.10", "1.3", "1.10"]),
        (UpdateKind.MAJOR, False, ["1.2.4", "1.2.10", "1.3", "1.10", "2.0"]),
        (UpdateKind.PATCH, True, ["1.2.4", "1.2.10", "1.2.2", "1.2.0"]),
        (UpdateKind.MINOR, True, ["1.2.4", "1.2.10", "1.3", "1.10", "1.2.2", "1.2.0", "1.1"]),
        (
            UpdateKind.MAJOR,
            True,
            ["1.2.4", "1.2.10", "1.3", "1.10", "2.0", "1.2.2", "1.2.0", "1.1", "0.9"],
        ),
    ],
)
def test_upgrades_from_the_smallest_then_downgrades_from_the_nearest(
    allow: UpdateKind, downgrade: bool, expected: list[str]
) -> None:
    available = versions(
        "0.9", "1.1", "1.2.0", "1.2.2", "1.2.3", "1.2.4", "1.2.10", "1.3", "1.10", "2.0", "1.4rc1"
    )
    guardrails = Guardrails(allow=allow, downgrade=downgrade)
    order = candidate_order(Version("1.2.3"), available, guardrails)
    assert order == versions(*expected)


def index_file(filename: str, sha: str = "a" * 64, upload: datetime | None = NOW) -> IndexFile:
    return IndexFile(
        filename=filename,
        url=f"https://files.example/{filename}",
        hashes={"sha256": sha},
        index_url=A,
        upload_time=upload,
    )


def test_the_cooldown_refuses_a_young_file_and_one_whose_age_is_unknown() -> None:
    old = index_file("foo-1.2-py3-none-any.whl", upload=NOW - timedelta(days=4))
    young = index_file("foo-1.2.tar.gz", upload=NOW - timedelta(hours=5))
    unknown = index_file("foo-1.2-py2-none-any.whl", upload=None)
    assert cooldown_problem([old], 3 * DAY, NOW, where=A) is None
    assert cooldown_problem([young, unknown], 0, NOW, where=A) is None  # no cooldown
    assert cooldown_problem([old, young], 3 * DAY, NOW, where=A) == (
        "[fix.cooldown-days] foo-1.2.tar.gz was uploaded 5 hours ago (2026-12-06 07:00 UTC); "
        "the cooldown is 3 days"
    )
    assert cooldown_problem([unknown], DAY, NOW, where=A) == (
        f"[fix.cooldown-days] {A} gives no upload time for foo-1.2-py2-none-any.whl, so its "
        "age cannot be checked against the cooldown (1 day)"
    )


def test_the_pinned_index_is_the_locks_else_the_one_that_served_the_release() -> None:
    assert pinned_index(FOO, [A, B], "https://b.example/simple", None) == B
    with pytest.raises(UsageError, match=r"names the index https://c\.example/simple/"):
        pinned_index(FOO, [A, B], "https://c.example/simple/", None)
    assert pinned_index(FOO, [A, B], None, B) == B
    assert pinned_index(FOO, [A], None, None) == A
    assert pinned_index(FOO, [A, B], None, None) is None


def checked(
    sha: str = "a" * 64,
    provenance: Provenance | None = None,
    *,
    filename: str = "foo-1.2-py3-none-any.whl",
) -> FileResult:
    return FileResult(
        filename=filename,
        url=None,
        sha256=sha,
        hash_status=HashStatus.VERIFIED,
        index_url=B,
        provenance=provenance,
    )


def package(
    *files: FileResult, version: str = "1.2", reasons: tuple[Reason, ...] = ()
) -> PackageResult:
    return PackageResult(
        name=FOO,
        version=Version(version),
        decision=Decision.ALLOW,
        index=A,
        files=files,
        provenance=Provenance(ProvenanceStatus.ABSENT),
        reasons=reasons,
    )


def test_the_files_checked_must_be_files_the_index_serves_for_the_release() -> None:
    listed = [index_file("foo-1.2-py3-none-any.whl")]
    assert index_problem(package(checked()), listed, A, key="fix.same-index") is None
    assert index_problem(package(checked("b" * 64)), listed, A, key="fix.same-index") == (
        f"[fix.same-index] foo-1.2-py3-none-any.whl was checked from {B}, but it is not a "
        f"file {A} serves for foo 1.2"
    )


def verified(publisher: dict[str, str]) -> Provenance:
    return Provenance(ProvenanceStatus.VERIFIED, publisher=dict(publisher))


def test_the_trust_stores_publisher_comes_first() -> None:
    trusted = ExpectedIdentity("GitHub", "acme/foo", "release.yml", origin="trust store")
    entry = TrustEntry(trusted, "first-seen", "2026-11-24")
    # The pinned release's publisher changed (a denial of its own): the store's is wanted.
    pinned = package(checked(provenance=verified(EVIL)), version="1.0")
    reference = publisher_reference(pinned, entry)
    assert reference == PublisherReference(
        (trusted,), note="GitHub acme/foo, workflow release.yml (trust store)"
    )
    assert publisher_problem(reference, package(checked(provenance=verified(ACME)))) is None
    problem = publisher_problem(reference, package(checked(provenance=verified(EVIL))))
    assert problem == (
        "[fix.same-publisher] foo-1.2-py3-none-any.whl was published by GitHub evil/foo, "
        "workflow release.yml; wanted: GitHub acme/foo, workflow release.yml (trust store)"
    )


def test_the_pinned_releases_publisher_when_the_store_has_none() -> None:
    pinned = package(checked(provenance=verified(ACME)), version="1.0")
    reference = publisher_reference(pinned, None)
    assert reference.note == "GitHub acme/foo, workflow release.yml (foo 1.0 in the lock)"
    absent = Provenance(ProvenanceStatus.ABSENT, reason="none listed")
    invalid = Provenance(ProvenanceStatus.INVALID, reason="bad signature")
    wanted = "; wanted: GitHub acme/foo, workflow release.yml (foo 1.0 in the lock)"
    assert publisher_problem(reference, package(checked(provenance=absent))) == (
        f"[fix.same-publisher] foo-1.2-py3-none-any.whl has no provenance{wanted}"
    )
    assert publisher_problem(reference, package(checked())) == (
        f"[fix.same-publisher] foo-1.2-py3-none-any.whl has no provenance{wanted}"
    )
    assert publisher_problem(reference, package(checked(provenance=invalid))) == (
        "[fix.same-publisher] foo-1.2-py3-none-any.whl has no verified provenance (invalid: "
        f"bad signature){wanted}"
    )
    assert publisher_problem(reference, package()) == (
        "[fix.same-publisher] no file of foo 1.2 was checked"
    )
    # Every file must match: a second file from another publisher is refused.
    two = package(checked(provenance=verified(ACME)), checked(provenance=verified(EVIL)))
    assert publisher_problem(reference, two) is not None


def test_nothing_to_compare_when_no_publisher_is_known() -> None:
    for pinned in (
        package(version="1.0"),
        package(checked(provenance=Provenance(ProvenanceStatus.ABSENT)), version="1.0"),
        package(checked(provenance=Provenance(ProvenanceStatus.INVALID)), version="1.0"),
    ):
        reference = publisher_reference(pinned, None)
        assert reference.identities == ()
        assert reference.note == (
            "not compared: foo 1.0 in the lock has no verified provenance and the trust store "
            "records no publisher for foo"
        )
        assert publisher_problem(reference, package(checked(provenance=verified(EVIL)))) is None


def test_a_pinned_release_from_the_wrong_publisher_is_no_reference() -> None:
    mismatch = Reason("publisher-mismatch", Decision.DENY, "expected acme/foo")
    pinned = package(checked(provenance=verified(EVIL)), version="1.0", reasons=(mismatch,))
    reference = publisher_reference(pinned, None)
    assert reference.identities == ()
    assert reference.note.startswith("not compared: foo 1.0 in the lock is not from the publisher")
    assert "[publisher-mismatch]" in reference.note


def test_a_pinned_release_whose_provenance_could_not_be_checked_blocks_every_release() -> None:
    unchecked = Provenance(ProvenanceStatus.UNCHECKED, reason="--offline")
    reference = publisher_reference(package(checked(provenance=unchecked), version="1.0"), None)
    problem = publisher_problem(reference, package(checked(provenance=verified(ACME))))
    assert problem == (
        "[fix.same-publisher] the publisher of foo 1.0 in the lock could not be checked "
        "(--offline), so no release's publisher can be compared with it"
    )


def test_the_embedded_policy_holds_a_release_three_days() -> None:
    assert cooldown_of(Guardrails(), load_policy(), "foo") == 3 * DAY


def test_with_no_index_there_is_no_release_to_try(tmp_path: Path) -> None:
    from verify._index.client import IndexClient
    from verify.check import network_session
    from verify.fix.search import Search
    from verify.settings import NetworkSettings

    settings = FixSettings(CheckSettings(network=NetworkSettings(cache_dir=tmp_path)))
    with network_session(settings.check.network) as session:
        client = IndexClient(session, [])
        search = Search(settings, Guardrails(), load_policy(), client, None, NOW)
        change, files = search.nearest(package(version="1.0"), Version("1.0"), None, None)
    assert (change.new, files) == (None, ())
    assert change.blocked == "no index is consulted (--no-index), so there is no release to try"
