#!/usr/bin/env python3
"""Benchmark ``pip install`` through ``pip-verify proxy`` against the same install straight
from the upstream index.

The issue's criterion: a warm ``pip install`` of a 30-package tree through the proxy takes at
most 1.2x the time of the same install straight from the upstream.

The upstream is pip's own default index (read from the installed pip). The proxy runs as
``python -m verify proxy --upstream UPSTREAM --listen 127.0.0.1:0 --cache-dir PVCACHE
--policy POLICY`` (the policy of ``bench_install.py``: the default, with the checks that
depend on the machine warning). Then, each into a fresh ``python -m venv --without-pip``
environment, with pip's own cache (``--cache-dir``) for each route:

1. warm-up, untimed: one install straight from the upstream (fills pip's cache A);
2. cold proxy, timed once: one install through the proxy (the proxy verifies every file; fills
   pip's cache B): what the first client after a release pays;
3. ``--runs`` times, alternating, the median reported: the install straight from the upstream
   with cache A, and through the proxy with cache B (the proxy's verdicts warm).

Both routes run ``python -m pip --python VENV install -r REQS --index-url URL --cache-dir C
--disable-pip-version-check``. The script checks that every environment ends up with the same
distributions, and prints a markdown table; the index's host name never appears in it.

    python bench/bench_proxy.py [--requirements FILE] [--runs N] [--output FILE] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

from bench_install import BENCH_POLICY, DEFAULT_REQUIREMENTS, installed, make_venv
from harness import SCRUB, Measurement, isolated_env, log, ratio, show, timed, tool_version

#: The issue's target: through the proxy (warm) / straight from the upstream (warm).
TARGET_RATIO = 1.2
_READY = re.compile(r"listening on (http://\S+?/simple/), verifying")


class Proxy:
    """``python -m verify proxy`` in the background, its log kept."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        self._process = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout=60) or not self.url:
            self.stop()
            raise RuntimeError("the proxy did not start:\n" + "\n".join(self.lines[-20:]))

    def _read(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line.rstrip("\n"))
            match = _READY.search(line)
            if match:
                self.url = match.group(1)
                self._ready.set()
        self._ready.set()

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for line in self.lines:
            match = re.search(r'"status": (\d+)', line)
            if match:
                counts[int(match.group(1))] = counts.get(int(match.group(1)), 0) + 1
        return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=DEFAULT_REQUIREMENTS)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    requirements: Path = args.requirements.resolve()

    from verify._index.config import pip_default_index

    upstream = pip_default_index()
    SCRUB.add(upstream, "[index host]")
    env = isolated_env()
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    policy = work / "policy.toml"
    policy.write_text(BENCH_POLICY, encoding="utf-8")
    caches = {"direct": work / "pip-cache-direct", "proxy": work / "pip-cache-proxy"}
    subs = {python: "python", str(requirements): requirements.name, str(work): "$TMP"}
    failures: list[str] = []
    direct = Measurement(f"pip install from the upstream, warm (median of {args.runs})", "")
    through = Measurement(f"pip install through the proxy, warm (median of {args.runs})", "")
    cold = Measurement("pip install through the proxy, cold proxy (verifies every file)", "")
    trees: set[frozenset[tuple[str, str]] | None] = set()
    proxy: Proxy | None = None
    runs = 0

    def install(route: str, index_url: str, measurement: Measurement | None) -> None:
        nonlocal runs
        runs += 1
        venv = make_venv(work / f"venv-{runs}")
        cmd = [python, "-m", "pip", "--python", str(venv), "install", "-r", str(requirements)]
        cmd += ["--index-url", index_url, "--cache-dir", str(caches[route])]
        cmd += ["--disable-pip-version-check"]
        if measurement is not None:
            measurement.command = show(
                cmd, {**subs, str(caches[route]): "$PIPCACHE", str(venv): "$VENV"}
            )
        log(f"{route}: pip install ({measurement.label if measurement else 'warm-up'}) ...")
        run = timed(cmd, env)
        log(f"  {run.seconds:.2f}s, exit {run.returncode}")
        if run.returncode != 0:
            failures.append(f"{route} install exited {run.returncode}: {run.stderr[-2000:]}")
        elif measurement is not None:
            measurement.runs.append(run)
        trees.add(installed(venv, env))
        shutil.rmtree(venv.parent, ignore_errors=True)

    try:
        serve = [python, "-m", "verify", "proxy", "--upstream", upstream, "--listen", "127.0.0.1:0"]
        serve += ["--cache-dir", str(work / "verify-cache"), "--policy", str(policy)]
        serve += ["--trust-store", str(work / "trust.toml"), "--threads", "16"]
        proxy = Proxy(serve, env)
        install("direct", upstream, None)
        install("proxy", proxy.url, cold)
        for _ in range(args.runs):
            install("direct", upstream, direct)
            install("proxy", proxy.url, through)
    finally:
        if proxy is not None:
            proxy.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if len(trees) != 1 or None in trees:
        failures.append(f"the environments differ: {len(trees)} distinct trees")
    tree = next(iter(trees)) if len(trees) == 1 else None

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    pip_version = tool_version([python, "-m", "pip", "--version"], env).split(" from ")[0]
    verify_version = tool_version([python, "-m", "verify", "--version"], env)
    lines = [
        f"## pip install through pip-verify proxy, {now}",
        "",
        f"- platform: `{platform.platform()}`, {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()}, {pip_version}, {verify_version}",
        f"- tree: `{requirements.name}`, "
        + (f"{len(tree)} distributions" if tree else "environments differ"),
        "- upstream: pip's default index; the proxy on 127.0.0.1",
        "",
        "| measurement | runs | exit | seconds | vs upstream |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for m in (direct, through, cold):
        if not m.runs:
            lines.append(f"| {m.label} | 0 | - | - | - |")
            continue
        versus = ratio(m.median, direct.median) if direct.runs else "-"
        lines.append(f"| {m.label} | {len(m.runs)} | {m.exit_codes} | {m.median:.2f} | {versus} |")
    if through.runs and direct.runs:
        verdict = "met" if through.median <= TARGET_RATIO * direct.median else "NOT met"
        lines += ["", f"Target through/upstream <= {TARGET_RATIO}x: **{verdict}**."]
    if proxy is not None:
        lines += ["", f"Proxy answers by status: {proxy.statuses()}."]
    lines += ["", "Commands:", ""]
    lines += [f"- {m.label}: `{m.command}`" for m in (direct, through) if m.command]
    if failures:
        lines += ["", "**Failures:**", ""] + [f"- {SCRUB(f)}" for f in failures]
    table = SCRUB("\n".join(lines) + "\n")
    print(table)
    if args.output is not None:
        args.output.write_text(table, encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
