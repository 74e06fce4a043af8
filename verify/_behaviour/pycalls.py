"""Judging a Python module's calls that reach outside it.

Network clients and socket addresses, credential stores, files opened by path (``.env`` read,
shell start-up files written), threads started at import, ``setattr`` on imported modules,
builtins looked up by computed names, silenced output and command classes. Some evidence means
something only together (a socket and a shell's streams; a download, a ``chmod`` and a process);
it is kept here and weighed once every call has been judged.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

from verify._behaviour import patterns
from verify._behaviour.collector import SNIPPET_MAX, Collector
from verify._behaviour.profile import Phase
from verify._behaviour.pyindex import call_argument
from verify._behaviour.pynodes import NodeChecks
from verify._behaviour.pywalk import MAX_DEPTH, Visit
from verify._behaviour.textscan import note_host
from verify.models import Severity

#: Network calls that create a client, a socket or a request object, or look up a name,
#: without sending anything.
_NETWORK_SETUP = frozenset(
    {
        "socket.socket",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.create_server",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "requests.Session",
        "requests.session",
        "requests.Request",
        "httpx.Client",
        "httpx.AsyncClient",
        "httpx.Request",
        "aiohttp.ClientSession",
        "aiohttp.TCPConnector",
        "urllib3.PoolManager",
        "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
    }
)
#: Path methods that open the file they are called on.
_PATH_METHODS = frozenset({"write_text", "write_bytes", "read_text", "read_bytes", "open"})
_DOTENV = re.compile(r"(?:^|[/\\])\.env$")
_RC_PATH = re.compile(
    r"(?:^|[/\\~*])\.(bashrc|zshrc|profile|bash_profile|bash_login|zprofile|zshenv)$"
)


class CallSite(NamedTuple):
    """A call being judged, with what every check needs to know about it."""

    node: ast.Call
    #: The callee's qualified name (``subprocess.Popen``), or "" when it cannot be resolved.
    name: str
    #: The called attribute (``connect`` in ``sock.connect(...)``), whatever its owner.
    attribute: str | None
    visit: Visit
    phase: Phase


def is_fileno_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fileno"
    )


def path_identity(node: ast.AST, text: str) -> str:
    """What names a file across statements: the variable holding it, else its path text."""
    if isinstance(node, ast.Name):
        return f"name:{node.id}"
    return f"path:{text}"


class CallChecks(NodeChecks):
    """The checks on calls that reach outside the process, and the evidence they leave."""

    def __init__(self, tree: ast.Module, collector: Collector, *, forced: Phase | None) -> None:
        super().__init__(tree, collector, forced=forced)
        # Evidence that means something only in combination, weighed in _finish().
        self.sockets = False
        self.shell_links: list[tuple[int, Phase, str]] = []
        self.fetches: list[tuple[int, Phase]] = []
        self.retrieves: list[tuple[int, Phase]] = []
        self.chmods: list[tuple[int, Phase]] = []
        #: Paths the file writes to: a download written to a file that is then run is a
        #: dropper whatever the file is called.
        self.written: set[str] = set()

    def _network(self, site: CallSite) -> None:
        network = patterns.NETWORK_CALLS.get(site.name)
        if network is None:
            return
        message = f"opens network connections with {network} ({site.name})"
        self._add(
            "network-access",
            network,
            message,
            site.node,
            site.visit,
            # A client or socket created as a module loads (an IPv6 probe, a shared session)
            # transfers nothing yet; the calls that do are judged where they are.
            routine=site.name in _NETWORK_SETUP,
        )
        self.fetches.append((site.node.lineno, site.phase))
        self.sockets = self.sockets or network == "socket"
        if site.name.endswith("urlretrieve"):
            self.retrieves.append((site.node.lineno, site.phase))
        self._hidden_address(site)

    def _hidden_address(self, site: CallSite) -> None:
        """``requests.get(b64decode("aHR0cHM6..."))``: an address nobody reading the code or
        searching it for hosts can see. Code that hides where it connects hides what it
        sends or fetches there."""
        address = call_argument(site.node, 0, "url")
        if address is None or isinstance(address, ast.Constant):
            return
        decoded, _ = self._origin(address, site.visit.scope)
        if decoded is None:
            return
        unfolded = self._fold(address, site.visit.scope)
        shown = " ".join(unfolded.text.split()) if unfolded and unfolded.text else None
        self._add(
            "obfuscation",
            "hidden-address",
            f"connects to an address hidden by {decoded} ({site.name})",
            site.node,
            site.visit,
            snippet=f"[decoded {decoded}] {shown}"[:SNIPPET_MAX] if shown else None,
        )

    def _socket_address(self, site: CallSite) -> None:
        """Hosts in ``connect(("203.0.113.9", 4444))`` and friends."""
        node = site.node
        host: ast.expr | None = None
        port: ast.expr | None = None
        if site.attribute in ("connect", "connect_ex", "sendto") or (
            site.name == "socket.create_connection"
        ):
            address = node.args[-1] if site.attribute == "sendto" and node.args else None
            address = address or call_argument(node, 0)
            if isinstance(address, ast.Tuple) and len(address.elts) >= 2:
                host, port = address.elts[0], address.elts[1]
        elif site.name == "asyncio.open_connection" and len(node.args) >= 2:
            host, port = node.args[0], node.args[1]
        if not (isinstance(host, ast.Constant) and isinstance(host.value, str)):
            return
        if isinstance(port, ast.Constant) and isinstance(port.value, int):
            note_host(self.c, host.value, "", node.lineno, site.phase)

    def _credential_call(self, site: CallSite) -> None:
        where = patterns.CREDENTIAL_CALLS.get(site.name)
        if where is not None:
            message = f"reads {where} ({site.name})"
            self._add("credential-read", where, message, site.node, site.visit)

    def _shell_link(self, site: CallSite) -> None:
        """``os.dup2(sock.fileno(), 0)``: half of a reverse shell (the socket is the other)."""
        node = site.node
        if site.name != "os.dup2" or len(node.args) != 2 or not is_fileno_call(node.args[0]):
            return
        target = node.args[1]
        if isinstance(target, ast.Constant) and target.value in (0, 1, 2):
            self.shell_links.append((node.lineno, site.phase, "socket+dup2"))

    def _chmod(self, site: CallSite) -> None:
        """Execute bits set on a file: with a download and a spawn, a dropper."""
        if site.name != "os.chmod" and site.attribute != "chmod":
            return
        mode = call_argument(site.node, 1 if site.name == "os.chmod" else 0, "mode")
        if mode is not None and self._exec_bits(mode, 0):
            self.chmods.append((site.node.lineno, site.phase))

    def _exec_bits(self, node: ast.expr, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return bool(node.value & 0o111)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._exec_bits(node.left, depth + 1) or self._exec_bits(node.right, depth + 1)
        name = self.qualname(node) or ""
        return name.startswith("stat.S_IX") or name in ("stat.S_IEXEC", "stat.S_IRWXU")

    def _thread(self, site: CallSite) -> None:
        name = site.name
        if name not in patterns.THREAD_CALLS and name not in self.thread_classes:
            return
        # Only at import (or start-up): a thread started by a function is ordinary.
        if not site.visit.deferred and self.forced is not Phase.INSTALL:
            self._add(
                "import-time-thread",
                name,
                f"starts a thread or process as soon as the module is loaded ({name})",
                site.node,
                site.visit,
            )

    def _setattr(self, site: CallSite) -> None:
        node = site.node
        if site.name != "setattr" or len(node.args) < 2 or site.visit.deferred:
            return
        owner = self._patched(node.args[0])
        if owner is not None:
            key = f"{owner}.{self.const_str(node.args[1]) or '*'}"
            self._add("monkey-patch", key, f"replaces {key} at import time", node, site.visit)

    def _computed_builtin(self, site: CallSite) -> None:
        """``getattr(__builtins__, <computed>)``: a builtin (``exec``, ``chr``) looked up by
        a name the code works out at run time, so that no reader or scanner sees it."""
        node = site.node
        if site.name != "getattr" or len(node.args) < 2:
            return
        if self.qualname(node.args[0]) != "builtins" or self.const_str(node.args[1]) is not None:
            return
        self._add(
            "obfuscation",
            "computed-builtin",
            "looks up a builtin by a name computed at run time (getattr(__builtins__, ...))",
            node,
            site.visit,
            # Serialisers resolve builtins by name inside functions; only code that does it
            # as it loads or installs is hiding what it calls.
            specific=site.phase is not Phase.RUNTIME,
            severity=None if site.phase is not Phase.RUNTIME else Severity.MEDIUM,
        )

    def _silencing(self, site: CallSite) -> None:
        name, node, visit = site.name, site.node, site.visit
        if name in patterns.REDIRECT_CALLS:
            self._add("output-silenced", name, f"redirects output ({name})", node, visit)
        if name in patterns.WARNING_FILTERS:
            action = self.const_str(call_argument(node, 0, "action"))
            narrowed = len(node.args) > 1 or any(
                kw.arg not in ("action", "append") for kw in node.keywords
            )
            # Only the blanket filter: ignoring one category or module is ordinary hygiene.
            if action == "ignore" and not narrowed:
                self._add("output-silenced", name, f"ignores every warning ({name})", node, visit)
        discarded = [
            kw.arg
            for kw in node.keywords
            if kw.arg in ("stdout", "stderr") and self.qualname(kw.value) == "subprocess.DEVNULL"
        ]
        if discarded:
            self._add(
                "output-silenced",
                "subprocess.DEVNULL",
                f"discards a child process's {' and '.join(map(str, discarded))} "
                "(subprocess.DEVNULL)",
                node,
                visit,
            )

    def _open(self, site: CallSite) -> None:
        """Files opened by path: ``.env`` files read, shell start-up files written."""
        name, node, visit = site.name, site.node, site.visit
        target: ast.expr | None
        if name in patterns.OPEN_CALLS:
            target = call_argument(node, 0, "file", "path")
            mode_node = call_argument(node, 1, "mode", "flags")
            if name == "os.open":
                parts = ast.walk(mode_node) if mode_node is not None else ()
                flags = {sub.attr for sub in parts if isinstance(sub, ast.Attribute)}
                writing = bool(flags & {"O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT"})
            else:
                mode = self.const_str(mode_node) if mode_node is not None else "r"
                writing = any(flag in (mode or "") for flag in "wax+")
        elif isinstance(node.func, ast.Attribute) and site.attribute in _PATH_METHODS:
            target = node.func.value
            mode = (
                self.const_str(call_argument(node, 0, "mode")) if site.attribute == "open" else None
            )
            writing = node.func.attr.startswith("write") or any(
                flag in (mode or "") for flag in "wax+"
            )
        else:
            return
        if target is None:
            return
        if name in patterns.OPEN_CALLS and self.qualname(target) == "os.devnull":
            message = "opens os.devnull to discard output"
            self._add("output-silenced", "os.devnull", message, node, visit)
            return
        path = self._path_text(target, [], 0)
        if writing:
            self.written.add(path_identity(target, path))
        if _DOTENV.search(path):
            message = "opens a .env file (environment secrets)"
            self._add("credential-read", ".env", message, node, visit)
        rc_file = _RC_PATH.search(path)
        if writing and rc_file is not None:
            key = f"~/.{rc_file.group(1)}"
            self._add("persistence", key, f"writes to the shell start-up file {key}", node, visit)

    def _command_classes(self, site: CallSite) -> None:
        if any(keyword.arg == "cmdclass" for keyword in site.node.keywords):
            self._add(
                "install-hook",
                "cmdclass",
                "registers setup.py command classes (cmdclass), which run at install time",
                site.node,
                site.visit,
            )

    def _fold_call(self, site: CallSite) -> None:
        """Paths and strings built by calls: ``os.path.join(...)``, ``"".join([...])``."""
        if site.name in patterns.PATH_CALLS or site.attribute == "joinpath":
            self._fold_path(site.node, site.visit)
        elif site.attribute == "join" and isinstance(
            getattr(site.node.func, "value", None), ast.Constant
        ):
            self._fold_string(site.node, site.visit)
