#!/usr/bin/env python3
"""Detection benchmark: recall on real malware, false positives on popular releases, speed,
side by side with GuardDog.

Four sets, each judged the way the product judges it:

* ``malicious``: the files of the malicious corpus (a tar with ``MANIFEST.json``), each
  screened as a first upload (``run_screen`` offline, no baseline, default policy). Caught =
  the verdict is deny by a rule about what the content does: a deny only for the file's form
  (``FORM_RULES``: a file name no index takes, a tar without its end marker) is counted apart,
  as is an archive pip-verify refuses to read at all (``ArchiveError``, "refused
  unreadable"); neither is caught.
* ``sdist`` and ``wheel``: the newest sdist and the newest wheel (the one this machine would
  install, else any) of the most downloaded projects, screened the same way: what the upload
  gate sees for a first upload. Flagged = deny, or any high or critical finding.
* ``pair``: the newest wheel (else sdist) of the top projects diffed against the baseline
  ``check`` would choose (``diff_distributions``), decided by the default policy's behaviour
  rule (``behaviour_reasons``). Flagged as above.

Splits: a malicious file is ``tune`` when the first byte of its sha256 is even, a benign
project when the first byte of sha256(name) is; ``--split`` picks which is reported.

Downloads go through pip's default index (isolated pip configuration) into a content store
under ``--cache-dir`` and are not timed. The analysis runs in a process pool (``--jobs``).
GuardDog runs from its own virtualenv under the cache dir, one ``guarddog pypi scan FILE``
per file. Index and file host names never appear in the output.

    PYTHONPATH=. python bench/bench_detection.py [--split tune|holdout|all] [--jobs N]
        [--top 500] [--pairs-top 300] [--guarddog-sample N | --no-guarddog]
        [--output FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import SCRUB, isolated_env, log, timed, tool_version
from packaging.tags import Tag
from releases import final_releases

from verify import __version__
from verify._behaviour.baseline import choose_baseline
from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.review import baseline_request, behaviour_reasons
from verify._checks.typosquat import PopularNames
from verify._fetch.fetch import Fetcher
from verify._fetch.store import ContentStore
from verify._index.client import IndexClient
from verify._index.config import pip_default_index
from verify._index.session import HttpSession
from verify._resolve.select import select_installable, supported_tags
from verify.errors import ArchiveError, UsageError, VerifyError
from verify.models import Decision, Finding, IndexFile, Report
from verify.policy import Policy, load_policy
from verify.screen import ScreenSettings, run_screen
from verify.settings import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    NetworkSettings,
    VerificationSettings,
)

MB = 1_000_000
REPO = Path(__file__).resolve().parent.parent
SETS = ("malicious", "sdist", "wheel", "pair")
LABELS = {
    "malicious": "malicious corpus",
    "sdist": "benign first upload, sdist",
    "wheel": "benign first upload, wheel",
    "pair": "benign update pair",
}
QUIET = ("--disable-pip-version-check",)
SEVERITY_RANK = {s: i for i, s in enumerate(("info", "low", "medium", "high", "critical"))}


def isolate_pip_config() -> None:
    """Drop every ``PIP_*`` variable and point pip at no configuration file."""
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        del os.environ[key]
    os.environ["PIP_CONFIG_FILE"] = os.devnull


def split_of_sha256(sha256: str) -> str:
    return "tune" if int(sha256[:2], 16) % 2 == 0 else "holdout"


def split_of_name(name: str) -> str:
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "holdout"


def wanted(which: str, split: str) -> bool:
    return split == "all" or which == split


# -- samples and verdicts (picklable: they cross the process pool) ---------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One file to judge; with ``old_path``, a release pair to diff."""

    set: str
    name: str
    filename: str
    path: Path
    sha256: str
    size: int
    upload_time: datetime | None = None
    old_path: Path | None = None
    old_filename: str | None = None
    old_upload_time: datetime | None = None
    baseline_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    severity: str
    rule: str
    path: str | None
    line: int | None
    message: str

    @property
    def where(self) -> str:
        return (self.path or "-") + (f":{self.line}" if self.line else "")


@dataclass(frozen=True, slots=True)
class Verdict:
    """pip-verify's verdict on one sample."""

    sample: Sample
    #: ``allow``/``warn``/``deny``; refused before any analysis: ``unreadable``
    #: (ArchiveError) or ``refused`` (other invalid input); ``error``: a bug.
    decision: str
    findings: tuple[Hit, ...] = ()
    deny_rules: tuple[str, ...] = ()
    analysed_bytes: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def high(self) -> tuple[Hit, ...]:
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= 3)

    @property
    def flagged(self) -> bool:
        """Caught (malicious: a deny on its content) or a false positive (benign: a deny, a
        high finding, or a refusal, since the upload gate would turn the file away too)."""
        if self.sample.set == "malicious":
            return self.decision == "deny"
        return self.decision in ("deny", "unreadable", "refused") or bool(self.high)

    def strongest(self) -> Hit | None:
        return max(self.findings, key=lambda f: SEVERITY_RANK[f.severity], default=None)


