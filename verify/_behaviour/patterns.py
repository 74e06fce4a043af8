"""The data tables behind :mod:`verify._behaviour.capabilities`.

Everything here is a name, a token or a regular expression: which calls start processes or open
connections, which decoders hide a payload, which strings name credential stores, persistence
locations, reverse shells, miners and exfiltration endpoints. Keeping the tables apart from the
analyser lets a reviewer read what is detected without reading how, and lets a new pattern be one
line.

String patterns are matched against single string literals of Python code and against the whole
text of shell, JavaScript and other text files. Each pattern's ``key`` is the stable name of what
was found (a location, a tool, a service), never the matched text itself, so the same capability
in two releases has the same key; ``{1}`` in a key is replaced by the first group, lower-cased.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = [
    "ABUSE_TLDS",
    "BIDI_CHARS",
    "BUILTIN_NAMES",
    "CODE_SINKS",
    "COMMAND_BASE_NAMES",
    "COMMAND_BASE_ROOTS",
    "CONFUSABLE_CYRILLIC",
    "CREDENTIAL_CALLS",
    "DECODERS",
    "DOC_EXTENSIONS",
    "DOC_NAMES",
    "ENCODED_MIN_LENGTH",
    "ENVIRON_NAMES",
    "ENV_BENIGN_METHODS",
    "ENV_WHOLE_METHODS",
    "HIDDEN_RUN",
    "IGNORE_WARNINGS",
    "IMPORT_SINKS",
    "JS_PATTERNS",
    "LONG_LINE",
    "MINIFIED_LINE",
    "NETWORK_CALLS",
    "NON_PUBLIC_NETWORKS",
    "OBFUSCATING_CODECS",
    "OPEN_CALLS",
    "PATH_CALLS",
    "PATH_PASSTHROUGH_CALLS",
    "PROCESS_CALLS",
    "PROCESS_PREFIXES",
    "PYTHON_FALLBACK_PATTERNS",
    "PYTHON_SHEBANG",
    "QUOTED_URL",
    "REDIRECT_CALLS",
    "SHELLS",
    "SHELL_CALLS",
    "SHELL_PATTERNS",
    "SHELL_SHEBANG",
    "SPECIFIC_OBFUSCATION_KEYS",
    "SPECIFIC_RULES",
    "STD_STREAMS",
    "STRING_ANCHORS",
    "STRING_PATTERNS",
    "SUSPICIOUS_SERVICES",
    "SUSPICIOUS_UTF8",
    "THREAD_CALLS",
    "TRIGGER_PATTERNS",
    "TRIGGER_TOKENS",
    "TRIGGER_TOKENS_ANYCASE",
    "WARNING_FILTERS",
    "ZERO_WIDTH_CHARS",
    "StringPattern",
]


@dataclass(frozen=True, slots=True)
class StringPattern:
    """A string-level pattern: what it matches, the rule it evidences and the stable key."""

    rule: str
    regex: re.Pattern[str]
    #: The stable name of the thing found; ``{1}`` is the first group, lower-cased.
    key: str
    #: One line of plain English; ``{key}`` is replaced by the key.
    message: str
    #: Lower-case substrings at least one of which a match contains (none: always search).
    anchors: tuple[str, ...] = ()

    def may_match(self, lowered: str) -> bool:
        """Whether the lower-cased text has one of the anchors (a cheap test before the regex)."""
        return not self.anchors or any(anchor in lowered for anchor in self.anchors)


# --- Thresholds --------------------------------------------------------------------------------

#: Lines at least this long (in bytes) make the prefilter ask for a full analysis: encoded blobs
#: and minified code live on long lines.
LONG_LINE = 256
#: A Python line this long with several statements on it is minified.
MINIFIED_LINE = 1000
#: A run of this many spaces or tabs between code on one line hides what follows off-screen.
HIDDEN_RUN = 80
#: String literals shorter than this are not worth an entropy verdict.
ENCODED_MIN_LENGTH = 256

# --- Rules that are malicious on their own -----------------------------------------------------

SPECIFIC_RULES: frozenset[str] = frozenset(
    {
        "credential-read",
        "decode-exec",
        "download-exec",
        "exfiltration",
        "ld-preload",
        "miner",
        "persistence",
        "pth-exec",
        "reverse-shell",
        "suspicious-endpoint",
    }
)
#: Obfuscation that has no innocent use in source code (unlike minification or homoglyphs, which
#: generated code and non-English identifiers produce).
SPECIFIC_OBFUSCATION_KEYS: frozenset[str] = frozenset(
    {"bidi-control", "zero-width", "hidden-after-whitespace", "computed-builtin"}
)

# --- The prefilter -----------------------------------------------------------------------------

#: Byte strings without which no Python-level detection can fire, matched case-sensitively.
#: Chosen as narrow as the detections allow: ``import`` is not here (every file has it), nor are
#: words hiding inside common ones ("pty" in "empty", "ncat" in "concatenate", "exec" in
#: "execute"); those are matched more precisely by :data:`TRIGGER_PATTERNS`. Decoders (base64,
#: zlib, codecs, ``chr``) are not tokens either: decoded data only matters when it reaches a
#: sink, and every sink is one.
TRIGGER_TOKENS: tuple[bytes, ...] = (
    # Sinks (``exec`` and ``eval`` are in TRIGGER_PATTERNS; needs_analysis counts ``compile(``).
    b"FunctionType",
    b"CodeType",
    b"marshal",
    b"execfile",
    b"__import__",
    b"import_module",
    # Processes.
    b"subprocess",
    b"system(",  # os.system(...), also through an alias or "from os import system"
    b"import system",
    b"popen",
    b"spawnl",
    b"spawnv",
    b"posix_spawn",
    b"startfile",
    b"getoutput",
    b"pty.spawn",
    b"import pty",
    b"pty import",
    # Network.
    b"socket",
    b"urllib",
    b"http.client",
    b"from http import",
    b"httplib",
    b"httpx",
    b"aiohttp",
    b"import requests",
    b"from requests",
    b"ftplib",
    b"smtplib",
    b"telnetlib",
    b"open_connection",
    b"paramiko",
    # Credential APIs (``os.environ`` is in TRIGGER_PATTERNS).
    b"netrc",
    b"browser_cookie",
    b"Cookies",
    # JavaScript.
    b"process.env",
    b"child_process",
    b"require(",
    b"fetch(",
    b"atob",
    b"Function(",
    # Import-time behaviour, install hooks, patching, silencing.
    b"threading",
    b"multiprocessing",
    b"start_new",
    b"cmdclass",
    b"setuptools.command",
    b"setuptools import",
    b"distutils.command",
    b"distutils.cmd",
    b"bdist_wheel",
    b"setattr",
    b"getattr(builtins",
    b"getattr(__builtins__",
    b"__builtins__[",
    b"builtins__.__dict__",
    b"builtins.__dict__",
    b"redirect_std",
    b"devnull",
    b"DEVNULL",
    b"chmod",
)
#: Tokens of the string-level patterns, matched against the lower-cased bytes because the
#: patterns themselves ignore case.
TRIGGER_TOKENS_ANYCASE: tuple[bytes, ...] = (
    b"curl ",
    b"wget ",
    b"iex",
    b"invoke-expression",
    b"downloadstring",
    b"/dev/tcp",
    b"/dev/udp",
    b"nc -e",
    b"ncat ",
    b"netcat",
    b"sh -i",
    b"/bin/sh",
    b"/bin/bash",
    b"mkfifo",
    b"socat",
    b"stratum",
    b"xmrig",
    b"minerd",
    b"cpuminer",
    b"cryptonight",
    b"donate-level",
    b"ld_preload",
    b"dyld_insert",
    b"ld.so.preload",
    b"crontab",
    b"/etc/cron",
    b"spool/cron",
    b"systemd",
    b"systemctl",
    b"autostart",
    b"launchagents",
    b"launchdaemons",
    b"currentversion",
    b"start menu",
    b"schtasks",
    b"authorized_keys",
    b"rc.local",
    b"init.d",
    b"profile.d",
    b"bashrc",
    b"zshrc",
    b".profile",
    b"_profile",
    b"bash_login",
    b"zshenv",
    b".aws",
    b".ssh",
    b"id_rsa",
    b"id_dsa",
    b"id_ecdsa",
    b"id_ed25519",
    b"pypirc",
    b"netrc",
    b"git-credentials",
    b".docker",
    b".kube",
    b"default_credentials",
    b"gcloud",
    b".azure",
    b"npmrc",
    b"pgpass",
    b"gnupg",
    b"login data",
    b"local state",
    b"logins.json",
    b"key3.db",
    b"key4.db",
    b"cookies.sqlite",
    b"keychain",
    b"find-generic-password",
    b"find-internet-password",
    b"wallet",
    b"exodus",
    b"electrum",
    b"metamask",
    b"nkbihfbeogaeaoehlefnkodbefgpgknn",
    b"/etc/shadow",
    b"bash_history",
    b"zsh_history",
)
#: A URL opening a string literal: what Python hosts are collected from. URLs inside longer
#: strings (messages) and in comments and docstrings are not endpoints the code uses.
QUOTED_URL = re.compile(rb"[\"'][a-zA-Z][a-zA-Z0-9+.-]{0,30}://")
#: Triggers a plain substring cannot express. Each starts with a literal or a character class,
#: so the regex engine skips ahead instead of trying every position.
TRIGGER_PATTERNS: tuple[re.Pattern[bytes], ...] = (
    re.compile(rb"exec(?![a-z_])"),  # exec(...), not "execute"
    re.compile(rb"eval(?![a-z_])"),  # eval(...), not "evaluate"
    re.compile(rb"sys\.modules\[[^\]\n]*\]\s*=(?!=)"),  # sys.modules["x"] = ...
    re.compile(rb"builtins(?:__)?(?:\.\w+|\[[^\]\n]*\])\s*=(?!=)"),  # builtins.open = ...
    # os.environ other than one variable read ("environment" in prose does not count).
    re.compile(rb"environb?(?![\w\[]|\.get\(|\.setdefault\(|\.pop\()"),
    re.compile(rb"sys\.std(?:out|err)\s*="),
    re.compile(rb"exec[lv]p?e?\b"),  # os.execv and friends, through any alias
    re.compile(rb"[/'\"]\.env['\"]"),  # a .env file named in a string
)
#: Blanket warning filters; searched only in files that say "ignore".
IGNORE_WARNINGS = re.compile(rb"(?:filterwarnings|simplefilter)\(\s*[\"']ignore")
#: UTF-8 of the bidi controls, zero-width characters and BOM, and the lead bytes of Greek and
#: Cyrillic letters (homoglyphs); other non-ASCII text (accented names) is ordinary. Searched
#: only in files that are not ASCII.
SUSPICIOUS_UTF8 = re.compile(
    rb"\xe2\x80[\x8b-\x8d\xaa-\xae]|\xe2\x81[\xa0\xa6-\xa9]|\xef\xbb\xbf|[\xce-\xd4]"
)

# --- Python call tables ------------------------------------------------------------------------

#: Builtins the analyser resolves by name (anything else unbound resolves to itself too, but
#: these are the ones the tables below mention).
BUILTIN_NAMES: frozenset[str] = frozenset(
    {
        "__import__",
        "bytearray",
        "bytes",
        "chr",
        "compile",
        "eval",
        "exec",
        "getattr",
        "map",
        "open",
        "setattr",
    }
)

#: exec-like sinks: what they are fed runs as code.
CODE_SINKS: frozenset[str] = frozenset(
    {"exec", "eval", "compile", "execfile", "types.FunctionType", "types.CodeType", "marshal.loads"}
)
#: Imports by name: fed decoded data they hide which module is loaded.
IMPORT_SINKS: frozenset[str] = frozenset(
    {"__import__", "importlib.import_module", "importlib.__import__"}
)

#: Calls whose result is decoded, decompressed or deserialised data.
DECODERS: frozenset[str] = frozenset(
    {
        "base64.b64decode",
        "base64.b32decode",
        "base64.b32hexdecode",
        "base64.b16decode",
        "base64.a85decode",
        "base64.b85decode",
        "base64.z85decode",
        "base64.urlsafe_b64decode",
        "base64.standard_b64decode",
        "base64.decodebytes",
        "base64.decodestring",
        "base64.decode",
        "zlib.decompress",
        "lzma.decompress",
        "bz2.decompress",
        "gzip.decompress",
        "marshal.loads",
        "binascii.unhexlify",
        "binascii.a2b_hex",
        "binascii.a2b_base64",
        "binascii.a2b_uu",
        "binascii.a2b_qp",
        "bytes.fromhex",
        "bytearray.fromhex",
    }
)
#: Codecs that ``codecs.decode`` uses to hide text (normalised: lower case, ``-`` as ``_``).
OBFUSCATING_CODECS: frozenset[str] = frozenset(
    {
        "rot13",
        "rot_13",
        "hex",
        "hex_codec",
        "base64",
        "base_64",
        "base64_codec",
        "zlib",
        "zip",
        "zlib_codec",
        "bz2",
        "bz2_codec",
        "uu",
        "uu_codec",
        "quopri",
        "quopri_codec",
    }
)

PROCESS_CALLS: frozenset[str] = frozenset(
    {
        # pip in-process: installs (and may build and run) packages nobody verified.
        "pip.main",
        "pip._internal.main",
        "pip._internal.cli.main.main",
        "subprocess.Popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "os.startfile",
        "os.forkpty",
        "pty.spawn",
        "commands.getoutput",
        "commands.getstatusoutput",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "platform.popen",
        "popen2.popen2",
        "popen2.popen3",
        "popen2.popen4",
    }
)
#: Families of process calls (``os.execvpe``, ``os.spawnlp``, ``os.posix_spawnp``).
PROCESS_PREFIXES: tuple[str, ...] = ("os.exec", "os.spawn", "os.posix_spawn")
#: Process calls that always go through a shell.
SHELL_CALLS: frozenset[str] = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "commands.getoutput",
        "commands.getstatusoutput",
        "asyncio.create_subprocess_shell",
        "platform.popen",
    }
)
#: Program names (basename of argv[0]) that make a spawned command a shell.
SHELLS: frozenset[str] = frozenset(
    {
        "sh",
        "bash",
        "zsh",
        "dash",
        "ksh",
        "csh",
        "tcsh",
        "cmd",
        "cmd.exe",
        "powershell",
        "powershell.exe",
        "pwsh",
    }
)

#: Network calls, each with the module reported as the capability's key.
NETWORK_CALLS: dict[str, str] = {
    **dict.fromkeys(
        (
            "socket.socket",
            "socket.create_connection",
            "socket.create_server",
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.fromfd",
        ),
        "socket",
    ),
    **dict.fromkeys(
        (
            "urllib.request.urlopen",
            "urllib.request.Request",
            "urllib.request.urlretrieve",
            "urllib.request.build_opener",
        ),
        "urllib.request",
    ),
    **dict.fromkeys(("urllib.urlopen", "urllib.urlretrieve"), "urllib"),
    **dict.fromkeys(("urllib2.urlopen", "urllib2.Request", "urllib2.build_opener"), "urllib2"),
    **dict.fromkeys(("http.client.HTTPConnection", "http.client.HTTPSConnection"), "http.client"),
    **dict.fromkeys(("httplib.HTTPConnection", "httplib.HTTPSConnection"), "httplib"),
    **{
        f"requests.{name}": "requests"
        for name in (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "request",
            "Session",
            "session",
            "api.get",
            "api.post",
            "api.request",
            "sessions.Session",
        )
    },
    **{
        f"httpx.{name}": "httpx"
        for name in (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "request",
            "stream",
            "Client",
            "AsyncClient",
        )
    },
    **dict.fromkeys(("aiohttp.ClientSession", "aiohttp.request"), "aiohttp"),
    **{
        f"urllib3.{name}": "urllib3"
        for name in (
            "PoolManager",
            "ProxyManager",
            "HTTPConnectionPool",
            "HTTPSConnectionPool",
            "connection_from_url",
            "request",
        )
    },
    **dict.fromkeys(("ftplib.FTP", "ftplib.FTP_TLS"), "ftplib"),
    **dict.fromkeys(("smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"), "smtplib"),
    "telnetlib.Telnet": "telnetlib",
    "asyncio.open_connection": "asyncio",
    "paramiko.SSHClient": "paramiko",
    "websocket.create_connection": "websocket",
    "websockets.connect": "websockets",
    "pycurl.Curl": "pycurl",
}

#: Calls that read a credential store without naming its path.
CREDENTIAL_CALLS: dict[str, str] = {
    "netrc.netrc": "~/.netrc",
    "browser_cookie3.load": "browser cookies",
    "browser_cookie3.chrome": "browser cookies",
    "browser_cookie3.firefox": "browser cookies",
    "browser_cookie3.edge": "browser cookies",
}

#: Threads and processes: started at import time they keep running whatever the importer does.
THREAD_CALLS: frozenset[str] = frozenset(
    {
        "threading.Thread",
        "threading.Timer",
        "multiprocessing.Process",
        "multiprocessing.Pool",
        "_thread.start_new_thread",
        "_thread.start_new",
        "thread.start_new_thread",
    }
)

#: Modules whose command classes run at build or install time when subclassed.
COMMAND_BASE_ROOTS: frozenset[str] = frozenset({"setuptools", "distutils", "wheel", "numpy"})
COMMAND_BASE_NAMES: frozenset[str] = frozenset(
    {
        "Command",
        "bdist_egg",
        "bdist_wheel",
        "build",
        "build_clib",
        "build_ext",
        "build_py",
        "build_scripts",
        "develop",
        "easy_install",
        "egg_info",
        "install",
        "install_data",
        "install_lib",
        "install_scripts",
        "sdist",
    }
)

ENVIRON_NAMES: frozenset[str] = frozenset({"os.environ", "os.environb", "posix.environ"})
#: Methods that hand out every variable at once.
ENV_WHOLE_METHODS: frozenset[str] = frozenset(
    {"copy", "items", "values", "__iter__", "__repr__", "__str__", "__copy__"}
)
#: Calls (by method or qualified name) that take the environment whole but read single
#: variables from it or pass it to a child process: not a dump.
ENV_BENIGN_METHODS: frozenset[str] = frozenset(
    {"substitute", "safe_substitute", "ChainMap", "expandvars"}
)

STD_STREAMS: frozenset[str] = frozenset(
    {"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"}
)
REDIRECT_CALLS: frozenset[str] = frozenset(
    {"contextlib.redirect_stdout", "contextlib.redirect_stderr"}
)
WARNING_FILTERS: frozenset[str] = frozenset({"warnings.filterwarnings", "warnings.simplefilter"})

OPEN_CALLS: frozenset[str] = frozenset({"open", "io.open", "codecs.open", "os.open"})
#: Calls that build a path from parts: folded into one string so ``join(home, ".aws",
#: "credentials")`` reads like ``~/.aws/credentials``.
PATH_CALLS: frozenset[str] = frozenset(
    {
        "os.path.join",
        "posixpath.join",
        "ntpath.join",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
    }
)
#: Calls whose result is the same path as their first argument.
PATH_PASSTHROUGH_CALLS: frozenset[str] = frozenset(
    {
        "os.path.expanduser",
        "os.path.expandvars",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.normpath",
        "os.fspath",
        "str",
    }
)

# --- Identifiers -------------------------------------------------------------------------------

#: Cyrillic letters drawn like Latin ones: an identifier made only of these imitates a Latin name.
CONFUSABLE_CYRILLIC: frozenset[str] = frozenset(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u051b\u051d\u04bb\u04cf"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0406\u0408\u0405"
)
BIDI_CHARS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff"

# --- File kinds --------------------------------------------------------------------------------

SHELL_SHEBANG = re.compile(rb"#![ \t]*\S*?/(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba|z|da|k|c|tc)?sh\b")
PYTHON_SHEBANG = re.compile(rb"#![ \t]*\S*?/(?:env[ \t]+(?:-\S+[ \t]+)*)?python[0-9.]*\b")
#: Documentation (and type stubs): it cannot run, so what it mentions is reported but neither
#: specific nor severe.
DOC_EXTENSIONS: tuple[str, ...] = (".md", ".rst", ".txt", ".html", ".htm", ".adoc", ".pyi")
DOC_NAMES: frozenset[str] = frozenset(
    {"metadata", "pkg-info", "readme", "license", "licence", "changelog", "changes", "authors"}
)

# --- Endpoints ---------------------------------------------------------------------------------

#: Services used to receive stolen data or serve second stages, matched against ``host/path``.
SUSPICIOUS_SERVICES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), key, what)
    for pattern, key, what in (
        (r"^(?:[\w-]+\.)*discord(?:app)?\.com/api/webhooks", "discord.com/api/webhooks",
         "a Discord webhook"),
        (r"^hooks\.slack\.com(?:/|$)", "hooks.slack.com", "a Slack webhook"),
        (r"^(?:[\w-]+\.)*webhook\.site(?:/|$)", "webhook.site", "a webhook capture service"),
        (r"^(?:[\w-]+\.)*requestbin\.[a-z]+(?:/|$)", "requestbin", "a request capture service"),
        (r"^(?:[\w-]+\.)*pipedream\.net(?:/|$)", "pipedream.net", "a request capture service"),
        (r"^(?:[\w-]+\.)*ngrok(?:-free)?\.(?:io|app|dev)(?:/|$)", "ngrok", "an ngrok tunnel"),
        (r"^(?:[\w-]+\.)*trycloudflare\.com(?:/|$)", "trycloudflare.com", "a quick tunnel"),
        (r"^(?:[\w-]+\.)*(?:serveo\.net|loca\.lt|localtunnel\.me)(?:/|$)", "tunnel",
         "a tunnel service"),
        (r"^(?:[\w-]+\.)*interact\.sh(?:/|$)", "interact.sh", "an out-of-band interaction host"),
        (r"^(?:[\w-]+\.)*oast\.(?:fun|live|me|online|pro|site)(?:/|$)", "oast",
         "an out-of-band interaction host"),
        (r"^(?:[\w-]+\.)*(?:oastify\.com|burpcollaborator\.net)(?:/|$)", "burpcollaborator",
         "an out-of-band interaction host"),
        (r"^(?:www\.)?pastebin\.com(?:/|$)", "pastebin.com", "a paste site"),
        (r"^(?:www\.)?paste\.ee(?:/|$)", "paste.ee", "a paste site"),
        (r"^(?:www\.)?hastebin\.[a-z]+(?:/|$)", "hastebin", "a paste site"),
        (r"^(?:www\.)?transfer\.sh(?:/|$)", "transfer.sh", "a file drop"),
        (r"^(?:www\.)?(?:ghostbin\.[a-z]+|rentry\.(?:co|org)|termbin\.com|0x0\.st|paste\.rs"
         r"|dpaste\.(?:com|org)|file\.io)(?:/|$)", "paste", "a paste site"),
        (r"^api\.telegram\.org/bot", "api.telegram.org/bot", "a Telegram bot API"),
        (r"^(?:api\.ipify\.org|ifconfig\.me|ipinfo\.io|icanhazip\.com|checkip\.amazonaws\.com)"
         r"(?:/|$)", "ip-lookup", "a public-IP lookup service"),
    )
)  # fmt: skip
#: Top-level domains far more common in abuse reports than in package code.
ABUSE_TLDS: frozenset[str] = frozenset(
    {
        "xyz", "top", "tk", "ml", "ga", "cf", "gq", "ru", "su", "onion", "zip", "mov", "click",
        "country", "pw", "icu", "cyou", "buzz", "monster", "rest", "surf", "cam", "kim",
    }
)  # fmt: skip
#: Addresses that are not "a raw public IP": loopback, private, link-local, CGNAT, multicast.
#: Documentation ranges (203.0.113.0/24 ...) deliberately count as public: nothing legitimate
#: connects to them, and tests can use them.
NON_PUBLIC_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
        "::/127",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)

# --- String patterns ---------------------------------------------------------------------------

_I = re.IGNORECASE


def _patterns(
    rule: str, rows: tuple[tuple[str, str, str, tuple[str, ...]], ...], flags: int = _I
) -> tuple[StringPattern, ...]:
    return tuple(
        StringPattern(rule, re.compile(p, flags), key, msg, anchors)
        for p, key, msg, anchors in rows
    )


_RC_FILES = r"\.(bashrc|zshrc|profile|bash_profile|bash_login|zprofile|zshenv)\b"
_RC_ANCHORS = ("bashrc", "zshrc", "profile", "bash_login", "zshenv")
_CURL = ("curl", "wget")

#: Patterns that mean the same in a Python string literal and in a shell script or text file.
#: Runs between two parts of a pattern are bounded ({0,300}): unbounded, a long line repeating
#: the first part ("curl curl curl ...") would cost time quadratic in its length.
#: The last column lists lower-case substrings without which the pattern cannot match.
STRING_PATTERNS: tuple[StringPattern, ...] = (
    *_patterns(
        "download-exec",
        (
            (r"\b(curl|wget)\b[^|\n;&]{0,300}\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?"
             r"(?:ba|z|da|k)?sh\b", "{1}|sh", "pipes a download into a shell ({key})", _CURL),
            (r"\b(curl|wget)\b[^|\n;&]{0,300}\|\s*(?:sudo\s+)?python[0-9.]*\b", "{1}|python",
             "pipes a download into Python ({key})", _CURL),
            (r"\b(?:ba|z)?sh\s+(?:-c\s+[\"']?\$\(|<\()\s*(curl|wget)\b", "{1}|sh",
             "runs a downloaded script in a shell ({key})", _CURL),
            (r"\b(curl|wget)\b[^\n]{0,300}\bchmod\s+(?:[ugoa]*\+[rw]*x|0?[0-7]?[1357][0-7]{2})\b",
             "{1}+chmod", "downloads a file and makes it executable ({key})", _CURL),
            # IEX (New-Object Net.WebClient).DownloadString(u), iex(iwr u), iwr u | iex
            (r"\b(?:iex|invoke-expression)\b[\s(]*(?:new-object\s+[\w.]*webclient\s*\)\s*\."
             r"\s*downloadstring|(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b)"
             r"|(?:\b(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b|\.downloadstring\b)"
             r"[^|\n]{0,300}\|\s*(?:iex|invoke-expression)\b",
             "powershell iex", "runs a downloaded PowerShell script", ("iex", "invoke-expression")),
        ),
    ),
    *_patterns(
        "reverse-shell",
        (
            (r"/dev/(?:tcp|udp)/", "/dev/tcp", "opens a shell-level network socket (/dev/tcp)",
             ("/dev/tcp", "/dev/udp")),
            (r"\b(?:nc|ncat|netcat)\b[^\n|;]{0,300}\s-[a-z]*[ec]\s", "nc -e",
             "hands a shell to a netcat connection", ("nc ", "nc\t", "ncat", "netcat")),
            (r"\b(?:ba)?sh\s+-i\s*(?:>&|&>|[0-2]>&[0-2])", "bash -i >&",
             "connects an interactive shell's streams to a socket", ("sh -i",)),
            (r"\bmkfifo\b[^\n]{0,300}\|\s*(?:/bin/)?(?:ba)?sh\b[^\n]{0,300}\|\s*(?:nc|ncat|netcat)\b",
             "mkfifo shell", "wires a shell to netcat through a FIFO", ("mkfifo",)),
            (r"\bsocat\b[^\n]{0,300}\bexec:", "socat exec", "hands a program to a socat connection",
             ("socat",)),
        ),
    ),
    *_patterns(
        "miner",
        (
            (r"stratum\+(?:tcp|ssl|tls)://", "stratum", "names a mining pool (stratum URL)",
             ("stratum",)),
            (r"\bxmrig\b", "xmrig", "names the XMRig miner", ("xmrig",)),
            (r"\bminerd\b", "minerd", "names the minerd miner", ("minerd",)),
            (r"\bcpuminer\b", "cpuminer", "names the cpuminer miner", ("cpuminer",)),
            (r"\bcryptonight\b", "cryptonight", "names the CryptoNight mining algorithm",
             ("cryptonight",)),
            (r"--donate-level\b", "--donate-level", "passes a miner's --donate-level option",
             ("donate-level",)),
        ),
    ),
    *_patterns(
        "ld-preload",
        (
            (r"\bLD_PRELOAD\b", "LD_PRELOAD", "sets LD_PRELOAD", ("ld_preload",)),
            (r"\bDYLD_INSERT_LIBRARIES\b", "DYLD_INSERT_LIBRARIES", "sets DYLD_INSERT_LIBRARIES",
             ("dyld_insert_libraries",)),
            (r"/etc/ld\.so\.preload\b", "/etc/ld.so.preload", "names /etc/ld.so.preload",
             ("ld.so.preload",)),
        ),
    ),
    *_patterns(
        "persistence",
        (
            (r"\bcrontab\s+-|\|\s*crontab\b", "crontab", "edits the crontab", ("crontab",)),
            (r"/etc/cron(?:tab\b|\.d\b|\.(?:hourly|daily|weekly|monthly)\b)", "/etc/cron*",
             "writes to the system cron directories", ("/etc/cron",)),
            (r"/var/spool/cron\b", "/var/spool/cron", "writes to the cron spool",
             ("spool/cron",)),
            (r"\.config[/\\]+systemd[/\\]+user\b", "~/.config/systemd/user",
             "names the user systemd unit directory", ("systemd",)),
            (r"/etc/systemd/system\b", "/etc/systemd/system", "names the systemd unit directory",
             ("systemd",)),
            (r"/(?:usr/)?lib/systemd/system\b", "/lib/systemd/system",
             "names the systemd unit directory", ("systemd",)),
            (r"\bsystemctl\s+(?:--user\s+)?enable\b", "systemctl enable", "enables a service",
             ("systemctl",)),
            (r"\.config[/\\]+autostart\b", "~/.config/autostart", "names the autostart folder",
             ("autostart",)),
            (r"/etc/xdg/autostart\b", "/etc/xdg/autostart", "names the autostart folder",
             ("autostart",)),
            (r"\bLaunchAgents\b", "LaunchAgents", "names the macOS LaunchAgents folder",
             ("launchagents",)),
            (r"\bLaunchDaemons\b", "LaunchDaemons", "names the macOS LaunchDaemons folder",
             ("launchdaemons",)),
            (r"CurrentVersion[/\\]+Run(?:Once)?\b", "CurrentVersion\\Run",
             "names the Windows Run registry key", ("currentversion",)),
            (r"Start Menu[/\\]+Programs[/\\]+Startup\b", "Startup folder",
             "names the Windows Startup folder", ("startup",)),
            (r"\bschtasks(?:\.exe)?\s+/create\b", "schtasks /create", "creates a scheduled task",
             ("schtasks",)),
            (r"\.ssh[/\\]+authorized_keys", "~/.ssh/authorized_keys",
             "names ~/.ssh/authorized_keys", ("authorized_keys",)),
            (r"/etc/rc\.local\b", "/etc/rc.local", "names /etc/rc.local", ("rc.local",)),
            (r"/etc/init\.d/", "/etc/init.d", "names /etc/init.d", ("init.d",)),
            (r"/etc/profile\.d/", "/etc/profile.d", "names /etc/profile.d", ("profile",)),
            (r">>\s*[\"']?(?:~|\$HOME|\$\{HOME\})?[\w./-]*" + _RC_FILES, "~/.{1}",
             "appends to a shell start-up file ({key})", _RC_ANCHORS),
            (r"\btee\s+(?:-\w+\s+)*-a\s+[\"']?(?:~|\$HOME|\$\{HOME\})?[\w./-]*" + _RC_FILES,
             "~/.{1}", "appends to a shell start-up file ({key})", _RC_ANCHORS),
        ),
    ),
    *_patterns(
        "credential-read",
        (
            (r"\.aws[/\\]+credentials\b", "~/.aws/credentials", "names {key}", (".aws",)),
            (r"\.aws[/\\]+config\b", "~/.aws/config", "names {key}", (".aws",)),
            (r"\.ssh[/\\]+(id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?)\b", "~/.ssh/{1}",
             "names the SSH private key {key}", (".ssh",)),
            (r"\.ssh[/\\]+known_hosts\b", "~/.ssh/known_hosts", "names {key}", (".ssh",)),
            (r"(?:^|[/\\~*])\.ssh(?:$|[/\\](?!authorized_keys|id_|known_hosts))", "~/.ssh",
             "names the SSH directory", (".ssh",)),
            (r"[/\\*](id_(?:rsa|dsa|ecdsa|ed25519))$", "~/.ssh/{1}",
             "names the SSH private key {key}",
             ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")),
            (r"\.pypirc\b", "~/.pypirc", "names {key} (package index passwords)", ("pypirc",)),
            (r"\.netrc\b|(?:^|[/\\])_netrc\b", "~/.netrc", "names {key}", ("netrc",)),
            (r"\.git-credentials\b", "~/.git-credentials", "names {key}", ("git-credentials",)),
            (r"\.docker[/\\]+config\.json\b", "~/.docker/config.json", "names {key}",
             (".docker",)),
            (r"\.kube[/\\]+config\b", "~/.kube/config", "names {key}", (".kube",)),
            (r"application_default_credentials\.json\b",
             "gcloud application_default_credentials.json", "names the {key}",
             ("default_credentials",)),
            (r"gcloud[/\\]+(?:credentials\.db|access_tokens\.db|legacy_credentials)\b",
             "gcloud credentials", "names the {key}", ("gcloud",)),
            (r"\.azure[/\\]+(?:accessTokens\.json|msal_token_cache|azureProfile\.json)"
             r"|(?:^|[/\\~*])\.azure(?:$|[/\\])", "~/.azure", "names {key}", (".azure",)),
            (r"\.npmrc\b", "~/.npmrc", "names {key}", ("npmrc",)),
            (r"\.pgpass\b", "~/.pgpass", "names {key}", ("pgpass",)),
            (r"(?:^|[/\\~*])\.gnupg(?:$|[/\\])", "~/.gnupg", "names {key}", ("gnupg",)),
            (r"(?-i:\bLogin Data\b)", "browser Login Data", "names the browser's saved passwords",
             ("login data",)),
            (r"(?-i:User Data[/\\]+Local State)", "browser Local State",
             "names the browser's encryption key file", ("local state",)),
            (r"\blogins\.json\b", "Firefox logins.json", "names Firefox's saved passwords",
             ("logins.json",)),
            (r"\bkey[34]\.db\b", "Firefox key4.db", "names Firefox's key database",
             ("key3.db", "key4.db")),
            (r"(?-i:(?:Default|Network|Profile \d+)[/\\]+Cookies)\b|\bcookies\.sqlite\b",
             "browser cookies", "names a browser cookie store", ("cookies",)),
            (r"Library[/\\]+Keychains\b|\blogin\.keychain(?:-db)?\b"
             r"|\bsecurity\s+(?:find-generic-password|find-internet-password|dump-keychain)\b",
             "macOS Keychains", "names the macOS keychain",
             ("keychain", "find-generic-password", "find-internet-password")),
            (r"\bwallet\.dat\b", "wallet.dat", "names a cryptocurrency wallet ({key})",
             ("wallet",)),
            (r"\bexodus(?:\.wallet\b|[/\\])", "Exodus wallet", "names the {key}", ("exodus",)),
            (r"\belectrum[/\\]+wallets\b|\.electrum[/\\]", "Electrum wallet", "names the {key}",
             ("electrum",)),
            (r"\bmetamask\b|nkbihfbeogaeaoehlefnkodbefgpgknn", "MetaMask",
             "names the MetaMask wallet", ("metamask", "nkbihfbeogaeaoehlefnkodbefgpgknn")),
            (r"/etc/shadow\b", "/etc/shadow", "names /etc/shadow (password hashes)",
             ("/etc/shadow",)),
            (r"\.(?:bash|zsh)_history\b", "shell history", "names the shell history",
             ("bash_history", "zsh_history")),
        ),
    ),
)  # fmt: skip

#: Lower-case substrings at least one of which every string pattern (and every URL) needs.
#: Literals are searched for these first, all of a module's at once, so most literals cost
#: nothing.
STRING_ANCHORS: tuple[str, ...] = tuple(
    dict.fromkeys(("://", *(anchor for p in STRING_PATTERNS for anchor in p.anchors)))
)

#: Shell scripts: downloads are network access (and, with a credential read, exfiltration).
SHELL_PATTERNS: tuple[StringPattern, ...] = _patterns(
    "network-access",
    (
        (r"(?<![\w./-])(curl|wget|nc|ncat|scp|rsync|ftp)\s", "{1}", "runs {key}",
         ("curl", "wget", "nc", "scp", "rsync", "ftp")),
        (r"/dev/(?:tcp|udp)/", "/dev/tcp", "opens a network socket through /dev/tcp",
         ("/dev/tcp", "/dev/udp")),
    ),
    re.MULTILINE,
)  # fmt: skip

_JS_MODULE = r"(?:require\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*)['\"](?:node:)?"
#: JavaScript shipped in a Python package (Node post-install helpers, bundled web assets).
JS_PATTERNS: tuple[StringPattern, ...] = (
    *_patterns(
        "decode-exec",
        (
            (r"\b(eval|Function)\s*\(\s*(atob|unescape|decodeURIComponent|Buffer\.from"
             r"|String\.fromCharCode)\s*\(", "{1}({2})",
             "executes decoded data ({key})", ("eval", "function")),
        ),
        0,
    ),
    *_patterns(
        "process-spawn",
        ((_JS_MODULE + r"(child_process)['\"]", "{1}", "starts processes ({key})",
          ("child_process",)),),
        0,
    ),
    *_patterns(
        "network-access",
        (
            (_JS_MODULE + r"(https?|http2|net|dgram|tls|axios|node-fetch|request|got|ws)['\"]",
             "{1}", "opens network connections ({key})", ("require", "from", "import")),
            (r"(?<![\w.])fetch\s*\(", "fetch", "opens network connections (fetch)", ("fetch",)),
        ),
        0,
    ),
    *_patterns(
        "environment-dump",
        (
            (r"\bJSON\.stringify\s*\(\s*process\.env\s*[,)]|\bObject\.(?:keys|entries|values|assign)"
             r"\s*\([^)]{0,300}\bprocess\.env\s*\)|\.\.\.\s*process\.env\b", "process.env",
             "reads the whole environment (process.env)", ("process.env",)),
        ),
        0,
    ),
)  # fmt: skip

#: Python that does not parse (Python 2, a syntax error, absurd nesting) is still searched for
#: the calls the AST pass would have resolved, by their usual spelling.
PYTHON_FALLBACK_PATTERNS: tuple[StringPattern, ...] = (
    *_patterns(
        "decode-exec",
        (
            (r"\b(exec|eval)\s*\(.{0,200}?\b(?:b64decode|b32decode|decodebytes|decodestring"
             r"|decompress|unhexlify|fromhex|marshal\.loads|rot_?13)\b", "{1}(decoded)",
             "executes decoded data ({key})", ("exec", "eval")),
        ),
        0,
    ),
    *_patterns(
        "process-spawn",
        (
            (r"\b(subprocess\.(?:Popen|run|call|check_call|check_output|getoutput"
             r"|getstatusoutput)|os\.(?:system|popen|exec\w*|spawn\w*|posix_spawnp?)"
             r"|pty\.spawn|commands\.getoutput)\s*\(", "{1}", "runs {key}",
             ("subprocess.", "os.", "pty.", "commands.")),
        ),
        0,
    ),
    *_patterns(
        "network-access",
        (
            (r"\b(socket)\.(?:socket|create_connection)\s*\(", "{1}", "opens connections ({key})",
             ("socket.",)),
            (r"\b(urllib2|urllib\.request|urllib)\.(?:urlopen|Request|urlretrieve)\s*\(", "{1}",
             "opens connections ({key})", ("urllib",)),
            (r"\b(requests|httpx)\.(?:get|post|put|patch|delete|head|request|Session|Client)"
             r"\s*\(", "{1}", "opens connections ({key})", ("requests.", "httpx.")),
            (r"\b(http\.client|httplib)\.HTTPS?Connection\s*\(", "{1}",
             "opens connections ({key})", ("http.client", "httplib")),
        ),
        0,
    ),
    *_patterns(
        "install-hook",
        ((r"\b(cmdclass)\s*=", "cmdclass", "registers setup.py command classes (cmdclass)",
          ("cmdclass",)),),
        0,
    ),
    *_patterns(
        "environment-dump",
        (
            (r"\b(?:dict|str|repr|json\.dumps)\s*\(\s*os\.environ\s*\)|\bos\.environ\.(?:copy"
             r"|items|values)\s*\(|\*\*\s*os\.environ\b", "os.environ",
             "reads the whole environment (os.environ)", ("os.environ",)),
        ),
        0,
    ),
)  # fmt: skip
