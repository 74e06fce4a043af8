#!/usr/bin/env python3
"""Benchmark ``pip-verify check`` on a hashed lock against pip's own download of it.

One run measures, each with its own fresh temporary directories:

1. cold: ``python -m verify check -r LOCK --cache-dir EMPTY`` (empty pip-verify cache);
2. warm: the same command again with the same cache dir, ``--runs`` times, median;
2b. warm against a caching index: the same files (every candidate and baseline the cold run
   fetched) served on loopback by ``caching_index.py``, which sends ETags and
   ``Cache-Control`` as the public index does, and answers OSV queries in place of the OSV
   API this machine cannot reach; one priming run, then ``--runs`` times, median;
3. the download floor: ``pip download --no-deps --require-hashes -r LOCK -d TMP`` with an
   empty pip cache (``--cache-dir`` a new temporary dir);
4. the start-up floor: ``python -m verify --version``, ``--runs`` times, median;

and prints a markdown table with the ratios cold/pip-download, warm/pip-download and warm
minus start-up. Every subprocess runs with an isolated pip configuration (no ``PIP_*``
variable, ``PIP_CONFIG_FILE`` set to the null device, no ``PIP_VERIFY_CACHE_DIR``), so the
index is pip's own default.

    python bench/bench_check.py [--lock FILE] [--runs N] [--cold-runs N] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from caching_index import caching_index
from harness import (
    Measurement,
    count_tree,
    isolated_env,
    log,
    mib,
    ratio,
    show,
    timed,
    tool_version,
)

HERE = Path(__file__).resolve().parent
DEFAULT_LOCK = HERE / "requirements-bench.txt"


def summarise_report(path: Path) -> dict[str, Any]:
    """Packages, files, bytes and decisions from a ``pip-verify/report/v1`` JSON report."""
    data = json.loads(path.read_text(encoding="utf-8"))
    packages = data.get("packages", [])
    files = [f for p in packages for f in p.get("files", [])]
    not_allowed = [
        f"{p.get('name')} {p.get('version')}: {p.get('decision')} "
        + "; ".join(f"[{r.get('rule')}] {r.get('message')}" for r in p.get("reasons", []))
        for p in packages
        if p.get("decision") != "allow"
    ]
    not_verified = [
        f"{f.get('filename')}: {f.get('hash_status')}"
        for f in files
        if f.get("hash_status") != "verified"
    ]
    return {
        "decision": data.get("decision"),
        "complete": data.get("complete"),
        "packages": len(packages),
        "files": len(files),
        "bytes": sum(f.get("size") or 0 for f in files),
        "not_allowed": not_allowed,
        "not_verified": not_verified,
        "errors": data.get("errors", []),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark pip-verify check against pip download on a hashed lock."
    )
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help="hashed requirements")
    parser.add_argument("--runs", type=int, default=3, help="warm and start-up runs (median)")
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=1,
        help="cold check and pip download runs, each with fresh caches (median; default 1)",
    )
    parser.add_argument(
        "--no-caching-index",
        action="store_true",
        help="skip the warm runs against the loopback index that sends cache headers",
    )
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.cold_runs < 1:
        parser.error("--runs and --cold-runs must be at least 1")
    lock: Path = args.lock.resolve()
    if not lock.is_file():
        parser.error(f"no such lock file: {lock}")

    env = isolated_env()
    python = sys.executable
    verify = [python, "-m", "verify"]
    work = Path(tempfile.mkdtemp(prefix="bench-check-"))
    subs = {python: "python", str(lock): lock.name, str(work): "$TMP"}
    failures: list[str] = []

    pip_dl = Measurement("pip download (empty pip cache)", "")
    cold = Measurement("pip-verify check, cold (empty cache)", "")
    warm = Measurement(f"pip-verify check, warm (median of {args.runs})", "")
    startup = Measurement(f"start-up: python -m verify --version (median of {args.runs})", "")
    cached = Measurement(
        f"pip-verify check, warm, caching loopback index (median of {args.runs})", ""
    )
    summary: dict[str, Any] | None = None
    pip_files = (0, 0)

    try:
        # Warm the interpreter's own files (bytecode, page cache) so that run 1 of the
        # cold check is not also paying for the first import of pip-verify and pip.
        subprocess.run([*verify, "--version"], env=env, capture_output=True, check=False)
        subprocess.run(
            [python, "-m", "pip", "--version"], env=env, capture_output=True, check=False
        )

        cache = work / "verify-cache"
        for i in range(args.cold_runs):
            # 3. the download floor: pip, fresh pip cache, fresh destination.
            dest, pip_cache = work / f"pip-dest-{i}", work / f"pip-cache-{i}"
            cmd = [
                python,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--require-hashes",
                "--disable-pip-version-check",
                "-r",
                str(lock),
                "-d",
                str(dest),
                "--cache-dir",
                str(pip_cache),
            ]
            pip_dl.command = show(cmd, {**subs, str(dest): "$DEST", str(pip_cache): "$PIPCACHE"})
            log(f"pip download, run {i + 1}/{args.cold_runs} ...")
            run = timed(cmd, env)
            pip_dl.runs.append(run)
            log(f"  {run.seconds:.2f}s, exit {run.returncode}")
            if run.returncode != 0:
                failures.append(f"pip download exited {run.returncode}:\n{run.stderr.strip()}")
            pip_files = count_tree(dest)
            shutil.rmtree(pip_cache, ignore_errors=True)
            if i + 1 < args.cold_runs:
                shutil.rmtree(dest, ignore_errors=True)

            # 1. cold check: an empty pip-verify cache (the last one is kept for the warm runs).
            cache = work / f"verify-cache-{i}"
            cache.mkdir()
            report = work / f"report-cold-{i}.json"
            cmd = [*verify, "check", "-r", str(lock), "--cache-dir", str(cache)]
            cmd += ["--format", "json", "-o", str(report)]
            cold.command = show(cmd, {**subs, str(cache): "$CACHE", str(report): "report.json"})
            log(f"pip-verify check cold, run {i + 1}/{args.cold_runs} ...")
            run = timed(cmd, env)
            cold.runs.append(run)
            log(f"  {run.seconds:.2f}s, exit {run.returncode}")
            if run.returncode != 0:
                failures.append(f"cold check exited {run.returncode}: {run.stderr.strip()}")
            if report.is_file():
                summary = summarise_report(report)
            else:
                failures.append("cold check wrote no JSON report")
            if i + 1 < args.cold_runs:
                shutil.rmtree(cache, ignore_errors=True)

        # 2. warm check: the same command, the cache the last cold run filled.
        for i in range(args.runs):
            report = work / f"report-warm-{i}.json"
            cmd = [*verify, "check", "-r", str(lock), "--cache-dir", str(cache)]
            cmd += ["--format", "json", "-o", str(report)]
            warm.command = show(cmd, {**subs, str(cache): "$CACHE", str(report): "report.json"})
            log(f"pip-verify check warm, run {i + 1}/{args.runs} ...")
            run = timed(cmd, env)
            warm.runs.append(run)
            log(f"  {run.seconds:.2f}s, exit {run.returncode}")
            if run.returncode != 0:
                failures.append(f"warm check exited {run.returncode}: {run.stderr.strip()}")
            if report.is_file():
                warm_summary = summarise_report(report)
                if warm_summary["decision"] != "allow" or warm_summary["not_allowed"]:
                    failures.append(
                        f"warm check run {i + 1}: report decision {warm_summary['decision']!r}, "
                        f"{len(warm_summary['not_allowed'])} package(s) not allowed"
                    )
            else:
                failures.append(f"warm check run {i + 1} wrote no JSON report")

        # 2b. warm against an index that lets pages be cached, as the public one does.
        if not args.no_caching_index:
            _warm_from_caching_index(args, verify, lock, cache, work, subs, env, cached, failures)

        # 4. start-up floor.
        cmd = [*verify, "--version"]
        startup.command = show(cmd, subs)
        for i in range(args.runs):
            log(f"start-up, run {i + 1}/{args.runs} ...")
            run = timed(cmd, env)
            startup.runs.append(run)
            if run.returncode != 0:
                failures.append(f"--version exited {run.returncode}:\n{run.stderr.strip()}")
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    if summary is not None:
        if summary["decision"] != "allow" or summary["not_allowed"]:
            failures.append(
                f"cold report decision {summary['decision']!r}; not allowed: "
                f"{_brief(summary['not_allowed'])}; errors: {summary['errors']}"
            )
        if summary["not_verified"]:
            failures.append(f"files not verified: {summary['not_verified']}")

    table = render(
        lock=lock,
        env=env,
        measurements=(cold, warm, pip_dl, startup, cached),
        summary=summary,
        pip_files=pip_files,
        failures=failures,
    )
    print(table)
    if args.output is not None:
        args.output.write_text(table, encoding="utf-8")
        log(f"wrote {args.output}")
    for failure in failures:
        log(f"FAILED: {failure}")
    return 1 if failures else 0


def _brief(not_allowed: list[str]) -> str:
    """How many packages were not allowed, by rule, and the first three in full: a lock
    of 69 packages on an index without provenance would otherwise fill pages."""
    rules: dict[str, int] = {}
    for line in not_allowed:
        for rule in dict.fromkeys(re.findall(r"\[([a-z0-9-]+)\]", line)):
            rules[rule] = rules.get(rule, 0) + 1
    counts = ", ".join(f"{rule} {count}" for rule, count in sorted(rules.items()))
    shown = "; ".join(not_allowed[:3])
    more = f" (and {len(not_allowed) - 3} more)" if len(not_allowed) > 3 else ""
    return f"{len(not_allowed)} package(s), by rule: {counts}. {shown}{more}"


def _warm_from_caching_index(
    args: argparse.Namespace,
    verify: list[str],
    lock: Path,
    cache: Path,
    work: Path,
    subs: dict[str, str],
    env: dict[str, str],
    cached: Measurement,
    failures: list[str],
) -> None:
    """Warm checks of ``lock`` against every file the cold run fetched, served on loopback
    with cache headers; the first run fills the page cache and is not measured."""
    served = work / "index-files"
    served.mkdir()
    for path in (cache / "files").glob("sha256/*/*/*"):
        target = served / path.name
        if path.is_file() and not target.exists():
            os.link(path, target)
    with caching_index(served) as url:
        for i in range(args.runs + 1):
            report = work / f"report-cached-{i}.json"
            osv = url.removesuffix("/simple/")
            cmd = [*verify, "check", "-r", str(lock), "-i", url, "--cache-dir", str(cache)]
            cmd += ["--osv-url", osv, "--format", "json", "-o", str(report)]
            cached.command = show(
                cmd,
                {
                    **subs,
                    str(cache): "$CACHE",
                    str(report): "report.json",
                    url: "$LOOPBACK/simple/",
                    osv: "$LOOPBACK",
                },
            )
            what = "priming" if i == 0 else f"run {i}/{args.runs}"
            log(f"pip-verify check warm against the caching index, {what} ...")
            run = timed(cmd, env)
            log(f"  {run.seconds:.2f}s, exit {run.returncode}")
            if run.returncode not in (0, 1):
                failures.append(f"caching-index check exited {run.returncode}: {run.stderr}")
            elif i > 0:
                cached.runs.append(run)


def render(
    *,
    lock: Path,
    env: dict[str, str],
    measurements: tuple[Measurement, Measurement, Measurement, Measurement, Measurement],
    summary: dict[str, Any] | None,
    pip_files: tuple[int, int],
    failures: list[str],
) -> str:
    cold, warm, pip_dl, startup, cached = measurements
    python = sys.executable
    verify_version = tool_version([python, "-m", "verify", "--version"], env)
    pip_version = tool_version([python, "-m", "pip", "--version"], env).split(" from ")[0]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## pip-verify check benchmark, {now}",
        "",
        f"- platform: `{platform.platform()}`, {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{pip_version}, {verify_version}",
        f"- lock: `{lock.name}`",
    ]
    if summary is not None:
        lines.append(
            f"- checked: {summary['packages']} packages, {summary['files']} files, "
            f"{summary['bytes']:,} bytes ({mib(summary['bytes'])}); report decision "
            f"`{summary['decision']}`, complete `{summary['complete']}`"
        )
    lines.append(f"- pip downloaded: {pip_files[0]} files, {pip_files[1]:,} bytes")
    lines += [
        "",
        "| measurement | runs | exit | seconds | vs pip download |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    floor = pip_dl.median if pip_dl.runs else 0.0
    shown = (cold, warm, pip_dl, startup, *((cached,) if cached.runs else ()))
    for m in shown:
        if not m.runs:
            lines.append(f"| {m.label} | 0 | - | - | - |")
            continue
        lines.append(
            f"| {m.label} | {len(m.runs)} | {m.exit_codes} | {m.median:.2f} | "
            f"{ratio(m.median, floor)} |"
        )
    if warm.runs and startup.runs:
        beyond = warm.median - startup.median
        lines.append(f"| warm minus start-up (work beyond start-up) | | | {beyond:.2f} | |")
    if cached.runs and startup.runs:
        beyond = cached.median - startup.median
        lines.append(f"| warm, caching loopback index, minus start-up | | | {beyond:.2f} | |")
    lines += ["", "Commands:", ""]
    lines += [f"- {m.label}: `{m.command}`" for m in shown]
    if warm.runs:
        runs = ", ".join(f"{r.seconds:.2f}" for r in warm.runs)
        lines += ["", f"Warm runs (s): {runs}."]
    if failures:
        lines += ["", "**Failures:**", ""]
        lines += ["```", *failures, "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