def _hits(findings: Iterable[Finding]) -> tuple[Hit, ...]:
    return tuple(Hit(f.severity.value, f.rule, f.path, f.line, f.message) for f in findings)


# -- the worker side: the product's decision on one sample -----------------------------------

_POLICY: Policy | None = None
_POPULAR: PopularNames | None = None


def _policy() -> Policy:
    global _POLICY
    if _POLICY is None:
        _POLICY = load_policy()  # the embedded default policy
    return _POLICY


def _popular() -> PopularNames:
    global _POPULAR
    if _POPULAR is None:
        _POPULAR = PopularNames.load()
    return _POPULAR


def init_worker() -> None:
    """Load what every judgement needs once per worker, so no file pays for it: the policy,
    the popular-names index, and the imports a first screen makes (a tiny wheel)."""
    isolate_pip_config()
    _policy()
    _popular()
    with tempfile.TemporaryDirectory(prefix="bench-detection-warm-") as tmp:
        wheel = Path(tmp) / "warmup-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("warmup/__init__.py", "VALUE = 1\n")
            archive.writestr("warmup-1.0.dist-info/METADATA", "Name: warmup\nVersion: 1.0\n")
            archive.writestr("warmup-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
            archive.writestr("warmup-1.0.dist-info/RECORD", "")
        sample = Sample("sdist", "warmup", wheel.name, wheel, "", wheel.stat().st_size)
        judge(sample)


def ready(_number: int) -> None:
    """A task that keeps its worker busy long enough for every worker to start."""
    time.sleep(0.3)


def judge(sample: Sample) -> Verdict:
    """pip-verify's verdict on ``sample``; never raises (a failure is an ``error`` verdict)."""
    start = time.perf_counter()
    try:
        return _diff_pair(sample) if sample.old_path is not None else _screen(sample)
    except ArchiveError as exc:
        return Verdict(sample, "unreadable", seconds=_since(start), error=exc.one_line())
    except UsageError as exc:  # exit 2 in the CLI, e.g. a name that is no distribution's
        return Verdict(sample, "refused", seconds=_since(start), error=exc.one_line())
    except Exception as exc:  # a bug in the analysis must not end the run
        return Verdict(sample, "error", seconds=_since(start), error=f"{type(exc).__name__}: {exc}")


def _since(start: float) -> float:
    return time.perf_counter() - start


def _screen(sample: Sample) -> Verdict:
    """``pip-verify screen FILE --offline --no-public-check --no-record``: a first upload."""
    with tempfile.TemporaryDirectory(prefix="bench-detection-screen-") as tmp:
        settings = ScreenSettings(
            files=(sample.path,),
            public_index_urls=(),
            verification=VerificationSettings(record=False, trust_store=Path(tmp) / "trust.toml"),
            network=NetworkSettings(offline=True, cache_dir=Path(tmp) / "cache", jobs=1),
        )
        start = time.perf_counter()
        report = run_screen(settings, policy=_policy())
        seconds = _since(start)
    return _from_report(sample, report, seconds)


def _from_report(sample: Sample, report: Report, seconds: float) -> Verdict:
    packages = report.packages
    reasons = [r for p in packages for r in p.reasons]
    errors = "; ".join(f"{e.kind}: {e.message}" for e in report.errors) or None
    return Verdict(
        sample,
        report.decision.value,
        findings=_hits(f for p in packages for f in p.findings),
        deny_rules=tuple(sorted({r.rule for r in reasons if r.decision is Decision.DENY})),
        analysed_bytes=sum(b.analysed_bytes for p in packages for b in p.behaviour),
        seconds=seconds,
        error=errors,
    )


def _diff_pair(sample: Sample) -> Verdict:
    """The behaviour diff ``check`` makes of an update, decided by the default policy."""
    assert sample.old_path is not None
    assert sample.old_filename is not None
    start = time.perf_counter()
    diff = diff_distributions(
        DistFile(sample.path, sample.filename, sample.upload_time),
        DistFile(sample.old_path, sample.old_filename, sample.old_upload_time),
        baseline_reason=sample.baseline_reason or "",
        popular=_popular(),
    )
    reasons = behaviour_reasons(diff, _policy(), sample.name)
    decision = Decision.worst(r.decision for r in reasons)
    seconds = _since(start)
    return Verdict(
        sample,
        decision.value,
        findings=_hits(diff.findings),
        deny_rules=tuple(sorted({r.rule for r in reasons if r.decision is Decision.DENY})),
        analysed_bytes=diff.analysed_bytes,
        seconds=seconds,
    )


@dataclass
class SetRun:
    verdicts: list[Verdict]
    wall: float
    jobs: int


def analyse(pool: ProcessPoolExecutor, samples: Sequence[Sample], jobs: int) -> SetRun:
    """Judge every sample in the pool; largest first, so a big file does not end the run
    alone. Results come back in the order given."""
    order = sorted(range(len(samples)), key=lambda i: -samples[i].size)
    start = time.perf_counter()
    futures = {pool.submit(judge, samples[i]): i for i in order}
    verdicts: list[Verdict | None] = [None] * len(samples)
    for done, future in enumerate(as_completed(futures), 1):
        verdicts[futures[future]] = future.result()
        if done % 200 == 0:
            log(f"  {done}/{len(samples)} in {_since(start):.0f} s")
    wall = _since(start)
    return SetRun([v for v in verdicts if v is not None], wall, jobs)


# -- gathering the samples ------------------------------------------------------------------


@dataclass
class Gathered:
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {s: [] for s in SETS})
    #: Files over --max-size, by set.
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)
    #: Projects without such a file (no sdist, no wheel, no baseline), by set.
    missing: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SETS})
    errors: list[str] = field(default_factory=list)
    projects: int = 0
    pair_projects: int = 0


