"""Benchmark: what kept file profiles save on the next release's diff.

Given three consecutive releases' files of one project (v1, v2, v3), diffs v2 against v1
with a fresh profile cache (what a check of v2 leaves behind), then v3 against v2 without
and with that cache (what the check of the next release does), and says whether the two
v3 diffs are equal. Runs in-process on local files, offline.

    PYTHONPATH=. python bench/bench_profiles.py V1 V2 V3 [--runs 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.profile_cache import ProfileCache
from verify._checks.typosquat import PopularNames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs=3, type=Path, help="v1, v2 and v3 of one project")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    popular = PopularNames.load()
    v1, v2, v3 = (DistFile(path, path.name) for path in args.files)
    without: list[float] = []
    kept: list[float] = []
    equal = True
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as scratch:
            cache = ProfileCache(Path(scratch))
            diff_distributions(v2, v1, popular=popular, profiles=cache)
            start = time.perf_counter()
            plain = diff_distributions(v3, v2, popular=popular)
            without.append(time.perf_counter() - start)
            start = time.perf_counter()
            again = diff_distributions(v3, v2, popular=popular, profiles=cache)
            kept.append(time.perf_counter() - start)
            equal = equal and plain == again
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{platform.platform()}`")
    print(
        f"{v3.filename} against {v2.filename}, median of {args.runs}: "
        f"{statistics.median(without):.2f} s without kept profiles, "
        f"{statistics.median(kept):.2f} s with those of the {v2.filename} check; "
        f"same diff: {equal}"
    )


if __name__ == "__main__":
    main()
