"""What a candidate release does to the rest of a hashed requirements file, in-process: the
constraints that hold the lock's other pins, the packages its tree adds or moves, and which
``Requires-Dist`` asks for each (see tests/integration/test_fix_dependencies.py for ``fix``
adding them)."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers import DistFactory
from tests.helpers.dists import DistSpec
from verify.fix.dependencies import constraints_text, dependency_moves, requirement_of
from verify.models import (
    Decision,
    FileResult,
    HashStatus,
    PackageResult,
    Provenance,
    ProvenanceStatus,
    Report,
)

FOO, BAR, BAZ = (canonicalize_name(n) for n in ("foo", "bar", "baz"))


def result(name: str, version: str | None, wheel: Path | None = None) -> PackageResult:
    files: tuple[FileResult, ...] = ()
    if wheel is not None:
        files = (FileResult(wheel.name, None, None, HashStatus.VERIFIED, cache_path=wheel),)
    return PackageResult(
        name=canonicalize_name(name),
        version=Version(version) if version is not None else None,
        decision=Decision.ALLOW,
        index=None,
        files=files,
        provenance=Provenance(ProvenanceStatus.ABSENT),
    )


def report(*packages: PackageResult) -> Report:
    return Report(Decision.ALLOW, packages)


def test_the_constraints_hold_every_pin_but_the_packages_being_fixed() -> None:
    pins = {FOO: Version("1.0"), BAZ: Version("2.0"), BAR: Version("1.0")}
    assert constraints_text(pins, {FOO}) == "bar==1.0\nbaz==2.0\n"
    assert constraints_text(pins, {FOO, BAR, BAZ}) == ""


def test_the_tree_adds_what_the_lock_lacks_and_moves_what_it_pins_elsewhere() -> None:
    pins = {FOO: Version("1.0"), BAR: Version("1.0"), BAZ: Version("0.9")}
    tree = report(
        result("foo", "1.2"),
        result("bar", "1.0"),
        result("baz", "1.0"),
        result("qux", "3.0"),
        result("unresolved", None),
    )
    moves = [(p.name, new, old) for p, new, old in dependency_moves(tree, FOO, pins)]
    assert moves == [(BAZ, Version("1.0"), Version("0.9")), ("qux", Version("3.0"), None)]


def test_the_requirement_is_read_from_the_wheel_that_names_it(
    dist_factory: DistFactory,
) -> None:
    requires = (
        "not a requirement !",
        "baz>=9 ; extra == 'fast'",
        "baz>=1.0",
        "bar",
    )
    foo = dist_factory.wheel(DistSpec("foo", "1.2", requires_dist=requires))
    tree = report(result("foo", "1.2", foo), result("baz", "1.0"), result("sdist", "1.0"))
    assert requirement_of(tree, BAZ) == ("foo 1.2", "baz>=1.0")
    assert requirement_of(tree, canonicalize_name("qux")) == ("", "")


def test_an_entry_whose_marker_does_not_hold_is_quoted_when_it_is_the_only_one(
    dist_factory: DistFactory,
) -> None:
    foo = dist_factory.wheel(DistSpec("foo", "1.2", requires_dist=("baz ; extra == 'x'",)))
    qux = dist_factory.wheel(DistSpec("qux", "1.0", requires_dist=("baz ; extra == 'y'",)))
    tree = report(result("foo", "1.2", foo), result("qux", "1.0", qux))
    assert requirement_of(tree, BAZ) == ("foo 1.2", "baz ; extra == 'x'")
