#!/usr/bin/env python3
"""Benchmark ``pip-verify install`` of a package tree against plain ``pip install`` of it.

The issue's criterion: ``pip-verify install`` of a 30-package tree from a warm cache takes
at most 1.5x the time of plain ``pip install`` of the same tree from pip's warm cache.

First both caches are warmed, one untimed run each into its own fresh virtual environment:
pip's cache (``--cache-dir``) and pip-verify's cache (``--cache-dir``: the content-addressed
store, the HTTP cache and the behaviour diffs). Then, ``--runs`` times, each into a fresh
``python -m venv --without-pip`` environment (the median is reported):

1. plain pip, warm: ``python -m pip --python VENV install -r REQS --cache-dir PIPCACHE
   --disable-pip-version-check``;
2. pip-verify, warm: ``python -m verify install -r REQS --python VENV --cache-dir PVCACHE
   --policy POLICY --trust-store TRUST --yes -q --format json -o report.json``;
3. the start-up floor: ``python -m verify --version``.

Both use the pip of the interpreter running the benchmark (``python -m pip --python VENV``,
which is also how pip-verify runs pip). Afterwards the script compares the distributions
(name, version) that ``pip list`` finds in every environment, and prints a markdown table with
the medians, exit codes, and the ratio pip-verify/pip against the issue's target (<= 1.5x).
Every subprocess runs with an isolated pip configuration (no ``PIP_*`` variable,
``PIP_CONFIG_FILE`` set to the null device), so the index is pip's own default. The index's
and its file host's names never appear in the output (``[index host]``, ``[file host]``).

    python bench/bench_install.py [--requirements FILE] [--runs N] [--output FILE] [--keep]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import (
    SCRUB,
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
DEFAULT_REQUIREMENTS = HERE / "requirements-install-bench.txt"

#: The issue's target: pip-verify install (warm) / pip install (warm).
TARGET_RATIO = 1.5

#: The policy the benchmark installs with: the default, with the two rules whose outcome
#: depends on the machine rather than on the packages stated explicitly (they are the
#: default's settings too), so that a change of the default or an unreachable vulnerability
#: service does not turn the benchmark into a measurement of a refusal.
BENCH_POLICY = """\
# Written by bench/bench_install.py.
version = 1
description = "bench_install.py: the default policy; machine-dependent checks warn."
extends = "default"

[rules.vulnerability]
# The vulnerability service may be unreachable from a benchmark machine: say so, go on.
decision = "warn"
on-error = "warn"

[rules.provenance-required]
# Most of the tree has no PEP 740 provenance; --yes accepts the warnings.
decision = "warn"
on-error = "warn"
"""


def scrub_index_hosts() -> None:
    """Register pip's built-in default index (as the installed pip defines it)."""
    try:
        from verify._index.config import pip_default_index

        SCRUB.add(pip_default_index(), "[index host]")
    except Exception as exc:  # the benchmark still runs; only the scrubbing is weaker
        log(f"cannot read pip's default index ({type(exc).__name__}); output is not scrubbed")


def make_venv(path: Path) -> Path:
    """A fresh, empty virtual environment (no pip: both tools drive it with ``--python``)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)],
        check=True,
        capture_output=True,
        env=isolated_env(),
    )
    for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    raise RuntimeError(f"venv {path} has no interpreter")


def installed(python: Path, env: dict[str, str]) -> frozenset[tuple[str, str]] | None:
    """(normalised name, version) of every distribution in ``python``'s environment."""
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "list", "--format", "json"]
    cmd.append("--disable-pip-version-check")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    return frozenset(
        (re.sub(r"[-_.]+", "-", d["name"]).lower(), str(d["version"]))
        for d in json.loads(proc.stdout)
    )


