"""Static capability analysis: what one file inside a Python distribution can do.

Threat model. Malicious releases rarely look malicious as a whole: they add a ``.pth`` line that
runs at every interpreter start-up, a ``setup.py`` command class that runs during ``pip
install``, or a module that decodes a blob and executes it when imported, reads
``~/.aws/credentials`` and posts it to a webhook. This module reads one file's bytes (it never
executes, imports or writes anything) and lists its *capabilities*: each is a catalogue rule
(:mod:`verify._rules.behaviour`) with the line it was seen on, the phase it runs in
(install, interpreter start-up, import, or only when called) and a key that stays the same
across releases (``subprocess.Popen``, ``~/.aws/credentials``, a host name), so the diff can
report what a release *adds* rather than everything a package has always done.

What is detected (rule: key):

- ``install-hook``: ``cmdclass=`` and setuptools/distutils command subclasses (key ``cmdclass``
  or the base class); anything in an install-time file (``setup.py``) has phase ``install``.
- ``pth-exec``: ``.pth`` lines starting with ``import`` (key ``import <module>``); the code on
  them is analysed too, in phase ``startup``.
- ``decode-exec`` / ``download-exec``: exec, eval, compile, ``types.FunctionType``,
  ``marshal.loads``, a dynamic import or a process call fed by decoded data (base64, hex, rot13,
  zlib/lzma/bz2/gzip, marshal, chr-joins, ``bytes([...])``, reversed strings) or by a network
  response (key ``exec(base64.b64decode)``, ``exec(requests)``); ``curl | sh`` in strings.
- ``dynamic-import``, ``process-spawn``, ``network-access`` (key: the call or module),
  ``credential-read`` and ``persistence`` (key: the location), ``environment-dump``
  (``os.environ``), ``exfiltration`` (credentials or environment plus network in one file),
  ``reverse-shell``, ``miner``, ``ld-preload``, ``suspicious-endpoint`` (webhooks, paste sites,
  tunnels, raw public IPs, abused TLDs), ``obfuscation`` (bidi and zero-width characters,
  homoglyph identifiers, code hidden after long blank runs, minified lines),
  ``high-entropy-string`` (key ``encoded-literal``), ``import-time-thread``, ``monkey-patch``,
  ``output-silenced``; and :attr:`FileProfile.hosts` for the diff's ``new-endpoint``.

How. Python is parsed with :mod:`ast`; imports and aliases are resolved (``import subprocess as
sp; sp.Popen`` is ``subprocess.Popen``, ``__import__("os").system`` is ``os.system``) and simple
data flow is followed within a scope (``code = b64decode(s); exec(code)``). Shell, JavaScript,
other text, and Python that does not parse are searched with the regular expressions in
:mod:`verify._behaviour.patterns`. A byte-level prefilter (:func:`needs_analysis`) skips the
parse for files containing none of the tokens any detection needs, which is most of them. The
hosts of a Python file are those of its URL-ish literals (a literal that opens with a URL, a
``host:port``, a socket address); URLs in comments, docstrings and messages are documentation.

Limits. Static reading cannot follow data across files or through arbitrary computation, so a
determined author can hide from any one rule; the rules aim at what published malware does and
at making evasion itself visible (decoding, dynamic imports, obfuscation). Native files get no
capabilities here (the census reports added binaries).

Where. This module holds the entry points and the file's shape (kind, entropy, the windows very
large text is read in). :mod:`~verify._behaviour.collector` gathers the results,
:mod:`~verify._behaviour.textscan` scans text, :mod:`~verify._behaviour.pth` reads ``.pth``
files and :mod:`~verify._behaviour.pyanalysis` analyses Python, with a class built up in
``pywalk``, ``pyindex``, ``pyflow``, ``pynodes``, ``pycalls`` and ``pyexec``.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from collections.abc import Iterator

from verify._behaviour import patterns, scanning
from verify._behaviour.collector import Collector, Source, add_exfiltration, unparsable_finding
from verify._behaviour.profile import FileProfile, Phase
from verify._behaviour.pth import analyse_pth
from verify._behaviour.pyanalysis import analyse_python, scan_python_text, text_phases
from verify._behaviour.textscan import analyse_text, scan_encoded_runs, scan_invisible, scan_layout

__all__ = ["file_kind", "is_setup_script", "names_inert_text", "needs_analysis", "profile_file"]


#: Text files larger than this are analysed in windows of ``_WINDOW`` bytes, overlapping by
#: ``_WINDOW_OVERLAP`` where no line break is near: an analysis holds a few times the text it
#: reads at once.
_WHOLE_MAX = 16 * 1024 * 1024
_WINDOW = 4 * 1024 * 1024
_WINDOW_OVERLAP = 64 * 1024
_SDIST_ROOT = re.compile(r"[A-Za-z0-9._+]+-\d[\w.+!-]*")

_NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit, big-endian
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit, big-endian
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit, little-endian
)
_FAT_MAGIC = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
_KIND_BY_EXTENSION = {
    ".py": "python",
    ".pyw": "python",
    ".pth": "pth",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
}
_NODE_SHEBANG = re.compile(rb"#![ \t]*\S*?/(?:env[ \t]+(?:-\S+[ \t]+)*)?node\b")


# --- Public API --------------------------------------------------------------------------------


def needs_analysis(path: str, data: bytes) -> bool:
    """Whether ``data`` may hold anything :func:`profile_file` detects beyond the file's shape.

    The fast byte-level prefilter: ``False`` means none of the trigger tokens (call names,
    credential and persistence locations, a URL opening a string), no invisible or look-alike
    character, no long blank run and no long line occur, so no detection could fire and the
    file gets only its kind, entropy and longest line. A ``.pth`` file needs analysis exactly
    when it has a line the site module executes.
    """
    # One pass of compiled automata over the bytes (verify._behaviour.scanning), equal to
    # testing each trigger in turn.
    return scanning.needs_analysis(path, data)


def profile_file(
    path: str,
    data: bytes,
    *,
    install_time: bool | None = None,
    loads_at_install: bool = False,
    called_on_import: frozenset[str] = frozenset(),
    measure_entropy: bool = True,
) -> FileProfile:
    """What the file at ``path`` (inside a distribution) is and can do.

    ``install_time`` says the whole file runs while pip builds or installs the package;
    ``None`` infers it, true only for a top-level ``setup.py``. ``loads_at_install`` says the
    build imports the module (an in-tree backend, a module ``setup.py`` imports): what runs as
    it loads runs at install time, its functions only when called. ``called_on_import`` names
    functions of the module that its package's ``__init__`` calls as it is imported (see
    :mod:`verify._behaviour.import_calls`): they run as it loads. ``measure_entropy=False``
    leaves :attr:`FileProfile.entropy` unmeasured (``None``): it is only compared between two
    versions of a file, and counting every byte value of every file was a sixth of a first
    upload's analysis. Never raises: source that cannot be parsed is scanned as text and
    reported as ``unparsable-source``.
    """
    kind = file_kind(path, data)
    entropy = _entropy(data) if measure_entropy else None
    if kind in ("native", "data"):
        return FileProfile(path=path, size=len(data), kind=kind, entropy=entropy, max_line=0)
    if len(data) > _WHOLE_MAX:
        return _profile_in_windows(
            path,
            data,
            kind,
            entropy,
            install_time=is_setup_script(path) if install_time is None else install_time,
            loads_at_install=loads_at_install,
        )
    text = _decode_python(data) if kind == "python" else data.decode("utf-8", errors="replace")
    profile = FileProfile(
        path=path,
        size=len(data),
        kind=kind,
        entropy=entropy,
        max_line=max(map(len, text.splitlines()), default=0),
    )
    if install_time is None:
        install_time = is_setup_script(path)
    # Install-time files bypass the prefilter: there are one or two per distribution and they
    # run with the installing user's rights, so the parse is always worth it.
    if not (install_time or loads_at_install or needs_analysis(path, data)):
        return profile
    collector = Collector(path, Source(text), inert_text=_is_inert_text(kind, path))
    collector.called_on_import = called_on_import
    if loads_at_install:
        collector.load_phase = Phase.INSTALL
    if kind == "python":
        phase = Phase.INSTALL if install_time else None
        analyse_python(collector, text, forced=phase)
    elif kind == "pth":
        analyse_pth(collector)
    else:
        analyse_text(collector, kind, Phase.INSTALL if install_time else Phase.RUNTIME)
    add_exfiltration(collector)
    return dataclasses.replace(
        profile,
        capabilities=collector.result(),
        hosts=frozenset(collector.hosts),
        findings=tuple(collector.findings),
    )


def _profile_in_windows(
    path: str,
    data: bytes,
    kind: str,
    entropy: float | None,
    *,
    install_time: bool,
    loads_at_install: bool,
) -> FileProfile:
    """A text file too large to analyse at once, scanned window by window.

    The memory an analysis takes is a few times the text it holds; windows bound it whatever
    the file's size. Python this large is far beyond the parse budget, so it gets the text
    scan that source the parser cannot read gets, and says so.
    """
    merged = Collector(path, Source(""), inert_text=_is_inert_text(kind, path))
    max_line = 0
    first_line = 1
    for start, end, following in _windows(data):
        text = data[start:end].decode("utf-8", errors="replace")
        window = Collector(path, Source(text), inert_text=merged.inert_text)
        if loads_at_install:
            window.load_phase = Phase.INSTALL
        if kind == "python":
            phase_at = text_phases(window, Phase.INSTALL if install_time else None)
            scan_python_text(window, text, window.source.line_at, phase_at)
            scan_layout(window, phase_at, minified=True)
            scan_encoded_runs(window, text, phase_at)
            scan_invisible(window, phase_at, python=True)
        else:
            analyse_text(window, kind, Phase.INSTALL if install_time else Phase.RUNTIME)
        add_exfiltration(window)
        shift = first_line - 1
        merged.capabilities += [
            dataclasses.replace(cap, line=cap.line + shift if cap.line else cap.line)
            for cap in window.result()
        ]
        merged.findings += [
            dataclasses.replace(f, line=f.line + shift if f.line else f.line)
            for f in window.findings
        ]
        merged.hosts |= window.hosts
        max_line = max(max_line, max(map(len, window.source.lines), default=0))
        first_line += data.count(b"\n", start, following)
    if kind == "python":
        merged.findings.insert(
            0, unparsable_finding(path, f"too large to parse ({len(data):,} bytes)", None)
        )
    return FileProfile(
        path=path,
        size=len(data),
        kind=kind,
        entropy=entropy,
        max_line=max_line,
        capabilities=merged.result(),
        hosts=frozenset(merged.hosts),
        findings=tuple(merged.findings),
    )


def _windows(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(start, end, next start)`` of each window: ends fall after a line break when one is
    near, else windows overlap so that nothing is cut in two."""
    start = 0
    while start < len(data):
        end = min(len(data), start + _WINDOW)
        if end == len(data):
            yield start, end, end
            return
        newline = data.rfind(b"\n", start + _WINDOW // 2, end)
        if newline != -1:
            yield start, newline + 1, newline + 1
            start = newline + 1
        else:
            yield start, end, end - _WINDOW_OVERLAP
            start = end - _WINDOW_OVERLAP


# --- File shape --------------------------------------------------------------------------------


def file_kind(path: str, data: bytes) -> str:
    """What the file is: ``python``, ``shell``, ``text``, ``native``, ``data``, ...; the analysis
    parses all but ``native`` and ``data``."""
    name = path.rsplit("/", 1)[-1].lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension == ".class":
        # Java class files share the fat Mach-O magic (0xCAFEBABE); they are data to us.
        return "data"
    if _is_native(data):
        return "native"
    if extension in _KIND_BY_EXTENSION:
        return _KIND_BY_EXTENSION[extension]
    if b"\x00" in data or not scanning.is_utf8(data):
        return "data"
    if data.startswith(b"#!"):
        first_line = data[:256].split(b"\n", 1)[0]
        if patterns.SHELL_SHEBANG.match(first_line):
            return "shell"
        if patterns.PYTHON_SHEBANG.match(first_line):
            return "python"
        if _NODE_SHEBANG.match(first_line):
            return "javascript"
    return "text"


def _is_native(data: bytes) -> bool:
    head = data[:4]
    if head in _NATIVE_MAGIC:
        return True
    if head in _FAT_MAGIC:
        # A fat Mach-O counts its architectures next (a handful); a Java class has its version
        # there, 45 or more.
        return 0 < int.from_bytes(data[4:8], "big") < 45
    if data.startswith(b"MZ"):
        if len(data) >= 0x40:
            offset = int.from_bytes(data[0x3C:0x40], "little")
            if data[offset : offset + 4] == b"PE\x00\x00":
                return True
        # A DOS executable without a PE header: binary unless it is text that starts "MZ".
        return not scanning.is_utf8(data)
    return False


def _entropy(data: bytes | str) -> float:
    """Shannon entropy in bits per symbol (estimated from slices of large inputs)."""
    return scanning.entropy(data)


def _decode_python(data: bytes) -> str:
    # Honour a PEP 263 coding cookie so that line and column numbers match the parser's.
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")


def is_setup_script(path: str) -> bool:
    """Whether ``path`` is a distribution's top-level ``setup.py`` (which pip runs whole)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if parts == ["setup.py"]:
        return True
    # An sdist keeps everything under "<name>-<version>/".
    return len(parts) == 2 and parts[1] == "setup.py" and bool(_SDIST_ROOT.fullmatch(parts[0]))


def _is_inert_text(kind: str, path: str) -> bool:
    return kind == "text" and names_inert_text(path)


def names_inert_text(path: str) -> bool:
    """Whether ``path``'s name is documentation's, or data's in a format that cannot run
    (JSON, XML, CSV)."""
    name = path.rsplit("/", 1)[-1].lower()
    return (
        name.endswith(patterns.DOC_EXTENSIONS)
        or name.endswith(patterns.DATA_EXTENSIONS)
        or name.split(".", 1)[0] in patterns.DOC_NAMES
    )
