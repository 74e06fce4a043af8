"""How the behaviour diff rates what a release does: the severity of each capability.

A capability's severity comes from its rule, then from when it runs (install time, start-up,
import), from where it sits (shipped but inert, in a test suite), from whether there is a
baseline to compare with, and from how it hides. :func:`rate` decides it for a capability,
:func:`rate_problem` for a file the analysis could not read; :func:`capability_finding` and
:func:`rule_finding` turn what was found into findings.
"""

from __future__ import annotations

import dataclasses

from verify._behaviour.explain import explain, explain_rule
from verify._behaviour.profile import Capability, Phase
from verify._behaviour.roles import Role
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.severity import SEVERITY_ORDER, raise_severity
from verify.models import Finding, Severity

__all__ = ["capability_finding", "in_tests", "rate", "rate_problem", "rule_finding"]


#: Capabilities whose rule already says when they run: the phase adds no weight.
_PHASE_RULES = frozenset({"pth-exec", "install-hook", "import-time-thread", "monkey-patch"})
#: Credential stores that ordinary tools read for their own configuration (requests reads
#: ~/.netrc, twine ~/.pypirc, the Docker and Kubernetes clients theirs): a new read of one
#: is worth a look, not a verdict, unless it is sent somewhere (``exfiltration``).
_TOOL_CREDENTIALS = frozenset(
    {"~/.netrc", "~/.pypirc", "~/.docker/config.json", "~/.kube/config", "~/.npmrc", "~/.pgpass"}
)
#: Actions that, taken at install, start-up or import time, are a verdict on their own.
_ACTIONS = frozenset({"process-spawn", "network-access", "download-exec", "decode-exec"})
#: Actions that, taken while pip installs or at start-up, are a verdict on their own: code
#: run or imported by a name computed then (on import they are also how plugins load).
_INSTALL_ACTIONS = frozenset({"dynamic-exec", "dynamic-import"})
#: Code hidden from a reader: minified, or held in an encoded literal.
_HIDDEN_CODE = frozenset({"obfuscation", "high-entropy-string"})
#: Rules whose finding is itself a way of hiding code from a reader, or of running unseen.
_HIDING_RULES = frozenset({"decode-exec", "obfuscation", "pth-exec"})


def rule_finding(
    rule: str, message: str, path: str | None, *, severity: Severity | None = None
) -> Finding:
    return Finding(
        rule,
        severity or BEHAVIOUR_RULES[rule].severity,
        message,
        path=path,
        why=explain_rule(rule),
    )


def capability_finding(capability: Capability, severity: Severity) -> Finding:
    where = {
        Phase.INSTALL: " at install time",
        Phase.STARTUP: " at interpreter start-up",
        Phase.IMPORT: " at import time",
        Phase.RUNTIME: "",
    }[capability.phase]
    message = capability.message
    if where and capability.rule not in _PHASE_RULES and where.strip() not in message:
        message += where
    return Finding(
        capability.rule,
        severity,
        message,
        path=capability.path,
        line=capability.line,
        snippet=capability.snippet,
        why=explain(capability),
    )


def in_tests(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return any(p in ("tests", "test", "testing") for p in parts[:-1]) or (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def rate(capability: Capability, *, has_baseline: bool, role: Role = Role.INSTALLED) -> Severity:
    """A capability's severity from what it is, when it runs, and how it hides.

    Generic capabilities (a process, a connection) are judged by when they run: an action
    taken at install time, at interpreter start-up or on import runs for everyone who
    installs the package, before anyone calls anything, and is rated high even without a
    baseline, unless it is a build tool run in plain sight. Hiding it (a hidden window, an
    encoded command, output thrown away) makes it critical. Without a baseline, other generic
    capabilities stay at medium: a first release has to do something.
    """
    severity = capability.severity
    if capability.rule == "credential-read" and capability.key in _TOOL_CREDENTIALS:
        severity = Severity.MEDIUM
    if role is Role.INERT:
        # Shipped but neither installed nor run by installing (an sdist's tests, docs, CI
        # files): what it does runs only if someone runs it by hand, so it is worth a look,
        # not a verdict. Generic capabilities go two steps lower. What is malicious on its own
        # is medium (a test suite reads tokens from the environment and talks to servers, a
        # CI file pipes an installer into a shell), unless it hides what it does or is a
        # start-up hook: neither has any business in a test suite, and they stay one step lower.
        if not capability.specific:
            return raise_severity(severity, -2)
        if _hides(capability):
            return max(raise_severity(severity, -1), Severity.MEDIUM, key=SEVERITY_ORDER.index)
        return min(severity, Severity.MEDIUM, key=SEVERITY_ORDER.index)
    early = capability.phase is not Phase.RUNTIME
    if early and capability.rule not in _PHASE_RULES:
        severity = raise_severity(severity)
    if not capability.specific and role is not Role.INSTALL and in_tests(capability.path):
        # Test suites shipped in a package run only when someone runs them; what they do
        # generically (spawn, connect, name odd hosts) is one step less telling.
        severity = raise_severity(severity, -1)
        early = False
    if not has_baseline and not capability.specific:
        severity = raise_severity(severity, 0, cap=Severity.MEDIUM)
    if capability.rule in _HIDDEN_CODE and capability.phase is Phase.INSTALL:
        # Minified code or an encoded blob in what pip runs to build the package: build
        # scripts are written to be read, and hiding what one does is a verdict on its own.
        severity = max(severity, Severity.HIGH, key=SEVERITY_ORDER.index)
    if capability.rule in _ACTIONS and not capability.routine:
        if early:
            floor = Severity.CRITICAL if capability.concealed else Severity.HIGH
            severity = max(severity, floor, key=SEVERITY_ORDER.index)
        elif capability.concealed:
            # Hidden, but only when called: worth a look, never nothing.
            severity = max(severity, Severity.MEDIUM, key=SEVERITY_ORDER.index)
    if (
        capability.rule in _INSTALL_ACTIONS
        and early
        and capability.phase in (Phase.INSTALL, Phase.STARTUP)
    ):
        severity = max(severity, Severity.HIGH, key=SEVERITY_ORDER.index)
    return severity


def _hides(capability: Capability) -> bool:
    """Whether a capability conceals itself (decoded code, invisible characters, a hidden
    window) or runs unseen at every start-up (a .pth line)."""
    return capability.rule in _HIDING_RULES or capability.concealed is not None


def rate_problem(problem: Finding, role: Role) -> Finding:
    """A problem with reading a file, rated by whether the file runs.

    Code the parser cannot read hides what it does from the analysis: in a file that runs
    when the package is built or imported, that is itself reason to stop (the text scan that
    replaces the parse can miss what a parse would have shown).
    """
    if problem.rule != "unparsable-source" or problem.path is None or role is Role.INERT:
        return problem
    severity = Severity.HIGH
    if role is not Role.INSTALL and in_tests(problem.path):
        severity = Severity.MEDIUM
    return dataclasses.replace(
        problem, severity=max(severity, problem.severity, key=SEVERITY_ORDER.index)
    )