def malicious_samples(root: Path, split: str, max_bytes: int, gathered: Gathered) -> None:
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        sha256, rel, size = str(entry["sha256"]), str(entry["path"]), int(entry["size"])
        if not wanted(split_of_sha256(sha256), split):
            continue
        if size > max_bytes:
            gathered.skipped["malicious"] += 1
            continue
        path = root / rel
        gathered.samples["malicious"].append(
            Sample("malicious", rel.split("/", 1)[0], path.name, path, sha256, size)
        )


def top_names(path: Path, count: int) -> list[str]:
    names: list[str] = []
    if count < 1:
        return names
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
        if len(names) == count:
            break
    return names


def newest_files(
    files: Sequence[IndexFile], tags: Sequence[Tag]
) -> tuple[IndexFile | None, IndexFile | None]:
    """The newest final sdist, and the newest final wheel this machine would install (else
    the newest release's first wheel by name)."""
    releases = final_releases(files)
    order = sorted(releases, reverse=True)
    sdist = next(
        (e for v in order for e in releases[v] if e.filename.endswith((".tar.gz", ".zip"))), None
    )
    wheel: IndexFile | None = None
    for version in order:
        wheels = [e for e in releases[version] if e.filename.endswith(".whl")]
        chosen = select_installable([e.filename for e in wheels], tags)
        if chosen:
            wheel = next(e for e in wheels if e.filename == chosen[0])
            break
    if wheel is None:
        any_wheels = (
            sorted((e for e in releases[v] if e.filename.endswith(".whl")), key=_filename)
            for v in order
        )
        wheel = next((found[0] for found in any_wheels if found), None)
    return sdist, wheel


def _filename(entry: IndexFile) -> str:
    return entry.filename


@dataclass(frozen=True, slots=True)
class Planned:
    """What one project contributes, before download."""

    name: str
    sdist: IndexFile | None
    wheel: IndexFile | None
    pair_new: IndexFile | None = None
    pair_old: IndexFile | None = None
    baseline_reason: str | None = None
    no_pair: str | None = None


def plan_project(client: IndexClient, name: str, tags: Sequence[Tag], pair: bool) -> Planned:
    pages = client.pages(name)
    for page in pages:
        for entry in page.files:
            SCRUB.add(entry.url, "[file host]")
            break
    files = [entry for page in pages for entry in page.files]
    sdist, wheel = newest_files(files, tags)
    if not pair:
        return Planned(name, sdist, wheel)
    new = wheel or sdist
    if new is None:
        return Planned(name, sdist, wheel, no_pair="no final release with a file")
    choice = choose_baseline(files, new.filename)
    if choice.entry is None:
        return Planned(name, sdist, wheel, no_pair=f"no baseline ({choice.reason})")
    return Planned(name, sdist, wheel, new, choice.entry, choice.reason)


