"""String-level patterns: what is searched for in text rather than found in an AST.

They are matched in Python string literals, in shell, JavaScript and other text files, and
in Python that does not parse.

Each pattern's ``key`` is the stable name of what was found (a location, a tool, a service),
never the matched text itself, so the same capability in two releases has the same key;
``{1}`` in a key is replaced by the first group, lower-cased. A pattern's anchors are
lower-case substrings without which it cannot match: text that has none of them is passed
over before the regular expression runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "JS_PATTERNS",
    "PYTHON_FALLBACK_PATTERNS",
    "SHELL_PATTERNS",
    "STRING_ANCHORS",
    "STRING_PATTERNS",
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
