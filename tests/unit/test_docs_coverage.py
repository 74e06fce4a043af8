"""The documentation (docs/) keeps up with the code: every option of every command's ``--help``
is in docs/commands.md, in its command's section or among the shared options, and every option
the tables name exists; every rule id is in docs/policy.md's table with the default policy's
decisions, and every behaviour finding id in docs/behaviour.md's with its severity; every
name of the public API, and every field of the settings the commands share, is in
docs/api.md."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from verify._cli import build_parser
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.policy import RULES, load_policy

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: The heading of docs/commands.md's section of options that several commands take.
SHARED = "Shared options"
#: The text before the first command's section: --help and --version are documented there.
INTRO = ""
POLICY_RULES = [rule_id for rule_id in RULES if rule_id not in BEHAVIOUR_RULES]


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the command line, named by its command path (``()`` is pip-verify)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(build_parser()))


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    )


def _sections(text: str) -> dict[str, str]:
    """A page's text by its level-2 headings: ``pip-verify check`` is ``check``."""
    sections = {INTRO: ""}
    name = INTRO
    fence = False
    for line in text.splitlines():
        fence ^= line.lstrip().startswith("```")
        heading = None if fence else re.fullmatch(r"## (.+)", line)
        if heading:
            name = re.sub(r"^`pip-verify (\S+)`$", r"\1", heading.group(1))
            assert name not in sections, f"two sections named {name!r}"
            sections[name] = ""
        else:
            sections[name] += line + "\n"
    return sections


def _names(text: str, option: str) -> bool:
    """Whether the text names the option at the start of a code span (`--no-record`, not
    `--no-record-foo`, and not `--index` for `--index-url`)."""
    return re.search(rf"`{re.escape(option)}(?![\w-])", text) is not None


def _table(text: str, heading: str) -> dict[str, list[str]]:
    """The rows of the first table under a level-2 heading, by the id in their first cell."""
    section = _sections(text)[heading]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        key = re.fullmatch(r"`([\w-]+)`", cells[0]) if line.startswith("|") else None
        if key:
            assert key.group(1) not in rows, f"{key.group(1)} is in the table twice"
            rows[key.group(1)] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def commands_page() -> dict[str, str]:
    return _sections((DOCS / "commands.md").read_text(encoding="utf-8"))


def test_the_walk_finds_every_command_and_its_options() -> None:
    assert {path for path in COMMANDS if len(path) == 1} == {
        ("check",),
        ("diff",),
        ("fix",),
        ("gate",),
        ("install",),
        ("mcp",),
        ("policy",),
        ("proxy",),
        ("quarantine",),
        ("screen",),
        ("shim",),
        ("trust",),
        ("verify-summary",),
        ("worker",),
    }
    assert ("quarantine", "release") in COMMANDS
    assert "--upload-deadline" in _long_options(COMMANDS["gate",])
    assert "--unverified" in _long_options(COMMANDS["proxy",])
    assert "--version" in _long_options(COMMANDS[()])


def test_every_command_has_a_section(commands_page: dict[str, str]) -> None:
    commands = {path[0] for path in COMMANDS if path}
    assert commands <= set(commands_page)
    assert SHARED in commands_page


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda path: " ".join(path) or "pip-verify")
def test_every_option_is_documented(commands_page: dict[str, str], path: tuple[str, ...]) -> None:
    parser = COMMANDS[path]
    own = commands_page[path[0]] if path else commands_page[INTRO]
    missing = []
    for option in _long_options(parser):
        if option in ("--help", "--version"):
            where = commands_page[INTRO]
        else:
            where = own + commands_page[SHARED]
        if not _names(where, option):
            missing.append(option)
    assert missing == [], f"{' '.join(('pip-verify', *path))}: not in docs/commands.md"


def test_the_option_tables_name_only_options_that_exist(commands_page: dict[str, str]) -> None:
    known = {option for parser in COMMANDS.values() for option in _long_options(parser)}
    named = {
        option
        for section in commands_page.values()
        for line in section.splitlines()
        if line.startswith("| `")
        for option in re.findall(r"`(--[\w-]+)", line.split("|")[1])
    }
    assert named, "docs/commands.md has no option tables"
    assert named - known == set()


def test_the_option_check_tells_options_apart() -> None:
    assert _names("| `--index-url URL` | ... |", "--index-url")
    assert not _names("| `--index-url URL` | ... |", "--index")
    assert not _names("use --no-record here", "--no-record")


def test_every_rule_id_is_in_the_policy_table_with_its_defaults() -> None:
    table = _table((DOCS / "policy.md").read_text(encoding="utf-8"), "Rule ids")
    assert sorted(table) == sorted(POLICY_RULES)
    policy = load_policy()
    for rule_id, (default, on_error, _guards) in table.items():
        info = RULES[rule_id]
        settings = policy.rules.get(rule_id)
        decision = settings.decision if settings and settings.decision else info.decision
        fallback = settings.on_error if settings and settings.on_error else info.on_error
        assert default.split()[0] == decision.value, rule_id
        assert on_error.split()[0] == fallback.value, rule_id
        assert ("cannot be lowered" in default) is info.fixed, rule_id


def test_every_finding_id_is_in_the_behaviour_table_with_its_severity() -> None:
    table = _table((DOCS / "behaviour.md").read_text(encoding="utf-8"), "Finding ids")
    assert sorted(table) == sorted(BEHAVIOUR_RULES)
    for finding, (severity, _meaning) in table.items():
        assert severity == BEHAVIOUR_RULES[finding].severity.value, finding


def test_every_public_name_is_documented() -> None:
    import verify

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [name for name in verify.__all__ if f"`{name}" not in text]
    assert missing == [], f"docs/api.md does not name: {missing}"


def test_every_field_of_the_shared_settings_is_documented() -> None:
    import dataclasses

    from verify import settings

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    parts = (
        settings.InputSettings,
        settings.ResolutionSettings,
        settings.VerificationSettings,
        settings.NetworkSettings,
    )
    # Each part's row in the table names what it holds, in words or by the field's name.
    rows = {
        part.__name__: next(
            line for line in text.splitlines() if line.startswith(f"| `{part.__name__}`")
        )
        for part in parts
    }
    words: dict[str, str] = {
        "requirements": "requirements",
        "requirement_files": "requirements",
        "constraint_files": "constraint files",
        "lock_files": "lock files",
        "dist_files": "distribution files",
        "base": "`base`",
        "index_url": "index URL",
        "extra_index_urls": "extra indexes",
        "find_links": "find-links",
        "no_index": "`no_index`",
        "pre": "`pre`",
        "target": "`TargetEnvironment`",
        "allow_source_builds": "source builds",
        "environment": "interpreter to resolve for",
        "ignore_installed": "`ignore_installed=False`",
        "upgrade": "`upgrade`",
        "install_options": "`install_options`",
        "policy_path": "policy file",
        "trust_config": "trust config",
        "expect": "`expect`",
        "trust_store": "trust store",
        "record": "record",
        "osv_url": "OSV API",
        "vulnerability_db": "offline database",
        "behaviour": "behaviour diff",
        "all_files": "`all_files`",
        "offline": "`offline`",
        "cache_dir": "cache directory",
        "timeout": "timeout",
        "retries": "retries",
        "jobs": "parallel downloads",
    }
    for part in parts:
        for field in dataclasses.fields(part):
            assert field.name in words, f"{part.__name__}.{field.name}: add it to docs/api.md"
            assert words[field.name] in rows[part.__name__], f"{part.__name__}.{field.name}"
