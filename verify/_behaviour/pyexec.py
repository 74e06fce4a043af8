"""Judging a Python module's calls that run code, import modules or start processes.

Code sinks (``exec``, ``eval``, ``compile``, dynamic imports) and process calls fed by decoded
or downloaded data; what a payload the analysis can fold decodes to is analysed as the code it
is, where it runs. Process calls are rated by how they run (through a shell, as a build tool,
hidden by window flags or thrown-away output) and whether the command downloads.
"""

from __future__ import annotations

import ast
import re

from verify._behaviour import patterns
from verify._behaviour.collector import SNIPPET_MAX, Collector
from verify._behaviour.commands import (
    CONCEALING_FLAGS,
    CONCEALING_VALUES,
    command_concealment,
    command_fetches,
    is_build_tool,
)
from verify._behaviour.decode import Decoded, powershell_payload
from verify._behaviour.profile import Phase
from verify._behaviour.pycalls import CallChecks, CallSite, is_fileno_call, path_identity
from verify._behaviour.pyindex import call_argument, call_keyword, starts_process
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.severity import raise_severity

_SHELL_CHAIN = re.compile(r"[;&|`\n]|\$\(")
#: Interpreter options after which a program, command or module follows: the interpreter then
#: runs that, not its standard input.
_TAKES_PROGRAM = frozenset({"c", "m", "command", "file", "encodedcommand", "e", "enc", "ec"})
#: Characters of a command line read for signs of hiding or fetching.
_COMMAND_MAX = 64 * 1024


def _shown(decoded: Decoded | None) -> str | None:
    """A decoded payload as one line of evidence."""
    if decoded is None or not decoded.text:
        return None
    return " ".join(decoded.text.split())[:SNIPPET_MAX]


def _command_text(node: ast.expr | None) -> str:
    """The literal words of a command, in order (``"powershell -w hidden " + script`` gives
    ``powershell -w hidden``): enough to see how it hides, without knowing the rest."""
    if node is None:
        return ""
    words: list[str] = []
    size = 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            words.append(sub.value)
            size += len(sub.value)
            if size > _COMMAND_MAX:
                break
    return " ".join(words)[:_COMMAND_MAX]


def _program(node: ast.expr | None) -> str | None:
    """The program a command names (``sh`` for ``"/bin/sh -c ..."`` or ``["bash", "-c"]``)."""
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        node = node.elts[0]
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    words = node.value.split()
    if not words:
        return None
    return words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()


