"""The behaviour finding ids: stable strings that reports, policies and SARIF name.

Each id has a summary and the severity a finding of that kind has when it is newly added
and nothing raises or lowers it (the phase it runs in, a baseline that already had it).
Policies map ids to decisions (``[rules.decode-exec]``) or decide by severity
(``[rules.behaviour]`` ``deny-at``/``warn-at``).
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.models import Severity

__all__ = ["BEHAVIOUR_RULES", "BehaviourRule"]


@dataclass(frozen=True, slots=True)
class BehaviourRule:
    """A kind of behaviour finding."""

    id: str
    summary: str
    severity: Severity


_H, _C, _M, _L, _I = Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM, Severity.LOW, Severity.INFO

BEHAVIOUR_RULES: dict[str, BehaviourRule] = {
    rule.id: rule
    for rule in (
        # Archive safety (_dist/listing.py, _dist/archive.py).
        BehaviourRule(
            "archive-unsafe-path",
            "An archive member's path is absolute or climbs out of the archive (`..`).",
            _C,
        ),
        BehaviourRule(
            "archive-link", "An archive holds a symbolic or hard link (never followed).", _H
        ),
        BehaviourRule(
            "archive-special-file", "An archive holds a device file, FIFO or socket.", _H
        ),
        BehaviourRule(
            "archive-bomb",
            "An archive exceeds the member count, size or compression-ratio limits.",
            _H,
        ),
        BehaviourRule(
            "archive-disguised",
            "An archive's content is not of the kind its name says (a zip named .tar.gz).",
            _M,
        ),
        BehaviourRule(
            "archive-unterminated",
            "A tar stream stops after a member without the end-of-archive marker: installers "
            "read it as complete, though it may have been cut short.",
            _H,
        ),
        BehaviourRule(
            "archive-duplicate-entry",
            "The same path appears twice in a zip: installers and scanners may read different "
            "copies.",
            _H,
        ),
        # Census (_behaviour/census.py).
        BehaviourRule(
            "record-mismatch",
            "A wheel's RECORD does not match the archive: a file missing, unlisted, or with "
            "another hash.",
            _H,
        ),
        BehaviourRule("hidden-directory", "A new hidden or oddly named directory.", _M),
        BehaviourRule(
            "size-outlier", "A new or grown file far larger than the rest of the package.", _M
        ),
        BehaviourRule(
            "new-language",
            "Sizeable files in a language the package did not ship before (JavaScript in a Python "
            "package).",
            _M,
        ),
        BehaviourRule(
            "binary-added", "A bundled executable (ELF, PE, Mach-O) in a package that had none.", _H
        ),
        BehaviourRule(
            "native-extension-added",
            "A native extension module in a previously pure-Python package.",
            _M,
        ),
        BehaviourRule(
            "profile-jump",
            "A file's entropy or line length jumped between versions (minified or encoded "
            "content).",
            _M,
        ),
        BehaviourRule(
            "sdist-wheel-mismatch",
            "A release's sdist and wheel disagree: the wheel ships Python code the sdist does not "
            "have.",
            _M,
        ),
        # Metadata (_dist/metadata.py, _behaviour/metadata_diff.py).
        BehaviourRule("dependency-added", "A new dependency (or a new extra).", _L),
        BehaviourRule(
            "dependency-typosquat",
            "A new dependency whose name looks like a popular project's without being it.",
            _H,
        ),
        BehaviourRule("entry-point-added", "A new entry point or console script.", _L),
        BehaviourRule("maintainer-change", "Author or maintainer names or emails changed.", _M),
        BehaviourRule("project-url-change", "A project URL now points at another domain.", _M),
        BehaviourRule("requires-python-change", "Requires-Python changed.", _I),
        BehaviourRule("build-backend-change", "The build backend changed or moved in-tree.", _M),
        BehaviourRule("license-change", "The license changed.", _L),
        BehaviourRule(
            "filename-invalid",
            "The file's name is no valid wheel or sdist name: indexes refuse it, but pip "
            "installs such an sdist from a path or URL, named by its metadata.",
            _H,
        ),
        BehaviourRule(
            "metadata-malformed",
            "Core metadata is missing or cannot be parsed, or names another project or version.",
            _H,
        ),
        BehaviourRule(
            "release-gap", "The release follows its predecessor after years of silence.", _L
        ),
        # Capabilities (_behaviour/capabilities.py).
        BehaviourRule(
            "install-hook",
            "Code that runs at install time: setup.py command classes or hooks, top-level actions "
            "in setup.py, an in-tree build backend.",
            _H,
        ),
        BehaviourRule(
            "pth-exec", "A .pth file with executable lines: runs at every interpreter start-up.", _C
        ),
        BehaviourRule(
            "decode-exec",
            "exec/eval/compile, a process call (or a dynamic import) of decoded, decompressed or "
            "decrypted data (base64, zlib, marshal, hex, rot13, chr-joins, Fernet/AES, PowerShell "
            "-EncodedCommand).",
            _C,
        ),
        BehaviourRule(
            "dynamic-import", "A module imported by a computed name (importlib, __import__).", _M
        ),
        BehaviourRule(
            "dynamic-exec",
            "exec/eval/compile of code computed at run time (not a literal, not a file read).",
            _M,
        ),
        BehaviourRule(
            "process-spawn", "Starts processes (subprocess, os.system, os.exec*, pty).", _M
        ),
        BehaviourRule(
            "network-access",
            "Opens network connections (socket, urllib, http.client, requests, httpx).",
            _L,
        ),
        BehaviourRule(
            "suspicious-endpoint",
            "Names a webhook, paste site, chat-bot API, raw IP address or a TLD favoured by abuse.",
            _H,
        ),
        BehaviourRule(
            "new-endpoint",
            "Names a network host the project did not use before and that is not one of its "
            "project URLs.",
            _L,
        ),
        BehaviourRule(
            "credential-read",
            "Reads credential locations (cloud configs, SSH keys, .pypirc, .netrc, browser "
            "profiles, keychains, wallets).",
            _H,
        ),
        BehaviourRule(
            "environment-dump",
            "Reads the whole environment (os.environ as a whole, not one variable).",
            _M,
        ),
        BehaviourRule(
            "exfiltration",
            "Reads credentials or the environment and sends data over the network in the same "
            "file.",
            _C,
        ),
        BehaviourRule(
            "download-exec",
            "Downloads data and executes it (a chmod'ed binary, exec of a fetched script).",
            _C,
        ),
        BehaviourRule(
            "persistence",
            "Writes cron jobs, systemd units, autostart entries or shell rc files.",
            _H,
        ),
        BehaviourRule("reverse-shell", "Connects a socket to a shell's standard streams.", _C),
        BehaviourRule("miner", "Cryptocurrency miner markers (stratum URLs, xmrig).", _C),
        BehaviourRule("ld-preload", "Sets LD_PRELOAD or DYLD_INSERT_LIBRARIES.", _H),
        BehaviourRule(
            "obfuscation",
            "Obfuscated code: bidi or zero-width characters, homoglyph identifiers, code hidden "
            "after long runs of spaces, minified lines, builtins looked up by computed names, "
            "printable text spelled as escape sequences.",
            _H,
        ),
        BehaviourRule(
            "high-entropy-string", "A long encoded literal (base64, hex, compressed data).", _M
        ),
        BehaviourRule(
            "import-time-thread", "Starts a thread or process when the module is imported.", _M
        ),
        BehaviourRule(
            "monkey-patch",
            "Replaces attributes of other modules or classes (builtins, os, sys, requests).",
            _M,
        ),
        BehaviourRule(
            "output-silenced",
            "Redirects stdout/stderr or silences warnings around other actions.",
            _L,
        ),
        BehaviourRule(
            "unparsable-source",
            "A Python file that does not parse (analysed as text only); high in a file that "
            "runs at install or import time.",
            _L,
        ),
    )
}
