"""The data the behaviour analysis passes between its stages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from verify.models import Finding, Severity

__all__ = ["SHAPED_KINDS", "Capability", "FileProfile", "Phase"]

#: Kinds of file whose shape (entropy, longest line) is compared between two versions: a
#: jump is minified or encoded code (``profile-jump``).
SHAPED_KINDS = frozenset({"python", "javascript", "shell"})


class Phase(str, enum.Enum):
    """When code runs: what makes the same call more or less dangerous."""

    #: While pip builds or installs the package (``setup.py``, an in-tree build backend).
    INSTALL = "install"
    #: At every interpreter start-up (a ``.pth`` file's ``import`` lines).
    STARTUP = "startup"
    #: When the module is imported (module or class body, outside any function).
    IMPORT = "import"
    #: Only when a function is called.
    RUNTIME = "runtime"


@dataclass(frozen=True, slots=True)
class Capability:
    """One thing a file can do, with its evidence.

    ``key`` identifies the capability across versions regardless of where it moved (e.g.
    ``"subprocess.Popen"``, the host ``"hooks.example"``): the diff treats a capability whose
    ``(rule, key)`` the baseline already had as context, and a new one as a finding.
    """

    rule: str
    #: Severity when this capability is newly added, before the phase adds weight.
    severity: Severity
    message: str
    path: str
    line: int | None
    key: str
    phase: Phase = Phase.RUNTIME
    #: Malicious on its own (decode-then-exec, a reverse shell), not a generic capability:
    #: keeps its severity even without a baseline to compare with.
    specific: bool = False
    #: The offending source, trimmed to one line of at most 200 characters.
    snippet: str | None = None
    #: How the action hides itself (a hidden window, an encoded command, output thrown
    #: away), as a phrase for a report; ``None`` when it does nothing to hide.
    concealed: str | None = None
    #: Routine, not the action itself: a process call whose program is a well-known build
    #: or probe tool (a compiler, ``cmake``, ``git``, the interpreter) run in plain sight, or
    #: a network client or socket created but not used to transfer anything.
    routine: bool = False


@dataclass(frozen=True, slots=True)
class FileProfile:
    """What one file is and can do."""

    path: str
    size: int
    #: ``python``, ``pth``, ``native`` (ELF/PE/Mach-O), ``javascript``, ``shell``, ``text``,
    #: ``data`` (anything else).
    kind: str
    #: Shannon entropy of the bytes, in bits per byte (0..8); ``None`` when not measured (it is
    #: only compared between two versions of a file).
    entropy: float | None
    #: The longest line, in characters (0 for binary files).
    max_line: int
    capabilities: tuple[Capability, ...] = ()
    #: Network hosts (and raw IPs) the file names, lower-cased.
    hosts: frozenset[str] = frozenset()
    #: Problems found while reading the file itself (e.g. source that does not parse).
    findings: tuple[Finding, ...] = field(default_factory=tuple)
