"""The Python calls and names the analysis knows, by what they do.

Decoders and the sinks decoded data must not reach, calls that start processes or open
connections (each with the module reported as the key), credential reads, threads, build
command classes, the environment, standard streams and warning filters, and the calls that
open or build paths. Names are qualified (``subprocess.Popen``, ``os.environ``) as the
analysis resolves them through imports and aliases.
"""

from __future__ import annotations

__all__ = [
    "BUILTIN_NAMES",
    "CODE_SINKS",
    "COMMAND_BASE_NAMES",
    "COMMAND_BASE_ROOTS",
    "CREDENTIAL_CALLS",
    "DECODERS",
    "ENVIRON_NAMES",
    "ENV_BENIGN_METHODS",
    "ENV_WHOLE_METHODS",
    "IMPORT_SINKS",
    "NETWORK_CALLS",
    "OBFUSCATING_CODECS",
    "OPEN_CALLS",
    "PATH_CALLS",
    "PATH_PASSTHROUGH_CALLS",
    "PROCESS_CALLS",
    "PROCESS_PREFIXES",
    "REDIRECT_CALLS",
    "SHELLS",
    "SHELL_CALLS",
    "STD_STREAMS",
    "THREAD_CALLS",
    "WARNING_FILTERS",
]


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
