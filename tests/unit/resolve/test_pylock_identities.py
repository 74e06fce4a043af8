"""pylock.toml entries that pin publishers or cannot be verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify._resolve.pylock import read_pylock
from verify.errors import InvalidInputError

HEADER = 'lock-version = "1.0"\ncreated-by = "tests"\n\n'
WHEEL = (
    'wheels = [{ url = "https://files.example/demo-1.0-py3-none-any.whl", '
    'hashes = { sha256 = "' + "a" * 64 + '" } }]\n'
)


def test_identities_reach_the_candidate(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        HEADER
        + '[[packages]]\nname = "demo"\nversion = "1.0"\n'
        + WHEEL
        + '[[packages.attestation-identities]]\nkind = "GitHub"\nrepository = "acme/demo"\n'
    )
    (package,) = read_pylock(lock)
    assert package.candidate.attestation_identities == (
        {"kind": "GitHub", "repository": "acme/demo"},
    )


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('kind = "GitHub"\n', "needs a 'kind' and a 'repository'"),
        ('kind = "Jenkins"\nrepository = "a/b"\n', "unknown publisher kind 'Jenkins'"),
        ('kind = "GitHub"\nrepository = "a/b"\ncolour = "red"\n', "unknown key 'colour'"),
    ],
)
def test_invalid_identities_exit_2_with_line(tmp_path: Path, table: str, fragment: str) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        HEADER
        + '[[packages]]\nname = "demo"\nversion = "1.0"\n'
        + WHEEL
        + "[[packages.attestation-identities]]\n"
        + table
    )
    with pytest.raises(InvalidInputError) as raised:
        read_pylock(lock)
    assert raised.value.exit_code == 2
    assert raised.value.line == 4
    assert fragment in raised.value.message


def test_vcs_entry_is_an_unverifiable_candidate(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        HEADER + '[[packages]]\nname = "demo"\nversion = "1.0"\n'
        'vcs = { type = "git", url = "https://git.example/demo.git", '
        'commit-id = "0123456789abcdef0123456789abcdef01234567" }\n'
    )
    (package,) = read_pylock(lock)
    assert package.candidate.unverifiable == "VCS source"