def benign_samples(args: argparse.Namespace, gathered: Gathered) -> None:
    """Plan every wanted project from the index, then fetch what it needs (untimed)."""
    top = top_names(args.names, max(args.top, args.pairs_top))
    pair_names = set(top[: args.pairs_top])
    names = [n for n in top if wanted(split_of_name(n), args.split)]
    gathered.projects = sum(1 for n in names if n in top[: args.top])
    gathered.pair_projects = sum(1 for n in names if n in pair_names)
    tags = supported_tags()
    max_bytes = int(args.max_size * MB)
    index_url = pip_default_index()
    SCRUB.add(index_url, "[index host]")
    cache_dir: Path = args.cache_dir
    with HttpSession(
        cache_dir=cache_dir / "http", timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES
    ) as session:
        client = IndexClient(session, [index_url])

        def plan(name: str) -> Planned | str:
            try:
                return plan_project(client, name, tags, name in pair_names)
            except VerifyError as exc:
                return f"{name}: {exc.one_line()}"

        log(f"reading {len(names)} project pages")
        with ThreadPoolExecutor(max_workers=8) as threads:
            plans = list(threads.map(plan, names))
        wants: list[tuple[str, Planned, IndexFile, IndexFile | None]] = []
        in_top = set(top[: args.top])
        for planned in plans:
            if isinstance(planned, str):
                gathered.errors.append(planned)
                continue
            if planned.name in in_top:
                for kind, entry in (("sdist", planned.sdist), ("wheel", planned.wheel)):
                    if entry is None:
                        gathered.missing[kind].append(planned.name)
                    else:
                        wants.append((kind, planned, entry, None))
            if planned.name in pair_names:
                if planned.pair_new is None:
                    gathered.missing["pair"].append(f"{planned.name}: {planned.no_pair}")
                else:
                    wants.append(("pair", planned, planned.pair_new, planned.pair_old))
        kept = []
        for kind, planned, entry, old in wants:
            sizes = [e.size or 0 for e in (entry, old) if e is not None]
            if max(sizes) > max_bytes:
                gathered.skipped[kind] += 1
            else:
                kept.append((kind, planned, entry, old))
        unique = {
            e.filename: e for _k, _p, entry, old in kept for e in (entry, old) if e is not None
        }
        fetcher = Fetcher(session, ContentStore(cache_dir / "files"), jobs=8)
        fetched: dict[str, tuple[Path | None, str, str | None]] = {}
        entries = list(unique.values())
        for start in range(0, len(entries), 50):
            batch = entries[start : start + 50]
            for result in fetcher.fetch_all([baseline_request(e) for e in batch]):
                fetched[result.request.filename] = (result.path, result.sha256 or "", result.error)
            log(f"fetched {min(start + 50, len(entries))}/{len(entries)} files")
    for kind, planned, entry, old in kept:
        path, sha256, error = fetched[entry.filename]
        old_path, _old_sha, old_error = fetched[old.filename] if old else (None, "", None)
        if path is None or (old is not None and old_path is None):
            gathered.errors.append(f"{planned.name} ({kind}): {error or old_error}")
            continue
        size = path.stat().st_size
        if size > max_bytes:
            gathered.skipped[kind] += 1
            continue
        gathered.samples[kind].append(
            Sample(
                kind,
                planned.name,
                entry.filename,
                path,
                sha256,
                size,
                upload_time=entry.upload_time,
                old_path=old_path,
                old_filename=old.filename if old else None,
                old_upload_time=old.upload_time if old else None,
                baseline_reason=planned.baseline_reason if old else None,
            )
        )


# -- GuardDog --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuardDogResult:
    sha256: str
    #: At least one issue in its JSON (``issues`` > 0, or a non-empty ``results`` entry).
    flagged: bool = False
    issues: int = 0
    #: Its risk label (``no_risks_detected``, ``low``, ``suspicious``, ``high_risk``).
    label: str | None = None
    rules: tuple[str, ...] = ()
    seconds: float = 0.0
    timeout: bool = False
    error: str | None = None

    @property
    def suspicious(self) -> bool:
        return self.label in ("suspicious", "high_risk")


def guarddog_executable(cache_dir: Path) -> Path:
    """GuardDog in its own virtualenv under the cache dir (never a pip-verify dependency)."""
    venv = cache_dir / "guarddog-venv"
    exe = venv / "bin" / "guarddog"
    if not exe.exists():
        log(f"installing GuardDog into {venv}")
        env = isolated_env()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *QUIET, "guarddog"],
            check=True,
            env=env,
        )
    return exe


def guarddog_scan(exe: Path, sample: Sample, timeout: float, env: dict[str, str]) -> GuardDogResult:
    command = [str(exe), "pypi", "scan", str(sample.path), "--output-format", "json"]
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return GuardDogResult(sample.sha256, seconds=_since(start), timeout=True)
    seconds = _since(start)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return GuardDogResult(
            sample.sha256, seconds=seconds, error=f"exit {proc.returncode}: {tail[:200]}"
        )
    results = data.get("results") or {}
    rules = tuple(sorted(rule for rule, hits in results.items() if hits))
    issues = int(data.get("issues") or 0)
    errors = data.get("errors") or {}
    risk = data.get("risk_score") or {}
    return GuardDogResult(
        sample.sha256,
        flagged=issues > 0 or bool(rules),
        issues=issues,
        label=risk.get("label") if isinstance(risk, dict) else None,
        rules=rules,
        seconds=seconds,
        error="; ".join(f"{k}: {v}"[:200] for k, v in errors.items()) or None,
    )


@dataclass
class GuardDogRun:
    version: str
    results: dict[str, GuardDogResult]
    #: Per set: the samples it was asked about, the files scanned anew, wall seconds.
    sets: dict[str, tuple[list[Sample], int, float]]