def summarise_report(path: Path) -> dict[str, Any]:
    """Decision, sizes and the non-allowed reasons of a ``pip-verify`` JSON report."""
    data = json.loads(path.read_text(encoding="utf-8"))
    packages = data.get("packages", [])
    files = [f for p in packages for f in p.get("files", [])]
    for f in files:
        for key, label in (("url", "[file host]"), ("index", "[index host]")):
            if isinstance(f.get(key), str):
                SCRUB.add(f[key], label)
    reasons = [r for p in packages for r in p.get("reasons", [])]
    denied = [
        f"{p.get('name')} {p.get('version')}: [{r.get('rule')}] {r.get('message')}"
        for p in packages
        for r in p.get("reasons", [])
        if r.get("decision") == "deny"
    ]
    warned: dict[str, int] = {}
    for r in reasons:
        if r.get("decision") == "warn":
            warned[str(r.get("rule"))] = warned.get(str(r.get("rule")), 0) + 1
    return {
        "decision": data.get("decision"),
        "complete": data.get("complete"),
        "packages": len(packages),
        "files": len(files),
        "bytes": sum(f.get("size") or 0 for f in files),
        "verified": sum(1 for f in files if f.get("hash_status") == "verified"),
        "denied": denied,
        "warned": warned,
        "errors": [str(e) for e in data.get("errors", [])],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark pip-verify install against pip install of the same tree, "
        "both from a warm cache."
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        default=DEFAULT_REQUIREMENTS,
        metavar="FILE",
        help="the tree to install (default: bench/requirements-install-bench.txt)",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy for pip-verify (default: the default policy, written to a temporary file)",
    )
    parser.add_argument(
        "--verify-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for pip-verify install, e.g. --verify-arg=--no-behaviour "
        "(repeatable; for finding where the time goes)",
    )
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    requirements: Path = args.requirements.resolve()
    if not requirements.is_file():
        parser.error(f"no such requirements file: {requirements}")
    if args.policy is not None and not args.policy.is_file():
        parser.error(f"no such policy file: {args.policy}")

    scrub_index_hosts()
    env = isolated_env()
    python = sys.executable
    verify = [python, "-m", "verify"]
    work = Path(tempfile.mkdtemp(prefix="bench-install-"))
    pip_cache, verify_cache = work / "pip-cache", work / "verify-cache"
    trust_store = work / "trust.toml"
    policy: Path = args.policy.resolve() if args.policy is not None else work / "policy.toml"
    if args.policy is None:
        policy.write_text(BENCH_POLICY, encoding="utf-8")
    subs = {
        python: "python",
        str(requirements): requirements.name,
        str(pip_cache): "$PIPCACHE",
        str(verify_cache): "$PVCACHE",
        str(trust_store): "$TRUST",
        str(policy): "$POLICY" if args.policy is None else policy.name,
        str(work): "$TMP",
    }
    failures: list[str] = []

    pip_warmup = Measurement("warm-up: pip install (empty pip cache; untimed)", "")
    verify_warmup = Measurement("warm-up: pip-verify install (empty cache; untimed)", "")
    pip_warm = Measurement(f"pip install, warm pip cache (median of {args.runs})", "")
    verify_warm = Measurement(f"pip-verify install, warm cache (median of {args.runs})", "")
    startup = Measurement(f"start-up: python -m verify --version (median of {args.runs})", "")
    trees: dict[str, list[frozenset[tuple[str, str]] | None]] = {"pip": [], "pip-verify": []}
    summary: dict[str, Any] | None = None
    caches: dict[str, tuple[int, int]] = {}

    def pip_install(venv_python: Path) -> list[str]:
        return [
            python,
            "-m",
            "pip",
            "--python",
            str(venv_python),
            "install",
            "-r",
            str(requirements),
            "--cache-dir",
            str(pip_cache),
            "--disable-pip-version-check",
        ]

    def verify_install(venv_python: Path, report: Path) -> list[str]:
        return [
            *verify,
            "install",
            "-r",
            str(requirements),
            "--python",
            str(venv_python),
            "--cache-dir",
            str(verify_cache),
            "--policy",
            str(policy),
            "--trust-store",
            str(trust_store),
            "--yes",
            "-q",
            "--format",
            "json",
            "-o",
            str(report),
            *args.verify_arg,
        ]

    def measure(
        tool: str,
        m: Measurement,
        tag: str,
        build: Callable[[Path], list[str]],
        report: Path | None = None,
    ) -> None:
        nonlocal summary
        venv = work / f"venv-{tool}-{tag.replace(' ', '-').replace('/', '-of-')}"
        venv_python = make_venv(venv)
        cmd = build(venv_python)
        names = {**subs, str(venv_python): "$VENV/bin/python"}
        if report is not None:
            names[str(report)] = "report.json"
        m.command = show(cmd, names)
        log(f"{tool} install, {tag} ...")
        run = timed(cmd, env)
        m.runs.append(run)
        log(f"  {run.seconds:.2f}s, exit {run.returncode}")
        if run.returncode != 0:
            failures.append(f"{tool} ({tag}) exited {run.returncode}:\n{run.stderr.strip()}")
        trees[tool].append(installed(venv_python, env))
        if report is not None:
            if report.is_file():
                summary = summarise_report(report)
            else:
                failures.append(f"{tool} ({tag}) wrote no JSON report")
        if not args.keep:
            shutil.rmtree(venv, ignore_errors=True)

    try:
        # Warm the interpreter's own files (bytecode, page cache) first.
        subprocess.run([*verify, "--version"], env=env, capture_output=True, check=False)
        subprocess.run(
            [python, "-m", "pip", "--version"], env=env, capture_output=True, check=False
        )

        # Warm-up: fill both caches (reported, but not what the target is about).
        measure("pip", pip_warmup, "warm-up", pip_install)
        report = work / "report-warm-up.json"
        measure(
            "pip-verify",
            verify_warmup,
            "warm-up",
            functools.partial(verify_install, report=report),
            report,
        )
        # What the warm-ups left: pip caches only what the index lets it (Cache-Control).
        caches["pip --cache-dir"] = count_tree(pip_cache)
        if verify_cache.is_dir():
            for sub in sorted(verify_cache.iterdir()):
                caches[f"pip-verify {sub.name}/"] = count_tree(sub)
        # Timed runs, interleaved so that drift (network, load) hits both alike.
        for i in range(args.runs):
            tag = f"run {i + 1}/{args.runs}"
            measure("pip", pip_warm, tag, pip_install)
            report = work / f"report-{i}.json"
            measure(
                "pip-verify",
                verify_warm,
                tag,
                functools.partial(verify_install, report=report),
                report,
            )
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

    reference = next((t for t in trees["pip"] if t), None)
    mismatches = compare_trees(trees, reference)
    if summary is not None and (summary["denied"] or summary["errors"]):
        failures.append(
            f"pip-verify report decision {summary['decision']!r}; denied: "
            f"{summary['denied']}; errors: {summary['errors']}"
        )

    table = render(
        requirements=requirements,
        env=env,
        measurements=(pip_warm, verify_warm, startup, pip_warmup, verify_warmup),
        summary=summary,
        caches=caches,
        reference=reference,
        mismatches=mismatches,
        failures=failures,
        extra=args.verify_arg,
        policy=args.policy,
    )
    table = SCRUB(table)
    print(table)
    if args.output is not None:
        args.output.write_text(table, encoding="utf-8")
        log(f"wrote {args.output}")
    for failure in [*mismatches, *failures]:
        log(f"FAILED: {failure}")
    return 1 if failures or mismatches else 0


