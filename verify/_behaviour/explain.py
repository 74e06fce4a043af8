"""One sentence on why a behaviour finding is dangerous: what the code can do to the person
installing it, when it does it, and how it hides.

Reports carry this beside the file, the line and the code, so that a reviewer can judge a
finding without knowing the rule catalogue.
"""

from __future__ import annotations

from verify._behaviour.profile import Capability, Phase

__all__ = ["explain", "explain_rule"]

#: What each kind of behaviour puts at risk, completing "Dangerous because ...".
_DANGER: dict[str, str] = {
    "process-spawn": "it starts programs with the rights of whoever installs or uses it",
    "network-access": "it talks to the network, which is how payloads arrive and data leaves",
    "download-exec": "it runs code fetched from the network, which its author can change at "
    "any time and no review ever saw",
    "decode-exec": "it runs code it keeps encoded, out of sight of readers and scanners",
    "exfiltration": "it gathers secrets or the environment and has a way to send them out",
    "credential-read": "it touches credentials that give access to other systems and accounts",
    "persistence": "it plants itself to run again later, outside the package",
    "reverse-shell": "it hands a remote party an interactive shell on this machine",
    "miner": "it mines cryptocurrency with this machine's resources",
    "pth-exec": "Python runs a .pth file's import lines in every program, at every start-up",
    "obfuscation": "it is written so that people and tools cannot read what it does",
    "suspicious-endpoint": "it names a kind of host that malware uses to receive stolen data or "
    "serve payloads",
    "install-hook": "it runs the package's own code during pip install",
    "dynamic-import": "it imports code by a name computed at run time, which hides what it loads",
    "dynamic-exec": "it runs code that exists only once the program has computed it, which no "
    "reader of the source can see",
    "ld-preload": "it injects a library into every program started afterwards",
    "environment-dump": "it reads the whole environment, where tokens and keys live",
    "high-entropy-string": "it carries an encoded blob whose content a reader cannot see",
    "import-time-thread": "it starts work in the background as soon as it is imported",
    "monkey-patch": "it replaces functions of other modules, changing what they do",
    "output-silenced": "it hides output that would show what it does",
    "binary-added": "a bundled executable can do anything, and no source in the package shows what",
    "record-mismatch": "the wheel's files are not the ones its RECORD lists, so what is "
    "installed is not what was built",
    "metadata-malformed": "an installer and a reviewer may read different things about it",
    "dependency-typosquat": "it pulls in a package whose name imitates a popular one",
    "archive-unsafe-path": "unpacking it would write outside the target directory",
}
_WHEN: dict[Phase, str] = {
    Phase.INSTALL: "during pip install, before anyone has used or reviewed the package",
    Phase.STARTUP: "at every interpreter start-up",
    Phase.IMPORT: "as soon as the package is imported",
    Phase.RUNTIME: "",
}


def explain(capability: Capability) -> str:
    """Why ``capability`` is dangerous, in one sentence."""
    sentence = "Dangerous because " + _DANGER.get(capability.rule, "of what it does")
    when = _WHEN[capability.phase]
    if when and capability.rule not in ("pth-exec", "install-hook"):
        sentence += ", " + when
    if capability.concealed:
        sentence += f"; it hides this behind {capability.concealed}"
    return sentence + "."


def explain_rule(rule: str) -> str | None:
    """Why a finding of ``rule`` is dangerous, when no capability says more."""
    danger = _DANGER.get(rule)
    return f"Dangerous because {danger}." if danger else None