def run_guarddog(
    args: argparse.Namespace, subsets: dict[str, list[Sample]], jobs: int
) -> GuardDogRun:
    exe = guarddog_executable(args.cache_dir)
    env = isolated_env()
    version = tool_version([str(exe), "--version"], env)
    results: dict[str, GuardDogResult] = {}
    sets: dict[str, tuple[list[Sample], int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-detection-guarddog-") as tmp:
        env["TMPDIR"] = tmp  # whatever it unpacks goes away with the run
        for kind in SETS:
            todo = list({s.sha256: s for s in subsets[kind] if s.sha256 not in results}.values())
            log(f"GuardDog: {kind}, {len(todo)} files ({jobs} at a time)")
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=jobs) as threads:
                scans = threads.map(
                    lambda s: guarddog_scan(exe, s, args.guarddog_timeout, env), todo
                )
                for done, result in enumerate(scans, 1):
                    results[result.sha256] = result
                    if done % 50 == 0:
                        log(f"  {done}/{len(todo)} in {_since(start):.0f} s")
            sets[kind] = (subsets[kind], len(todo), _since(start))
    return GuardDogRun(version, results, sets)


def sample_subset(samples: Sequence[Sample], count: int | None) -> list[Sample]:
    """The first ``count`` samples by sha256 (all of them without a count)."""
    ordered = sorted(samples, key=lambda s: s.sha256)
    return ordered if count is None else ordered[:count]


# -- the report --------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "n/a"


def speed_row(label: str, run: SetRun) -> str:
    verdicts = run.verdicts
    n = len(verdicts)
    analysed = sum(v.analysed_bytes for v in verdicts)
    per_file = 1000 * statistics.fmean(v.seconds for v in verdicts) if verdicts else 0.0
    rate = f"{analysed / MB / run.wall:.1f}" if run.wall > 0 else "n/a"
    files_s = f"{n / run.wall:.1f}" if run.wall > 0 else "n/a"
    return (
        f"| {label} | {n} | {analysed / MB:.1f} | {run.wall:.1f} | {rate} | {per_file:.0f} "
        f"| {files_s} |"
    )


#: Findings about a file's form (its name, its archive's end), not about what its code does.
FORM_RULES = frozenset({"filename-invalid", "archive-unterminated"})


def denied_for_form_only(verdict: Verdict) -> bool:
    """Denied, but by no rule other than the file's form: not caught by its content."""
    return verdict.decision == "deny" and set(verdict.deny_rules) <= FORM_RULES


def counted(verdict: Verdict, kind: str) -> bool:
    """Caught (malicious: by its content) or flagged (benign: by anything)."""
    return verdict.flagged and not (kind == "malicious" and denied_for_form_only(verdict))


def detection_rows(runs: dict[str, SetRun]) -> list[str]:
    rows = [
        "| set | files | pip-verify deny | of which for the file's form only "
        "| flagged (deny or high/critical) | rate "
        "| refused unreadable | refused, other invalid input | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in SETS:
        verdicts = runs[kind].verdicts
        n = len(verdicts)
        deny = sum(1 for v in verdicts if v.decision == "deny")
        form_only = sum(1 for v in verdicts if denied_for_form_only(v))
        flagged = sum(1 for v in verdicts if v.flagged)
        unreadable = sum(1 for v in verdicts if v.decision == "unreadable")
        refused = sum(1 for v in verdicts if v.decision == "refused")
        errors = sum(1 for v in verdicts if v.decision == "error")
        caught = sum(1 for v in verdicts if counted(v, kind))
        rate = ("recall (content) " if kind == "malicious" else "FP ") + pct(caught, n)
        rows.append(
            f"| {LABELS[kind]} | {n} | {deny} | {form_only} | {flagged} | {rate} | {unreadable} "
            f"| {refused} | {errors} |"
        )
    return rows


def rule_rows(runs: dict[str, SetRun]) -> list[str]:
    high: dict[str, collections.Counter[str]] = {}
    medium: dict[str, collections.Counter[str]] = {}
    for kind in SETS:
        high[kind] = collections.Counter()
        medium[kind] = collections.Counter()
        for v in runs[kind].verdicts:
            high[kind].update({f.rule for f in v.findings if SEVERITY_RANK[f.severity] >= 3})
            medium[kind].update({f.rule for f in v.findings if f.severity == "medium"})
    rules = sorted(
        {r for c in (*high.values(), *medium.values()) for r in c},
        key=lambda r: (-sum(high[k][r] for k in SETS), -sum(medium[k][r] for k in SETS), r),
    )
    rows = [
        "Files with at least one finding of the rule, high or above / medium only, per set.",
        "",
        "| rule | " + " | ".join(LABELS[k] for k in SETS) + " |",
        "| --- |" + " ---: |" * len(SETS),
    ]
    for rule in rules:
        cells = " | ".join(f"{high[k][rule]} / {medium[k][rule]}" for k in SETS)
        rows.append(f"| `{rule}` | {cells} |")
    return rows


def guarddog_rows(
    guard: GuardDogRun, runs: dict[str, SetRun], pool_rerun: dict[str, SetRun]
) -> list[str]:
    by_sha = {kind: {v.sample.sha256: v for v in runs[kind].verdicts} for kind in SETS}
    rows = [
        "| set | files | GuardDog flagged (>= 1 issue) | rate | risk suspicious or high "
        "| timeouts | errors | pip-verify flagged, same files | wall s | files/s "
        "| pip-verify files/s, same files | pip-verify / GuardDog speed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in SETS:
        samples, scanned, wall = guard.sets[kind]
        results = [guard.results[s.sha256] for s in samples]
        n = len(results)
        flagged = sum(1 for r in results if r.flagged)
        suspicious = sum(1 for r in results if r.suspicious)
        timeouts = sum(1 for r in results if r.timeout)
        errors = sum(1 for r in results if r.error)
        ours = sum(1 for s in samples if counted(by_sha[kind][s.sha256], kind))
        gd_rate = scanned / wall if wall > 0 and scanned else None
        rerun = pool_rerun.get(kind, runs[kind])
        pv_rate = len(rerun.verdicts) / rerun.wall if rerun.wall > 0 else None
        speed = f"{gd_rate:.2f}" if gd_rate else f"n/a ({n - scanned} reused)"
        ratio = f"{pv_rate / gd_rate:.1f}x" if pv_rate and gd_rate else "n/a"
        rows.append(
            f"| {LABELS[kind]} | {n} | {flagged} | {pct(flagged, n)} | {pct(suspicious, n)} "
            f"| {timeouts} | {errors} | {pct(ours, n)} | {wall:.1f} | {speed} "
            f"| {f'{pv_rate:.1f}' if pv_rate else 'n/a'} | {ratio} |"
        )
    return rows


REFUSED = ("unreadable", "refused", "error")
#: Findings listed per flagged benign file; the JSON has them all.
PER_FILE = 8


def triage(runs: dict[str, SetRun], show: int) -> list[str]:
    lines = ["### Benign files flagged (for triage)", ""]
    flagged = [v for k in SETS[1:] for v in runs[k].verdicts if v.flagged]
    if not flagged:
        lines.append("None.")
    for v in flagged[:show]:
        against = f" against {v.sample.old_filename}" if v.sample.old_filename else ""
        lines.append(f"- **{v.sample.name}** `{v.sample.filename}`{against} ({v.sample.set}):")
        if v.decision in REFUSED:
            lines.append(f"  - {v.decision}: {v.error}")
        shown = v.high or tuple(Hit("-", r, None, None, "denied") for r in v.deny_rules)
        lines += [f"  - {h.severity} `{h.rule}` `{h.where}`: {h.message}" for h in shown[:PER_FILE]]
        if len(shown) > PER_FILE:
            lines.append(f"  - ... and {len(shown) - PER_FILE} more")
    if len(flagged) > show:
        lines.append(f"- ... and {len(flagged) - show} more (see the JSON)")
    lines += ["", "### Malicious files missed", ""]
    verdicts = runs["malicious"].verdicts
    missed = [v for v in verdicts if not counted(v, "malicious") and v.decision not in REFUSED]
    lines.append(
        f"{len(missed)} analysed and not denied"
        + (f" (the first {show} by name)" if len(missed) > show else "")
        + "; refused before any analysis: "
        + ", ".join(f"{sum(1 for v in verdicts if v.decision == d)} {d}" for d in REFUSED)
        + " (listed in the JSON)."
    )
    lines.append("")
    for v in missed[:show]:
        top = v.strongest()
        what = f"{top.severity} `{top.rule}` `{top.where}`: {top.message}" if top else "no finding"
        lines.append(f"- `{v.sample.sha256[:16]}` {v.sample.name} ({v.decision}): {what}")
    return lines


@dataclass
class Outcome:
    args: argparse.Namespace
    gathered: Gathered
    runs: dict[str, SetRun]
    startup: dict[str, list[float]]
    seconds: float
    guard: GuardDogRun | None = None
    rerun: dict[str, SetRun] = field(default_factory=dict)
    #: Where the corpus was extracted: left out of the output.
    corpus_root: str = ""
    #: The machine's load average (1 min) when the run started and ended: other work skews
    #: the timings.
    load: tuple[float, float] = (0.0, 0.0)

    def clean(self, text: str) -> str:
        return SCRUB(text.replace(self.corpus_root + os.sep, "") if self.corpus_root else text)


def machine(guard: GuardDogRun | None) -> dict[str, Any]:
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "pip_verify": __version__,
        "guarddog": guard.version if guard else "not run",
        "index": "pip's default index (isolated pip configuration)",
    }


def render(info: dict[str, Any], out: Outcome) -> str:
    args, g, runs = out.args, out.gathered, out.runs
    skipped = ", ".join(f"{k} {g.skipped[k]}" for k in SETS if g.skipped[k]) or "none"
    missing = ", ".join(f"{k} {len(g.missing[k])}" for k in SETS if g.missing[k]) or "none"
    lines = [
        f"## Detection benchmark, {info['date']}",
        "",
        f"- machine: `{info['platform']}`, {info['cpus']} CPUs, Python {info['python']}; "
        f"load average {out.load[0]:.1f} at the start, {out.load[1]:.1f} at the end",
        f"- pip-verify {info['pip_verify']}, GuardDog {info['guarddog']}",
        f"- split: **{args.split}** (tune: first sha256 byte even, of the file for malware, "
        "of the project name for benign projects; holdout: odd)",
        f"- samples: {len(runs['malicious'].verdicts)} malicious files; benign: "
        f"{g.projects} of the top {args.top} projects, {g.pair_projects} of the top "
        f"{args.pairs_top} for pairs; index: {info['index']}",
        *(
            [f"- **--limit {args.limit}**: only the first files of each set by sha256"]
            if args.limit
            else []
        ),
        f"- over --max-size {args.max_size:g} MB, not analysed: {skipped}; projects without "
        f"such a file: {missing}; download errors: {len(g.errors)}",
        f"- verdicts: `run_screen` offline with the default policy (first uploads, malware); "
        f"`diff_distributions` + the default policy's behaviour rule (pairs); "
        f"{runs['malicious'].jobs} worker processes; wall time {out.seconds:.0f} s in all",
        "",
        "### Detection (pip-verify)",
        "",
        *detection_rows(runs),
        "",
        "Malicious: caught = deny on the content: a deny by the file's form alone "
        f"({', '.join(sorted(FORM_RULES))}) is counted apart, not as caught, as are files "
        "pip-verify refuses before any analysis (an archive it cannot read, ArchiveError; "
        "another invalid input; both exit 2 in the CLI). "
        "Benign: flagged = deny, any high or critical finding, or such a refusal.",
        "",
        "### Speed (pip-verify, the same calls as the verdicts)",
        "",
        "| set | files | analysed MB (uncompressed) | wall s | MB/s | ms/file (one worker) "
        "| files/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(speed_row(LABELS[k], runs[k]) for k in SETS),
        "",
    ]
    if out.guard is not None:
        sample = (
            f"the first {args.guarddog_sample} files of each set by sha256"
            if args.guarddog_sample
            else "every file"
        )
        lines += [
            "### GuardDog on the same files",
            "",
            f"GuardDog {out.guard.version}, `guarddog pypi scan FILE --output-format json`, "
            f"{sample}; {runs['malicious'].jobs} at a time, timeout {args.guarddog_timeout:g} s "
            "(a timeout counts as not flagged). For pairs GuardDog scans the new file alone "
            "(it has no diff); files it already scanned in another set are reused, not timed.",
            "",
            *guarddog_rows(out.guard, runs, out.rerun),
            "",
        ]
        timeouts = [
            s.name + " " + s.filename
            for samples, _n, _w in out.guard.sets.values()
            for s in samples
            if out.guard.results[s.sha256].timeout
        ]
        if timeouts:
            lines += ["GuardDog timed out on: " + ", ".join(sorted(set(timeouts))), ""]
    lines += ["### Findings by rule", "", *rule_rows(runs), ""]
    startup = out.startup
    lines += [
        "### Start-up (median of 5)",
        "",
        "| command | median s | runs |",
        "| --- | ---: | --- |",
        *(
            f"| `{label}` | {statistics.median(times):.3f} | "
            + ", ".join(f"{t:.2f}" for t in times)
            + " |"
            for label, times in startup.items()
        ),
        "",
        *triage(runs, args.show),
    ]
    if g.errors:
        lines += ["", "### Download errors", "", *(f"- {e}" for e in g.errors[: args.show])]
    return out.clean("\n".join(lines) + "\n")


def raw(info: dict[str, Any], out: Outcome) -> str:
    guard = out.guard.results if out.guard else {}
    files = []
    for kind in SETS:
        for v in out.runs[kind].verdicts:
            s = v.sample
            gd = guard.get(s.sha256)
            files.append(
                {
                    "sha256": s.sha256,
                    "name": s.name,
                    "filename": s.filename,
                    "set": kind,
                    "split": split_of_sha256(s.sha256)
                    if kind == "malicious"
                    else split_of_name(s.name),
                    "size": s.size,
                    "baseline": s.old_filename,
                    "verdict": v.decision,
                    "flagged": v.flagged,
                    "deny_rules": list(v.deny_rules),
                    "rules": sorted({f.rule for f in v.high}),
                    "findings": [asdict(f) for f in v.findings],
                    "analysed_bytes": v.analysed_bytes,
                    "seconds": v.seconds,
                    "error": v.error,
                    "guarddog": asdict(gd) if gd else None,
                }
            )
    data = {
        "machine": info,
        "arguments": {k: str(v) for k, v in vars(out.args).items()},
        "seconds": out.seconds,
        "load_average": out.load,
        "walls": {k: out.runs[k].wall for k in SETS},
        "skipped_over_max_size": dict(out.gathered.skipped),
        "missing": out.gathered.missing,
        "download_errors": out.gathered.errors,
        "startup": out.startup,
        "files": files,
    }
    return out.clean(json.dumps(data, indent=1)) + "\n"


# -- main -------------------------------------------------------------------------------


def startup_times(env: dict[str, str]) -> dict[str, list[float]]:
    commands = {
        "python -m verify --version": [sys.executable, "-m", "verify", "--version"],
        "python -m pip --version": [sys.executable, "-m", "pip", "--version"],
    }
    return {label: [timed(cmd, env).seconds for _ in range(5)] for label, cmd in commands.items()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Recall on real malware, false positives on popular releases, speed; "
        "side by side with GuardDog."
    )
    default_cache = Path.home() / ".cache" / "pip-verify-bench"
    parser.add_argument(
        "--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "malicious-train.tar"
    )
    parser.add_argument(
        "--names", type=Path, default=REPO.parent / "shared" / "data" / "top-pypi-names.txt"
    )
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="holdout")
    parser.add_argument("--top", type=int, default=500, help="first uploads: top N projects")
    parser.add_argument("--pairs-top", type=int, default=300, help="update pairs: top N")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache-dir", type=Path, default=default_cache)
    parser.add_argument("--max-size", type=float, default=60.0, help="skip files over N MB")
    parser.add_argument("--no-guarddog", action="store_true")
    parser.add_argument("--guarddog-sample", type=int, help="GuardDog on N files per set")
    parser.add_argument("--guarddog-timeout", type=float, default=120.0)
    parser.add_argument(
        "--limit", type=int, help="only the first N files of each set by sha256 (a quick try)"
    )
    parser.add_argument("--show", type=int, default=40, help="triage list lengths")
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument("--json", type=Path, help="write every per-file result here")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.top < 0 or args.pairs_top < 0:
        parser.error("--jobs must be at least 1, --top and --pairs-top at least 0")
    return args


def run_sets(
    samples: dict[str, list[Sample]],
    jobs: int,
    extra: Callable[[ProcessPoolExecutor], dict[str, SetRun]] | None = None,
) -> tuple[dict[str, SetRun], dict[str, SetRun]]:
    context = multiprocessing.get_context("spawn")  # no fork of a process that ran threads
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=init_worker) as pool:
        list(pool.map(ready, range(jobs)))  # every worker started and warmed, untimed
        runs = {}
        for kind in SETS:
            log(f"analysing {len(samples[kind])} files: {LABELS[kind]}")
            runs[kind] = analyse(pool, samples[kind], jobs)
        return runs, extra(pool) if extra else {}


