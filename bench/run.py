"""Run every benchmark in bench/ (``make bench``); exits non-zero if one fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench .venv/bin/python bench/run.py

Each benchmark is a script run in its own process with the same environment;
extra arguments are passed to every one of them (e.g. ``--runs 31``). The
benchmarks in ``NEEDS_DATABASE`` need DATABASE_URL pointing at PostgreSQL;
without it they are skipped (and the run exits 2), the others still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCHES = [
    "subtree.py",
    "recognition_pages.py",
    "decisions.py",
    "rollups.py",
    "dashboard.py",
    "reports.py",
    "imports.py",
    "reorganisation.py",
]
NEEDS_DATABASE = {
    "subtree.py",
    "recognition_pages.py",
    "rollups.py",
    "dashboard.py",
    "reports.py",
    "imports.py",
    "reorganisation.py",
}


def main(argv: list[str]) -> int:
    skipped: list[str] = []
    if not os.environ.get("DATABASE_URL"):
        skipped = [script for script in BENCHES if script in NEEDS_DATABASE]
        print(
            f"skipping {', '.join(skipped)}: they need DATABASE_URL pointing at PostgreSQL, "
            "e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench make bench\n",
            file=sys.stderr,
        )
    failed: list[str] = []
    for script in BENCHES:
        if script in skipped:
            continue
        print(f"==> bench/{script}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(  # noqa: S603 - our own scripts, no shell
            [sys.executable, str(BENCH_DIR / script), *argv], cwd=BENCH_DIR.parent
        )
        print(f"<== bench/{script}: exit {code} in {time.perf_counter() - started:.1f} s\n")
        if code:
            failed.append(script)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    if skipped:
        print("skipped (no DATABASE_URL): " + ", ".join(skipped), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