def compare_trees(
    trees: dict[str, list[frozenset[tuple[str, str]] | None]],
    reference: frozenset[tuple[str, str]] | None,
) -> list[str]:
    """Every environment whose distributions differ from the first pip one's."""
    if reference is None:
        return ["no pip environment could be listed"]
    problems = []
    for tool, listed in trees.items():
        for n, tree in enumerate(listed):
            which = "warm-up" if n == 0 else f"run {n}"
            if tree is None:
                problems.append(f"{tool} {which}: pip list failed")
            elif tree != reference:
                only_here = sorted(f"{a}=={b}" for a, b in tree - reference)
                missing = sorted(f"{a}=={b}" for a, b in reference - tree)
                problems.append(
                    f"{tool} {which}: installed differs from pip's: extra {only_here or '-'}, "
                    f"missing {missing or '-'}"
                )
    return problems


def render(
    *,
    requirements: Path,
    env: dict[str, str],
    measurements: tuple[Measurement, Measurement, Measurement, Measurement, Measurement],
    summary: dict[str, Any] | None,
    caches: dict[str, tuple[int, int]],
    reference: frozenset[tuple[str, str]] | None,
    mismatches: list[str],
    failures: list[str],
    extra: list[str],
    policy: Path | None,
) -> str:
    pip_warm, verify_warm, startup, pip_warmup, verify_warmup = measurements
    python = sys.executable
    verify_version = tool_version([python, "-m", "verify", "--version"], env)
    pip_version = tool_version([python, "-m", "pip", "--version"], env).split(" from ")[0]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## pip-verify install benchmark, {now}",
        "",
        f"- platform: `{platform.platform()}`, {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{pip_version}, {verify_version}",
        f"- requirements: `{requirements.name}`; "
        + (f"{len(reference)} distributions installed" if reference else "tree unknown"),
        "- policy: "
        + (
            f"`{policy.name}`"
            if policy
            else 'the default (`extends = "default"`; `vulnerability` and '
            "`provenance-required` restated as warn)"
        )
        + (f"; extra pip-verify arguments: `{' '.join(extra)}`" if extra else ""),
    ]
    if summary is not None:
        warned = ", ".join(f"{rule} {n}" for rule, n in sorted(summary["warned"].items()))
        lines.append(
            f"- pip-verify (last run): {summary['packages']} packages, {summary['files']} files "
            f"({summary['verified']} hash-verified), {summary['bytes']:,} bytes; decision "
            f"`{summary['decision']}`, complete `{summary['complete']}`; "
            f"warnings by rule: {warned or 'none'}"
        )
    if caches:
        lines.append(
            "- caches after the warm-up runs: "
            + "; ".join(f"{name} {n} files, {mib(size)}" for name, (n, size) in caches.items())
        )
    lines += [
        "",
        "| measurement | runs | exit | median s | vs pip install |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    floor = pip_warm.median if pip_warm.runs else 0.0
    for m in (pip_warm, verify_warm, startup, pip_warmup, verify_warmup):
        if not m.runs:
            lines.append(f"| {m.label} | 0 | - | - | - |")
            continue
        lines.append(
            f"| {m.label} | {len(m.runs)} | {m.exit_codes} | {m.median:.2f} | "
            f"{ratio(m.median, floor)} |"
        )
    if verify_warm.runs and startup.runs:
        beyond = verify_warm.median - startup.median
        lines.append(f"| pip-verify warm minus start-up | | | {beyond:.2f} | |")
    if mismatches:
        lines.append("| **WARNING: installed distributions differ (see below)** | | | | |")
    if pip_warm.runs and verify_warm.runs:
        r = verify_warm.median / floor if floor > 0 else float("inf")
        met = "**met**" if r <= TARGET_RATIO else "**not met**"
        lines += [
            "",
            f"pip-verify / pip, warm: **{r:.2f}x**; target <= {TARGET_RATIO}x: {met}.",
        ]
    lines += ["", "Commands:", ""]
    lines += [f"- {m.label}: `{m.command}`" for m in (pip_warm, verify_warm, startup)]
    lines += ["", "Runs (s):", ""]
    lines += [f"- {m.label}: {m.seconds}" for m in (pip_warm, verify_warm, startup) if m.runs]
    if mismatches:
        lines += ["", "**Installed distributions differ:**", "", "```", *mismatches, "```"]
    if failures:
        lines += ["", "**Failures:**", "", "```", *failures, "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
