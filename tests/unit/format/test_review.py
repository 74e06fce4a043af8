"""Report formats for code review: SARIF, markdown, and GitHub Actions annotations."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from rich.console import Console

from verify._format.github import (
    append_step_summary,
    escape_data,
    escape_property,
    workflow_commands,
)
from verify._format.json import render_json
from verify._format.markdown import (
    COMMENT_LIMIT,
    DEFAULT_MARKER,
    marker_comment,
    render_markdown,
)
from verify._format.sarif import FINGERPRINT_KEY, render_sarif, report_to_sarif
from verify._format.text import render_text
from verify.models import (
    BehaviourSummary,
    Decision,
    FileResult,
    Finding,
    HashStatus,
    PackageResult,
    Provenance,
    ProvenanceStatus,
    Reason,
    Report,
    ReportError,
    Severity,
    SourceLocation,
)
from verify.policy.rules import RULES

SCHEMA_PATH = Path(__file__).parent.parent.parent / "data" / "sarif-schema-2.1.0.json"
LOCK = "pylock.toml"
HOSTILE = "bad | cell <script>alert(1)</script>\n::error::forged\r\n@org/team `tick` [x](y) $x$"
PUBLISHER = {
    "kind": "GitHub",
    "issuer": "https://issuer.example",
    "repository": "example/demo",
    "workflow": "release.yml",
    "environment": None,
}


def _file(name: str, status: HashStatus = HashStatus.VERIFIED) -> FileResult:
    return FileResult(
        filename=name,
        url=f"https://files.example/{name}",
        sha256="a" * 64,
        hash_status=status,
        index_url="https://index.example/simple/",
    )


def _package(
    name: str,
    version: str,
    decision: Decision,
    *,
    reasons: tuple[Reason, ...] = (),
    findings: tuple[Finding, ...] = (),
    line: int | None = None,
    provenance: Provenance | None = None,
    behaviour: tuple[BehaviourSummary, ...] = (),
    raw_name: bool = False,
) -> PackageResult:
    return PackageResult(
        name=NormalizedName(name) if raw_name else canonicalize_name(name),
        version=Version(version),
        decision=decision,
        index="https://index.example/simple/",
        files=(_file(f"{name}-{version}-py3-none-any.whl"),),
        provenance=provenance or Provenance(ProvenanceStatus.ABSENT),
        findings=findings,
        reasons=reasons,
        source=SourceLocation(LOCK, line) if line is not None else None,
        behaviour=behaviour,
    )


DECODE = Finding(
    "decode-exec",
    Severity.CRITICAL,
    "exec of base64-decoded data",
    path="evil/__init__.py",
    line=7,
    snippet="exec(base64.b64decode(PAYLOAD))",
    why="Dangerous because it runs code it keeps encoded, out of sight of readers and scanners.",
)
NETWORK = Finding(
    "network-access",
    Severity.LOW,
    "opens network connections",
    path="evil/net.py",
    line=3,
    snippet="socket.create_connection((HOST, 443))",
)


def make_report(*, line_shift: int = 0) -> Report:
    """A lock file with a denied, a warned, an unchecked and an allowed package."""
    evil = _package(
        "evil",
        "2.0",
        Decision.DENY,
        line=12 + line_shift,
        findings=(NETWORK, DECODE),
        reasons=(
            Reason(
                "network-access", Decision.WARN, "evil/net.py:3: opens network connections (low)"
            ),
            Reason(
                "decode-exec",
                Decision.DENY,
                "evil/__init__.py:7: exec of base64-decoded data (critical)",
            ),
            Reason(
                "hash-mismatch",
                Decision.DENY,
                "evil-2.0-py3-none-any.whl: sha256 differs from the lock file",
            ),
        ),
        behaviour=(
            BehaviourSummary(
                "evil-2.0-py3-none-any.whl",
                "evil-1.0-py3-none-any.whl",
                "newest earlier release 1.0",
                added=2,
                changed=1,
            ),
        ),
    )
    young = _package(
        "young",
        "1.1",
        Decision.WARN,
        line=20 + line_shift,
        reasons=(
            Reason(
                "release-age",
                Decision.WARN,
                "young-1.1-py3-none-any.whl was uploaded 5 hours ago (2024-01-02 03:04 UTC); "
                "the policy wants 3 days",
            ),
        ),
    )
    offline = _package(
        "offline",
        "3.0",
        Decision.WARN,
        line=30 + line_shift,
        reasons=(Reason("index-metadata", Decision.WARN, "not consulted: --offline", True),),
    )
    hostile = _package(
        "bad|name<b>",
        "0.1",
        Decision.WARN,
        line=40 + line_shift,
        raw_name=True,
        reasons=(Reason("typosquat", Decision.WARN, HOSTILE),),
    )
    good = _package(
        "good",
        "1.0",
        Decision.ALLOW,
        line=50 + line_shift,
        provenance=Provenance(ProvenanceStatus.VERIFIED, publisher=PUBLISHER),
    )
    picked = _package(
        "picked",
        "4.0",
        Decision.WARN,
        reasons=(Reason("hash-missing", Decision.WARN, "no strong digest for picked"),),
    )
    return Report(
        decision=Decision.DENY,
        packages=(good, young, evil, offline, hostile, picked),
        checks=("hashes", "provenance", "behaviour"),
        warnings=("the trust root is 40 days old",),
    )


def _sarif(report: Report, **kwargs: Any) -> dict[str, Any]:
    document = json.loads(render_sarif(report, **kwargs))
    assert isinstance(document, dict)
    return document


def _results(document: dict[str, Any]) -> list[dict[str, Any]]:
    results = document["runs"][0]["results"]
    assert isinstance(results, list)
    return results


def _by_rule(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["ruleId"]: result for result in _results(document)}


# -- SARIF -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator: jsonschema.protocols.Validator = validator_class(schema)
    return validator


@pytest.mark.parametrize(
    "report",
    [
        make_report(),
        Report(decision=Decision.ALLOW, packages=()),
        dataclasses.replace(
            make_report(), errors=(ReportError("network", "index.example unreachable"),)
        ),
    ],
    ids=["findings", "empty", "errors"],
)
def test_sarif_validates_against_the_schema(
    report: Report, sarif_validator: jsonschema.protocols.Validator
) -> None:
    document = _sarif(report, category=LOCK, tool_uri="https://tool.example/pip-verify")
    errors = sorted(sarif_validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert document["version"] == "2.1.0"


def test_sarif_validator_rejects_a_broken_log(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    # The vendored schema really constrains the output (guards against an empty schema).
    document = _sarif(make_report())
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(document)


def test_sarif_results_are_the_non_allow_reasons() -> None:
    report = make_report()
    document = _sarif(report)
    wanted = [(p.name, r.rule) for p in report.packages for r in p.reasons if r.decision != "allow"]
    got = [(r["properties"]["package"], r["ruleId"]) for r in _results(document)]
    assert got == wanted
    # No extra results for findings: the decode-exec finding is evidence of its reason.
    assert [r["ruleId"] for r in _results(document)].count("decode-exec") == 1


def test_sarif_levels_follow_decisions() -> None:
    results = _by_rule(_sarif(make_report()))
    assert results["hash-mismatch"]["level"] == "error"
    assert results["decode-exec"]["level"] == "error"
    assert results["release-age"]["level"] == "warning"
    assert results["network-access"]["level"] == "warning"
    assert results["index-metadata"]["level"] == "note"
    assert results["index-metadata"]["properties"]["unchecked"] is True


def test_sarif_rules_one_per_rule_id_with_help() -> None:
    document = _sarif(make_report())
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted({r["ruleId"] for r in _results(document)})
    for result in _results(document):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_id = {rule["id"]: rule for rule in rules}
    hash_rule = by_id["hash-mismatch"]
    assert hash_rule["name"] == "HashMismatch"
    assert hash_rule["fullDescription"]["text"] == RULES["hash-mismatch"].summary
    assert hash_rule["shortDescription"]["text"].startswith("A file's bytes differ")
    assert "[rules.hash-mismatch]" in hash_rule["help"]["text"]
    assert hash_rule["defaultConfiguration"]["level"] == "error"
    assert hash_rule["properties"]["security-severity"] == "9.0"
    assert "security" in hash_rule["properties"]["tags"]
    # index-metadata is allowed by default; it got only an unchecked warning here.
    assert by_id["index-metadata"]["defaultConfiguration"]["level"] == "note"
    assert by_id["index-metadata"]["properties"]["security-severity"] == "2.0"
    assert by_id["release-age"]["properties"]["security-severity"] == "5.0"
    # "e.g." does not end the short description.
    assert by_id["index-metadata"]["shortDescription"]["text"].endswith("with --offline.")
    assert "behaviour" in by_id["decode-exec"]["properties"]["tags"]
    # Behaviour findings default by severity: critical is denied, low is let through.
    assert by_id["decode-exec"]["defaultConfiguration"]["level"] == "error"
    assert by_id["network-access"]["defaultConfiguration"]["level"] == "note"


def test_sarif_locations_at_the_lock_file_line() -> None:
    results = _by_rule(_sarif(make_report()))
    physical = results["hash-mismatch"]["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": LOCK}, "region": {"startLine": 12}}
    logical = results["hash-mismatch"]["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "evil==2.0"
    # A resolver's pick has no line: it is placed at the top of the one input file.
    picked = results["hash-missing"]["locations"][0]["physicalLocation"]
    assert picked == {"artifactLocation": {"uri": LOCK}, "region": {"startLine": 1}}


def test_sarif_location_without_any_input_file() -> None:
    report = make_report()
    report = dataclasses.replace(
        report, packages=tuple(dataclasses.replace(p, source=None) for p in report.packages)
    )
    (result,) = [r for r in _results(_sarif(report)) if r["ruleId"] == "hash-mismatch"]
    assert "physicalLocation" not in result["locations"][0]
    named = _by_rule(_sarif(report, artifact="requirements/prod.txt"))["hash-mismatch"]
    uri = named["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "requirements/prod.txt"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("./sub dir/pylock.toml", "sub%20dir/pylock.toml"),
        ("sub\\pylock.toml", "sub/pylock.toml"),
        ("/abs/pylock.toml", "file:///abs/pylock.toml"),
        ("C:\\work\\pylock.toml", "file:///C:/work/pylock.toml"),
    ],
)
def test_sarif_uris(path: str, uri: str) -> None:
    report = make_report()
    report = dataclasses.replace(
        report,
        packages=tuple(
            dataclasses.replace(p, source=SourceLocation(path, 1)) for p in report.packages
        ),
    )
    result = _results(_sarif(report))[0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri


def test_sarif_evidence_from_the_finding() -> None:
    result = _by_rule(_sarif(make_report()))["decode-exec"]
    assert result["properties"]["evidence"]["snippet"] == DECODE.snippet
    assert result["properties"]["evidence"]["severity"] == "critical"
    assert "exec(base64.b64decode(PAYLOAD))" in result["message"]["text"]
    assert result["message"]["text"].startswith("evil 2.0: ")
    assert result["message"]["text"].endswith(f"\n{DECODE.why}")
    assert result["properties"]["evidence"]["why"] == DECODE.why
    assert "evidence" not in _by_rule(_sarif(make_report()))["hash-mismatch"]["properties"]


def test_text_and_json_carry_the_code_and_why_for_serious_findings() -> None:
    stream = io.StringIO()
    render_text(make_report(), Console(file=stream, width=200, no_color=True))
    lines = stream.getvalue().splitlines()
    [index] = [i for i, line in enumerate(lines) if "[decode-exec]" in line]
    assert lines[index + 1].strip() == DECODE.snippet
    assert lines[index + 2].strip() == DECODE.why
    document = json.loads(render_json(make_report()))
    findings = [f for p in document["packages"] for f in p["findings"]]
    [decode] = [f for f in findings if f["rule"] == "decode-exec"]
    assert (decode["snippet"], decode["why"]) == (DECODE.snippet, DECODE.why)


def _fingerprints(report: Report) -> dict[str, str]:
    return {
        r["ruleId"]: r["partialFingerprints"][FINGERPRINT_KEY] for r in _results(_sarif(report))
    }


def test_sarif_fingerprints_are_stable() -> None:
    first = _fingerprints(make_report())
    assert first == _fingerprints(make_report())
    assert all(re.fullmatch(r"[0-9a-f]{64}:1", value) for value in first.values())
    assert len(set(first.values())) == len(first)
    # Moving the entries in the lock file keeps every fingerprint...
    assert _fingerprints(make_report(line_shift=7)) == first


def test_sarif_fingerprints_ignore_volatile_parts() -> None:
    report = make_report()
    older = dataclasses.replace(
        report,
        packages=tuple(
            dataclasses.replace(
                p,
                reasons=tuple(
                    dataclasses.replace(
                        r,
                        message=r.message.replace("5 hours", "2 days")
                        .replace("2024-01-02 03:04", "2024-01-03 05:06")
                        .replace("__init__.py:7", "__init__.py:9"),
                    )
                    for r in p.reasons
                ),
            )
            for p in report.packages
        ),
    )
    assert _fingerprints(older) == _fingerprints(report)
    # ...while the version and the substance of the message are part of the identity.
    bumped = dataclasses.replace(
        report,
        packages=tuple(dataclasses.replace(p, version=Version("9.9")) for p in report.packages),
    )
    assert set(_fingerprints(bumped).values()).isdisjoint(_fingerprints(report).values())


def test_sarif_identical_results_get_distinct_fingerprints() -> None:
    reason = Reason("yanked", Decision.WARN, "demo-1.0.whl is yanked")
    package = _package("demo", "1.0", Decision.WARN, line=3, reasons=(reason, reason))
    results = _results(_sarif(Report(decision=Decision.WARN, packages=(package,))))
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert prints[0].endswith(":1")
    assert prints[1].endswith(":2")
    assert prints[0][:-2] == prints[1][:-2]


def test_sarif_category_and_run_details() -> None:
    document = _sarif(make_report(), category="services/api/pylock.toml")
    run = document["runs"][0]
    assert run["automationDetails"] == {"id": "pip-verify/services/api/pylock.toml/"}
    assert "automationDetails" not in _sarif(make_report())["runs"][0]
    assert run["tool"]["driver"]["name"] == "pip-verify"
    assert "informationUri" not in run["tool"]["driver"]
    assert run["properties"]["decision"] == "deny"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert notes == [{"level": "warning", "message": {"text": "the trust root is 40 days old"}}]
    failed = dataclasses.replace(make_report(), errors=(ReportError("network", "unreachable"),))
    assert report_to_sarif(failed)["runs"][0]["invocations"][0]["executionSuccessful"] is False


# -- markdown --------------------------------------------------------------------------------


def test_markdown_headline_table_and_findings() -> None:
    text = render_markdown(make_report())
    lines = text.splitlines()
    assert lines[0] == "## pip-verify: DENY"
    assert "**Decision: DENY**. 6 packages checked: 1 allowed, 4 with warnings, 1 denied." in text
    assert "2 denials, 4 warnings and 1 unchecked rule." in text
    assert "| Package | Version | Decision | Provenance | Publisher | Source |" in lines
    good = next(line for line in lines if line.startswith("| good "))
    assert (
        good
        == "| good | 1.0 | allow | verified | GitHub example/demo release.yml | pylock.toml:50 |"
    )
    assert next(line for line in lines if line.startswith("| evil ")).startswith(
        "| evil | 2.0 | **deny** |"
    )
    # Denials first, in the table and in the findings.
    rows = [line.split("|")[1].strip() for line in lines if line.startswith("| ")][2:]
    assert rows[0] == "evil"
    assert rows[-1] == "good"
    headings = [line for line in lines if line.startswith("#### ")]
    assert headings[0] == "#### evil 2.0: **deny**"
    # The package's findings are ordered by decision, then by the finding's severity.
    evil = lines[lines.index(headings[0]) :]
    first = [line for line in evil if line.startswith("- ")][:3]
    assert first[0].startswith("- **deny** `decode-exec`:")
    assert first[1].startswith("- **deny** `hash-mismatch`:")
    assert first[2].startswith("- **warn** `network-access`:")
    assert (
        "  - evidence (critical): `evil/__init__.py:7` `exec(base64.b64decode(PAYLOAD))`" in lines
    )
    assert "Behaviour of evil-2.0-py3-none-any.whl compared with" in text
    assert (
        "- **unchecked** `index-metadata`: not consulted: --offline (could not be checked" in text
    )
    assert "### Warnings" in text
    assert "<details>" not in text  # nothing long enough to fold


def test_markdown_escapes_untrusted_text() -> None:
    text = render_markdown(make_report())
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "\r" not in text
    # Printed in a workflow log, no line of it may start a workflow command.
    assert not any(line.startswith("::") for line in text.splitlines())
    hostile = next(line for line in text.splitlines() if "`typosquat`" in line)
    assert "forged" in hostile
    assert "@\u200borg/team" in hostile
    assert "\\`tick\\`" in hostile
    assert "\\[x\\](y)" in hostile
    assert "\\$x\\$" in hostile
    # The hostile name cannot add a table column or open a tag.
    row = next(line for line in text.splitlines() if line.startswith("| bad"))
    assert row.startswith("| bad\\|name&lt;b&gt; | 0.1 |")
    assert len(re.findall(r"(?<!\\)\|", row)) == 7
    for line in text.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 7, line


def test_markdown_snippets_with_backticks_and_controls() -> None:
    finding = Finding(
        "obfuscation",
        Severity.HIGH,
        "obfuscated code",
        path="x.py",
        line=1,
        snippet="a = `b` ``` c\u202e\x00",
    )
    package = _package(
        "demo",
        "1.0",
        Decision.DENY,
        line=1,
        findings=(finding,),
        reasons=(Reason("obfuscation", Decision.DENY, "x.py:1: obfuscated code (high)"),),
    )
    text = render_markdown(Report(decision=Decision.DENY, packages=(package,)))
    assert "```` a = `b` ``` c\ufffd\ufffd ````" not in text  # no padding needed here
    assert "````a = `b` ``` c\ufffd\ufffd````" in text
    assert "\u202e" not in text
    assert "\x00" not in text


def test_markdown_marker() -> None:
    text = render_markdown(make_report(), marker=DEFAULT_MARKER)
    assert text.startswith("<!-- pip-verify -->\n")
    assert marker_comment("pip-verify:pylock.toml") == "<!-- pip-verify:pylock.toml -->"
    with pytest.raises(ValueError, match="marker"):
        marker_comment("x --> <script>")
    assert render_markdown(make_report(), title="api | <lock>").startswith(
        "## api \\| &lt;lock&gt;: DENY"
    )


def _many(count: int) -> Report:
    findings = tuple(
        Finding("dynamic-import", Severity.MEDIUM, f"imports a module by name ({i})", f"m{i}.py", i)
        for i in range(count)
    )
    reasons = tuple(
        Reason("dynamic-import", Decision.WARN, f"m{i}.py:{i}: imports a module by name ({i})")
        for i in range(count)
    )
    packages = [
        _package("wide", "1.0", Decision.WARN, line=1, findings=findings, reasons=reasons),
        *(_package(f"pkg{i:03}", "1.0", Decision.ALLOW, line=i + 2) for i in range(count)),
    ]
    return Report(decision=Decision.WARN, packages=tuple(packages))


def test_markdown_folds_long_lists() -> None:
    text = render_markdown(_many(15))
    assert "<details>\n<summary>16 packages</summary>\n\n| Package" in text
    assert "<details>\n<summary>15 findings</summary>\n\n- **warn**" in text
    assert text.count("<details>") == text.count("</details>") == 2


@pytest.mark.parametrize("limit", [COMMENT_LIMIT, 6000, 3000, 1500])
def test_markdown_truncates_within_max_chars(limit: int) -> None:
    report = _many(500)
    full = render_markdown(report)
    assert len(full) > COMMENT_LIMIT
    text = render_markdown(report, max_chars=limit, marker=DEFAULT_MARKER)
    assert len(text) <= limit
    assert text.startswith("<!-- pip-verify -->")
    assert text.count("<details>") == text.count("</details>")
    shown = text.count("- **warn** `dynamic-import`")
    if limit == COMMENT_LIMIT:
        assert 0 < shown < 500
    match = re.search(r"… (\d+) more findings? not shown; see the JSON report\.", text)
    assert match is not None
    assert shown + int(match.group(1)) == 500
    # Cut at an entry's boundary: every finding shown is whole, with its evidence.
    item = re.compile(
        r"- \*\*warn\*\* `dynamic-import`: m(\d+)\.py:\1: imports a module by name \(\1\)"
    )
    items = [line for line in text.splitlines() if "dynamic-import" in line]
    assert all(item.fullmatch(line) for line in items)
    assert text.count("  - evidence (medium): `m") == shown


def test_markdown_truncates_the_table_when_findings_are_not_enough() -> None:
    text = render_markdown(_many(300), max_chars=1000)
    assert len(text) <= 1000
    assert re.search(r"… \d+ more packages not shown; see the JSON report\.", text)
    assert "… 300 more findings not shown" in text
    tiny = render_markdown(_many(300), max_chars=40)
    assert 0 < len(tiny) <= 40
    assert tiny.startswith("## pip-verify: WARN")


# -- GitHub Actions ---------------------------------------------------------------------------


def test_workflow_command_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_workflow_commands_for_the_report() -> None:
    lines = workflow_commands(make_report())
    assert all(line.count("\n") == 0 and "\r" not in line for line in lines)
    assert lines[0] == (
        "::error file=pylock.toml,line=12,title=pip-verify decode-exec%3A evil 2.0::"
        "evil 2.0: evil/__init__.py:7: exec of base64-decoded data (critical)"
        "%0Aevidence: evil/__init__.py:7: exec(base64.b64decode(PAYLOAD))"
    )
    assert lines[1].startswith("::error file=pylock.toml,line=12,title=pip-verify hash-mismatch")
    kinds = [line.split(" ", 1)[0].split("::")[1] for line in lines]
    assert kinds == ["error", "error", "warning", "warning", "warning", "warning", "warning"]
    # The checked warnings come before the unchecked one; no source, no file.
    assert "index-metadata" in lines[-2] or "index-metadata" in lines[-1]
    picked = next(line for line in lines if "hash-missing" in line)
    assert picked.startswith("::warning title=pip-verify hash-missing%3A picked 4.0::")
    hostile = next(line for line in lines if "typosquat" in line)
    # The forged command stays inside the message: no raw newline precedes it.
    assert "%0A::error::forged%0D%0A" in hostile
    assert hostile.startswith("::warning file=pylock.toml,line=40,title=")
    assert not any(line.startswith("::notice") for line in lines)


def test_workflow_commands_cut_long_snippets() -> None:
    finding = Finding("obfuscation", Severity.HIGH, "obfuscated", "x.py", 1, snippet="x" * 5000)
    reason = Reason("obfuscation", Decision.DENY, "x.py:1: obfuscated (high)")
    package = _package("demo", "1.0", Decision.DENY, line=2, reasons=(reason,), findings=(finding,))
    report = Report(decision=Decision.DENY, packages=(package,))
    (line,) = workflow_commands(report)
    assert len(line) < 400
    assert line.endswith("x…")
    result = _results(_sarif(report))[0]
    assert len(result["message"]["text"]) < 400
    assert result["properties"]["evidence"]["snippet"] == "x" * 5000


def test_workflow_commands_capped_per_level() -> None:
    reasons = tuple(
        Reason("decode-exec", Decision.DENY, f"f{i}.py:1: exec of decoded data (critical)")
        for i in range(12)
    ) + tuple(
        Reason("network-access", Decision.WARN, f"n{i}.py:1: opens connections (low)")
        for i in range(15)
    )
    findings = (
        Finding("network-access", Severity.LOW, "opens connections", "n0.py", 1),
        Finding("network-access", Severity.HIGH, "opens connections", "n14.py", 1),
    )
    package = _package("big", "1.0", Decision.DENY, line=5, reasons=reasons, findings=findings)
    lines = workflow_commands(Report(decision=Decision.DENY, packages=(package,)))
    errors = [line for line in lines if line.startswith("::error")]
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(errors) == 10
    assert len(warnings) == 10
    assert lines[:10] == errors
    # Ordered by the finding's severity within a level: the high one first.
    assert "n14.py" in warnings[0]
    assert lines[-1] == "::notice title=pip-verify::7 more findings are in the job summary"
    one = workflow_commands(
        Report(decision=Decision.DENY, packages=(package,)), max_errors=12, max_warnings=14
    )
    assert one[-1] == "::notice title=pip-verify::1 more finding is in the job summary"


def test_step_summary_appends(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_step_summary("first\n", path)
    append_step_summary("second\n", path)
    assert path.read_text(encoding="utf-8") == "first\nsecond\n"


def test_step_summary_respects_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * 1000 + b"\n")
    text = render_markdown(_many(300))
    limit = 6000
    append_step_summary(text, path, limit=limit)
    data = path.read_bytes()
    assert 1001 < len(data) <= limit
    written = data[1001:].decode("utf-8")
    assert written.startswith("## pip-verify: WARN")
    assert written.count("<details>") == written.count("</details>")
    assert "left out to stay within GitHub's step summary limit" in written
    # When not even the notice fits, nothing is appended.
    path.write_bytes(b"x" * (limit - 10))
    append_step_summary("more text\n" * 10, path, limit=limit)
    assert path.stat().st_size == limit - 10
    # The default limit is GitHub's 1 MiB.
    big = tmp_path / "big.md"
    append_step_summary("é" * (600 * 1024) + "\n\n" + "é" * (600 * 1024), big)
    assert 0 < big.stat().st_size <= 1024 * 1024
    big.read_text(encoding="utf-8")  # never cut inside a character


def test_step_summary_cut_without_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_step_summary("é" * 1000, path, limit=400)
    data = path.read_bytes()
    assert len(data) <= 400
    assert data.decode("utf-8").startswith("é")
