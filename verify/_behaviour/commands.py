"""What a command line handed to a process call gives away: hiding, fetching, a build tool.

A package that starts a process at install or import time is worth a look; one that starts
``powershell -WindowStyle Hidden -EncodedCommand ...`` with ``CREATE_NO_WINDOW`` is not
ambiguous. Published malware hides what it runs (a hidden window, a detached console, output
thrown away, an encoded script) and fetches what it runs (``curl``, ``Invoke-WebRequest``,
``certutil -urlcache``). Build scripts, by contrast, run a short list of well-known tools
(compilers, ``cmake``, ``git``, the interpreter itself) in plain sight.

These functions read only the command's text and the names of the flags passed with it; they
never run anything.
"""

from __future__ import annotations

import re

__all__ = [
    "BUILD_TOOLS",
    "CONCEALING_FLAGS",
    "command_concealment",
    "command_fetches",
    "is_build_tool",
]

#: Programs that build scripts and version helpers run in plain sight. A process call whose
#: program is one of these, with nothing hidden about it, is what a build does.
BUILD_TOOLS: frozenset[str] = frozenset(
    {
        # Version control, for version strings and submodules.
        "git",
        "hg",
        "svn",
        # Build systems and configure steps.
        "cmake",
        "make",
        "gmake",
        "nmake",
        "ninja",
        "meson",
        "scons",
        "bazel",
        "autoreconf",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        # Compilers, linkers and binary tools.
        "cc",
        "gcc",
        "g++",
        "c++",
        "clang",
        "clang++",
        "cl",
        "cl.exe",
        "link",
        "ld",
        "ar",
        "nvcc",
        "gfortran",
        "swig",
        "cython",
        "protoc",
        "rustc",
        "cargo",
        "go",
        "javac",
        "xcrun",
        "xcodebuild",
        "lipo",
        "otool",
        "install_name_tool",
        "patchelf",
        "strip",
        "nm",
        "objdump",
        "ldd",
        "ldconfig",
        "llvm-config",
        "nvidia-smi",
        "hipcc",
        "rocminfo",
        # Platform probes.
        "uname",
        "sw_vers",
        "lsb_release",
        "sysctl",
        "where",
        "which",
        "vswhere.exe",
        "vswhere",
    }
)

#: Names of flags and constants that keep a spawned process out of sight. Names only: what
#: a call passes is matched by the dotted name it resolves to, or the literal value below.
CONCEALING_FLAGS: dict[str, str] = {
    "subprocess.CREATE_NO_WINDOW": "CREATE_NO_WINDOW",
    "subprocess.DETACHED_PROCESS": "DETACHED_PROCESS",
    "subprocess.SW_HIDE": "SW_HIDE",
    "subprocess.STARTF_USESHOWWINDOW": "a hidden window (STARTF_USESHOWWINDOW)",
    "win32con.SW_HIDE": "SW_HIDE",
    "win32process.CREATE_NO_WINDOW": "CREATE_NO_WINDOW",
    "win32process.DETACHED_PROCESS": "DETACHED_PROCESS",
}
#: The same flags as literal numbers (``creationflags=0x08000000``).
CONCEALING_VALUES: dict[int, str] = {
    0x08000000: "CREATE_NO_WINDOW",
    0x00000008: "DETACHED_PROCESS",
}

_I = re.IGNORECASE
_POWERSHELL = re.compile(r"\b(?:powershell|pwsh)\b", _I)
#: PowerShell's own ways to hide: any abbreviation of -WindowStyle Hidden or -EncodedCommand.
_POWERSHELL_HIDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?:^|\s)[-/]w(?:i(?:n(?:d(?:o(?:w(?:s(?:t(?:y(?:le?)?)?)?)?)?)?)?)?)?\s+\"?hid", _I
        ),
        "a hidden PowerShell window (-WindowStyle Hidden)",
    ),
    (
        re.compile(
            r"(?:^|\s)[-/]e(?:c|n(?:c(?:o(?:d(?:e(?:d(?:c\w*)?)?)?)?)?)?)?\s+[A-Za-z0-9+/=]{16,}",
            _I,
        ),
        "an encoded PowerShell command (-EncodedCommand)",
    ),
)
#: What any command line says to hide itself, each with the phrase a report gives.
_HIDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bstart\s+(?:\"[^\"]*\"\s+)?/(?:b|min)\b", _I),
        "a hidden console (start /b, /min)",
    ),
    (re.compile(r"\bnohup\b|\bsetsid\b|\bdisown\b", _I), "a detached process (nohup, setsid)"),
    (re.compile(r"\bpythonw(?:\.exe)?\b", _I), "a windowless interpreter (pythonw)"),
    (
        re.compile(r"\bmshta\b|\bwscript\b|\bcscript\b|\bregsvr32\b|\brundll32\b", _I),
        "a Windows script host (mshta, wscript, rundll32)",
    ),
    (
        re.compile(r"\bbase64\s+(?:-d|--decode)\b|\bcertutil\s+-decode\b|\bFromBase64String\b", _I),
        "a decoded payload (base64 -d, FromBase64String)",
    ),
    (
        re.compile(r"\|\s*(?:ba|z|da)?sh\b|\|\s*iex\b|\bInvoke-Expression\b|\biex\s*\(", _I),
        "text piped into a shell (| sh, iex)",
    ),
)
#: Output thrown away: hiding for an unknown program, tidiness for a build tool.
_SILENCED = re.compile(r"(?:&>|>)\s*(?:/dev/null|nul)\b", _I)
#: What a command line says to fetch something from the network.
_FETCHING = re.compile(
    r"\b(?:curl|wget|Invoke-WebRequest|iwr|Invoke-RestMethod|irm|Start-BitsTransfer|bitsadmin"
    r"|DownloadString|DownloadFile|DownloadData|Net\.WebClient|certutil\s+-urlcache"
    r"|ftp\s+-s:|tftp)\b",
    _I,
)


def is_build_tool(program: str | None) -> bool:
    """Whether ``program`` (the basename of argv[0], lower-cased) is a build or probe tool."""
    if program is None:
        return False
    name = program.removesuffix(".exe") if program not in BUILD_TOOLS else program
    # The interpreter itself (``python``, ``python3.12``) runs the project's own scripts.
    return name in BUILD_TOOLS or re.fullmatch(r"python[0-9.]*", name) is not None


def command_concealment(command: str, *, tool: bool = False) -> str | None:
    """The first way ``command`` hides what it does, as a phrase for a report, else ``None``.

    ``tool``: the program is a build tool, whose output a build may throw away openly.
    """
    hiding = _HIDING
    if _POWERSHELL.search(command) is not None:
        hiding = _POWERSHELL_HIDING + hiding
    for pattern, phrase in hiding:
        if pattern.search(command) is not None:
            return phrase
    if not tool and _SILENCED.search(command) is not None:
        return "its output thrown away (> /dev/null)"
    return None


def command_fetches(command: str) -> bool:
    """Whether ``command`` downloads something (curl, wget, Invoke-WebRequest, certutil ...)."""
    return _FETCHING.search(command) is not None
