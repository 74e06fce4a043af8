"""Files nested deeper than the parsers' recursion can follow are invalid input (issue 15).

A lock file, policy or trust store from a pull request can open 50,000 arrays; each such file
must exit 2 with one line naming it, as any other malformed input does, not an internal error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.assertions import assert_no_traceback
from verify._cli import main
from verify._documents import parse_json, parse_toml
from verify._resolve.lockfiles import lock_kind
from verify.errors import InvalidInputError, PolicyError

DEPTH = 50_000
DEEP = "[" * DEPTH

#: (file name, content, words of the one-line error after the file name)
LOCKS = [
    ("pylock.toml", f'lock-version = "1.0"\ncreated-by = "x"\nx = {DEEP}\n', "invalid TOML"),
    ("uv.lock", f"version = 1\nx = {DEEP}\n", "invalid TOML"),
    ("poetry.lock", f"x = {DEEP}\n", "invalid TOML"),
    ("Pipfile.lock", '{"_meta": ' + DEEP, "invalid JSON"),
]


def _one_error_line(err: str, path: Path) -> str:
    assert_no_traceback(err)
    assert "internal error" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"{path}: " in lines[0]
    assert "nested too deeply" in lines[0]
    return lines[0]


@pytest.mark.parametrize(("name", "text", "what"), LOCKS, ids=[lock[0] for lock in LOCKS])
def test_deep_lock_file_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, what: str
) -> None:
    lock = tmp_path / name
    lock.write_text(text)
    code = main(["check", str(lock), "--offline", "--cache-dir", str(tmp_path / "cache")])
    line = _one_error_line(capsys.readouterr().err, lock)
    assert code == 2
    assert what in line


def test_deep_policy_exits_2_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[rules.yanked]\nx = {DEEP}\n")
    assert main(["policy", "check", str(policy)]) == 2
    _one_error_line(capsys.readouterr().err, policy)
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "x"\n')
    code = main(
        ["check", "--policy", str(policy), str(lock), "--offline", "--cache-dir", str(tmp_path)]
    )
    assert code == 2
    _one_error_line(capsys.readouterr().err, policy)


def test_deep_trust_store_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = tmp_path / "trust.toml"
    store.write_text(f"[packages.demo]\nkind = {DEEP}\n")
    assert main(["trust", "--trust-store", str(store), "list"]) == 2
    _one_error_line(capsys.readouterr().err, store)


def test_deep_file_of_another_name_is_not_a_lock(tmp_path: Path) -> None:
    # Sniffing parses the content; too deep to parse is "not a lock", like a syntax error.
    toml = tmp_path / "deps.lock"
    toml.write_text(f"x = {DEEP}\n")
    json = tmp_path / "deps.json"
    json.write_text("{" + DEEP)
    assert lock_kind(toml) is None
    assert lock_kind(json) is None


def test_parsers_raise_the_requested_error() -> None:
    with pytest.raises(PolicyError, match=r"^p\.toml: invalid TOML: nested too deeply"):
        parse_toml(f"x = {DEEP}", "p.toml", error=PolicyError)
    with pytest.raises(InvalidInputError, match=r"^l\.json: invalid JSON: nested too deeply"):
        parse_json(DEEP, "l.json", hint="fix it")
    # Nesting the parsers can follow is read as before.
    assert parse_toml("x = [[[1]]]", "a.toml") == {"x": [[[1]]]}
    assert parse_json("[[[1]]]", "a.json") == [[[1]]]
    with pytest.raises(InvalidInputError, match=r"^a\.toml:2: invalid TOML: "):
        parse_toml("x = 1\ny = z\n", "a.toml")
    with pytest.raises(InvalidInputError, match=r"^a\.json:1: invalid JSON: "):
        parse_json("[", "a.json")