class ExecutionChecks(CallChecks):
    """The checks on calls that run code, import modules or start processes."""

    def __init__(self, tree: ast.Module, collector: Collector, *, forced: Phase | None) -> None:
        super().__init__(tree, collector, forced=forced)
        #: Sink calls inside an argument already reported as decode-exec or download-exec.
        self.quiet_sinks: set[int] = set()
        self.spawns: list[tuple[int, Phase]] = []
        #: What each process call runs: a file the module wrote after a download is a dropper.
        self.launched: list[tuple[int, Phase, str, str]] = []
        #: Interpreters started to read their program from standard input, and downloaded
        #: data written to a process's standard input: together, downloaded code run.
        self.stdin_programs: list[tuple[int, Phase]] = []
        self.stdin_feeds: list[tuple[int, Phase, str]] = []

    def _code_sinks(self, site: CallSite) -> None:
        """Code, a command or a module name built from decoded or downloaded data; imports by
        a computed name."""
        name, node = site.name, site.node
        is_process = starts_process(name)
        if not (name in patterns.CODE_SINKS or name in patterns.IMPORT_SINKS or is_process):
            return
        payload = call_argument(node, 0, "source", "code", "args", "cmd", "name", "object")
        if payload is None:
            return
        if id(node) in self.quiet_sinks:
            return  # part of a payload already reported at its outermost sink
        decoded, fetched = self._origin(payload, site.visit.scope)
        if name in patterns.IMPORT_SINKS:
            fetched = None  # importing by a downloaded name is not running the download
            if decoded is None and self.const_str(payload) is None:
                self._add(
                    "dynamic-import",
                    name,
                    f"imports a module by a computed name ({name})",
                    node,
                    site.visit,
                )
        unfolded = None
        if name not in patterns.IMPORT_SINKS and self.const_str(payload) is None:
            unfolded = self._fold(payload, site.visit.scope)
        if decoded is None and unfolded is not None and unfolded.layers:
            decoded = "+".join(unfolded.layers)  # a decoding the data flow did not name
        if decoded is not None:
            what = "runs a command" if is_process else "executes code"
            if name in patterns.IMPORT_SINKS:
                what = "imports a module named by data"
            shown = _shown(unfolded)
            self._add(
                "decode-exec",
                f"{name}({decoded})",
                f"{what} decoded by {decoded} ({name})",
                node,
                site.visit,
                snippet=f"[decoded {decoded}] {shown}" if shown else None,
            )
        if unfolded is not None and unfolded.text:
            # What the hidden code does, rated as that code, where it is run.
            kind = "shell" if is_process else "python"
            layers = "+".join(unfolded.layers) or None
            self.c.absorb(
                self._analyse_payload(unfolded.text, kind, site.phase),
                line=node.lineno,
                layers=layers,
            )
            self.consumed.update(
                id(sub) for sub in ast.walk(payload) if isinstance(sub, ast.Constant)
            )
        if fetched is not None:
            self._add(
                "download-exec",
                f"{name}({fetched})",
                f"executes data downloaded with {fetched} ({name})",
                node,
                site.visit,
            )
        if (
            name in patterns.CODE_SINKS
            and decoded is None
            and fetched is None
            and unfolded is None
            and self.const_str(payload) is None
            and not self._reads_a_file(payload, site.visit.scope)
        ):
            self._add(
                "dynamic-exec",
                name,
                f"executes code computed at run time ({name})",
                node,
                site.visit,
            )
            self.quiet_sinks.update(
                id(sub) for sub in ast.walk(payload) if isinstance(sub, ast.Call)
            )
        if decoded is not None or fetched is not None:
            calls = (sub for sub in ast.walk(payload) if isinstance(sub, ast.Call))
            self.quiet_sinks.update(id(call) for call in calls)

    def _process(self, site: CallSite) -> None:
        name, node = site.name, site.node
        if not starts_process(name):
            return
        argument = call_argument(node, 0, "args", "cmd", "file", "path")
        program = _program(argument)
        shell_flag = call_keyword(node, "shell")
        through_shell = (
            name in patterns.SHELL_CALLS
            or (isinstance(shell_flag, ast.Constant) and shell_flag.value is True)
            or program in patterns.SHELLS
        )
        command = _command_text(argument)
        # ``os.system("git describe")`` is a shell only to run a build tool; a chain
        # (``git clone ... && ./run``) runs more than the tool.
        tool = is_build_tool(program) and not (
            through_shell and _SHELL_CHAIN.search(command) is not None
        )
        if tool and program is not None and program.startswith("python"):
            # The interpreter runs the project's own scripts, named in the call; a script
            # path computed at run time (one the install just wrote) is another matter.
            words = argument.elts[1:] if isinstance(argument, (ast.List, ast.Tuple)) else []
            tool = all(isinstance(word, ast.Constant) for word in words)
        concealed = self._concealing_flags(node, tool=tool) or (
            command_concealment(command, tool=tool) if command else None
        )
        default = BEHAVIOUR_RULES["process-spawn"].severity
        message = f"runs {name}" + (" through a shell" if through_shell else "")
        if command and command_fetches(command):
            message += ", a command that downloads"
        if concealed is not None:
            message += f", hidden by {concealed}"
        self._add(
            "process-spawn",
            name,
            message,
            node,
            site.visit,
            # A shell interprets whatever string reaches it: one step worse than an argv.
            severity=raise_severity(default) if through_shell else None,
            concealed=concealed,
            routine=tool and concealed is None,
        )
        if command and command_fetches(command):
            # A download by a command counts with the file's other evidence (_finish).
            self.fetches.append((node.lineno, site.phase))
        hidden = powershell_payload(command) if command else None
        if hidden is not None and hidden.text:
            self._decoded_command(hidden.text, "+".join(hidden.layers), node, site)
        self.spawns.append((node.lineno, site.phase))
        if self._reads_program_from_stdin(argument):
            self.stdin_programs.append((node.lineno, site.phase))
            self._note_stdin_feed(call_keyword(node, "input"), site)
        if argument is not None:
            run = (
                argument.elts[0]
                if isinstance(argument, (ast.List, ast.Tuple)) and argument.elts
                else argument
            )
            self.launched.append(
                (node.lineno, site.phase, path_identity(run, self._path_text(run, [], 0)), name)
            )
        streams = (call_keyword(node, stream) for stream in ("stdin", "stdout", "stderr"))
        if any(stream is not None and is_fileno_call(stream) for stream in streams):
            self.shell_links.append((node.lineno, site.phase, "socket+spawn"))
        if name == "pty.spawn" and program in patterns.SHELLS:
            self.shell_links.append((node.lineno, site.phase, "socket+pty.spawn"))

    def _reads_program_from_stdin(self, argument: ast.expr | None) -> bool:
        """``[sys.executable, "-"]``, ``["bash"]``, ``["python3", "-u"]``: an interpreter
        given no script, command or module, which runs what arrives on its standard input."""
        if not (isinstance(argument, (ast.List, ast.Tuple)) and argument.elts):
            return False
        first, *rest = argument.elts
        program = _program(argument) or ""
        interpreter = (
            self.qualname(first) == "sys.executable"
            or program.startswith(("python", "pwsh", "powershell", "node"))
            or program in patterns.SHELLS
        )
        return interpreter and all(
            isinstance(word, ast.Constant)
            and isinstance(word.value, str)
            and word.value.startswith("-")
            and word.value.lower().lstrip("-") not in _TAKES_PROGRAM
            for word in rest
        )

    def _stdin_feed(self, site: CallSite) -> None:
        """``proc.stdin.write(data)``, ``proc.communicate(data)``: what a process is given."""
        func = site.node.func
        if site.attribute == "write" and isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Attribute) and func.value.attr == "stdin":
                self._note_stdin_feed(call_argument(site.node, 0), site)
        elif site.attribute == "communicate":
            self._note_stdin_feed(call_argument(site.node, 0, "input"), site)

    def _note_stdin_feed(self, data: ast.expr | None, site: CallSite) -> None:
        if data is None:
            return
        _, fetched = self._origin(data, site.visit.scope)
        if fetched is not None:
            self.stdin_feeds.append((site.node.lineno, site.phase, fetched))

    def _concealing_flags(self, node: ast.Call, *, tool: bool) -> str | None:
        """How a process call's keyword arguments hide the process: a hidden window, a
        detached console, both output streams thrown away (tidiness for a build tool)."""
        for keyword in ("creationflags", "startupinfo"):
            value = call_keyword(node, keyword)
            if value is None:
                continue
            for sub in ast.walk(value):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, int):
                    for flag, phrase in CONCEALING_VALUES.items():
                        if sub.value & flag == flag:
                            return phrase
                name = self.qualname(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
                if name in CONCEALING_FLAGS:
                    return CONCEALING_FLAGS[name]
        streams = [call_keyword(node, stream) for stream in ("stdout", "stderr")]
        if not tool and all(
            stream is not None and (self.qualname(stream) or "").endswith("DEVNULL")
            for stream in streams
        ):
            return "its output thrown away (DEVNULL)"
        return None

    def _decoded_command(self, text: str, layers: str, node: ast.Call, site: CallSite) -> None:
        """A command or script hidden under an encoding: report it with what it decodes to,
        and what the decoded text does, as that code."""
        decoded = " ".join(text.split())
        self._add(
            "decode-exec",
            f"{site.name}({layers})",
            f"runs a command hidden with {layers} ({site.name})",
            node,
            site.visit,
            concealed=f"an encoded command ({layers})",
            snippet=f"[decoded {layers}] {decoded}"[:SNIPPET_MAX],
        )
        self.c.absorb(
            self._analyse_payload(text, "shell", site.phase),
            line=getattr(node, "lineno", 1),
            layers=layers,
        )