def main(argv: list[str] | None = None) -> int:
    isolate_pip_config()
    args = parse_args(argv)
    if not args.corpus.is_file():
        print(f"bench_detection: no malicious corpus at {args.corpus} (pass --corpus)")
        return 2
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    begin = time.perf_counter()
    load_start = os.getloadavg()[0]
    gathered = Gathered()
    with tempfile.TemporaryDirectory(prefix="bench-detection-corpus-") as tmp:
        with tarfile.open(args.corpus) as tar:
            tar.extractall(tmp, filter="data")
        malicious_samples(Path(tmp), args.split, int(args.max_size * MB), gathered)
        benign_samples(args, gathered)
        if args.limit is not None:
            gathered.samples = {
                k: sample_subset(v, args.limit) for k, v in gathered.samples.items()
            }
        subsets = {k: sample_subset(gathered.samples[k], args.guarddog_sample) for k in SETS}
        sampled = args.guarddog_sample is not None and not args.no_guarddog

        def rerun(pool: ProcessPoolExecutor) -> dict[str, SetRun]:
            # pip-verify's speed on exactly the files GuardDog scans, for a like-for-like ratio
            return {k: analyse(pool, subsets[k], args.jobs) for k in SETS} if sampled else {}

        runs, again = run_sets(gathered.samples, args.jobs, rerun)
        guard = None if args.no_guarddog else run_guarddog(args, subsets, args.jobs)
        startup = startup_times(isolated_env())
        out = Outcome(args, gathered, runs, startup, _since(begin), guard, again, tmp)
    out.load = (load_start, os.getloadavg()[0])
    info = machine(guard)
    report = render(info, out)
    print(report)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
        log(f"wrote {args.output}")
    if args.json is not None:
        args.json.write_text(raw(info, out), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
