"""The data tables behind :mod:`verify._behaviour.capabilities`.

Everything here is a name, a token or a regular expression: which calls start processes or open
connections, which decoders hide a payload, which strings name credential stores, persistence
locations, reverse shells, miners and exfiltration endpoints. Keeping the tables apart from the
analyser lets a reviewer read what is detected without reading how, and lets a new pattern be one
line.

The tables are kept by family: the Python calls and names in
:mod:`~verify._behaviour.call_tables`, the prefilter's tokens in
:mod:`~verify._behaviour.prefilter_tokens`, the string-level patterns (Python literals, shell,
JavaScript, unparsable Python) in :mod:`~verify._behaviour.string_patterns`. This module holds
the thresholds, the rules that are malicious on their own, look-alike and invisible characters,
file kinds and endpoints, and re-exports the rest, so ``patterns.X`` names every table.
"""

from __future__ import annotations

import ipaddress
import re

from verify._behaviour.call_tables import (
    BUILTIN_NAMES,
    CODE_SINKS,
    COMMAND_BASE_NAMES,
    COMMAND_BASE_ROOTS,
    CREDENTIAL_CALLS,
    DECODERS,
    ENV_BENIGN_METHODS,
    ENV_WHOLE_METHODS,
    ENVIRON_NAMES,
    IMPORT_SINKS,
    NETWORK_CALLS,
    OBFUSCATING_CODECS,
    OPEN_CALLS,
    PATH_CALLS,
    PATH_PASSTHROUGH_CALLS,
    PROCESS_CALLS,
    PROCESS_PREFIXES,
    REDIRECT_CALLS,
    SHELL_CALLS,
    SHELLS,
    STD_STREAMS,
    THREAD_CALLS,
    WARNING_FILTERS,
)
from verify._behaviour.prefilter_tokens import (
    IGNORE_WARNINGS,
    QUOTED_URL,
    SUSPICIOUS_UTF8,
    TRIGGER_PATTERNS,
    TRIGGER_TOKENS,
    TRIGGER_TOKENS_ANYCASE,
)
from verify._behaviour.string_patterns import (
    JS_PATTERNS,
    PYTHON_FALLBACK_PATTERNS,
    SHELL_PATTERNS,
    STRING_ANCHORS,
    STRING_PATTERNS,
    StringPattern,
)

__all__ = [
    "ABUSE_TLDS",
    "BIDI_CHARS",
    "BUILTIN_NAMES",
    "CODE_SINKS",
    "COMMAND_BASE_NAMES",
    "COMMAND_BASE_ROOTS",
    "CONFUSABLE_CYRILLIC",
    "CREDENTIAL_CALLS",
    "DATA_EXTENSIONS",
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
#: Data formats that cannot run (unlike YAML or TOML, which CI systems and tools act on): an
#: API model naming ``~/.ssh`` or a price list naming a host under .xyz is not code doing it.
DATA_EXTENSIONS: tuple[str, ...] = (".json", ".xml", ".xsl", ".xslt", ".csv", ".tsv", ".svg")
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
