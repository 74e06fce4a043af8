"""The byte-level prefilter's tables: what a file must hold to be analysed at all.

:func:`verify._behaviour.capabilities.needs_analysis` searches a file's bytes for them.
Without one of these tokens or patterns, an invisible or look-alike character, a long blank
run or a long line (:data:`~verify._behaviour.patterns.LONG_LINE`), no detection could fire
and a file gets only its kind, entropy and longest line. The tokens are as narrow as the
detections allow; :mod:`verify._behaviour.scanning` compiles them into one pass.
"""

from __future__ import annotations

import re

__all__ = [
    "IGNORE_WARNINGS",
    "QUOTED_URL",
    "SUSPICIOUS_UTF8",
    "TRIGGER_PATTERNS",
    "TRIGGER_TOKENS",
    "TRIGGER_TOKENS_ANYCASE",
]


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
    b", requests",  # import json, requests
    b",requests",
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
