"""Decision PDFs and certificates (issue 5's performance targets). No database.

    .venv/bin/python bench/decisions.py [--rows 5000] [--runs 7] [--certificates 1000] [--quick]

1. A decision with an N-row annex (default 5,000), rendered end to end by our
   renderer (WeasyPrint body + ReportLab annex + pypdf merge) and, beside it,
   the NAIVE rendering: the same decision with the annex as a plain bordered
   HTML table in one WeasyPrint document. Each runs in a fresh process (Django
   set up, fonts loaded cold, as the first job of a worker) that reports its
   render time and its peak RSS (``ru_maxrss``); the ratio is printed.
   Targets: ≤ 10 s and ≤ 1 GiB for 5,000 rows.
2. A one-page decision (no annex): median of ``--runs`` renders after a
   warm-up, in this process. Target ≤ 0.5 s.
3. 1,000 certificates with QR codes in one PDF. Target ≤ 60 s.

``--quick``: 1,000 rows, 3 runs, 200 certificates, and the naive rendering
of 1,000 rows only. Results also go to ``bench/out/decisions.json``.
The documents are the samples of ``recognition/documents/samples.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
OUT = BASE_DIR / "bench" / "out" / "decisions.json"
TARGET_ANNEX_S = 10.0
TARGET_ONE_PAGE_S = 0.5
TARGET_CERTIFICATES_S = 60.0
GIB = 1024**3


def _setup() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # WeasyPrint's per-render hints


def child(mode: str, rows: int) -> None:
    """Run in a fresh process: render once, print one JSON line."""
    import resource

    _setup()
    from recognition.documents.decision_pdf import render_body, render_decision_pdf
    from recognition.documents.samples import sample_decision

    doc = sample_decision(rows)
    started = time.perf_counter()
    # naive: the whole annex as an HTML table in the one WeasyPrint document
    rendered = render_decision_pdf(doc) if mode == "ours" else render_body(doc, annex_rows=None)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_bytes": peak,
                "pages": rendered.page_count,
                "bytes": len(rendered.content),
            }
        )
    )


def in_child(mode: str, rows: int) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 — this script, no shell
        [sys.executable, __file__, "--child", mode, "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed_median(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up: fonts, templates, stylesheets
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="annex rows (default 5000)")
    parser.add_argument("--runs", type=int, default=None, help="one-page runs (default 7)")
    parser.add_argument("--certificates", type=int, default=None, help="default 1000")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive baseline")
    parser.add_argument("--child", choices=["ours", "naive"], help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)  # run.py passes its args to every bench
    rows = args.rows or (1000 if args.quick else 5000)
    if args.child:
        child(args.child, rows)
        return 0
    runs = args.runs or (3 if args.quick else 7)
    certificate_count = args.certificates or (200 if args.quick else 1000)

    results: dict[str, object] = {"rows": rows}
    failed = False

    print(f"Decision with a {rows:,}-row annex (fresh process each, fonts loaded cold)")
    ours = in_child("ours", rows)
    results["ours"] = ours
    print(
        f"  ours  (WeasyPrint body + ReportLab annex + merge): {ours['seconds']:6.2f} s, "
        f"peak RSS {ours['peak_rss_bytes'] / 2**20:5.0f} MiB, {ours['pages']:.0f} pages, "
        f"{ours['bytes'] / 2**20:.1f} MiB"
    )
    if not args.skip_naive:
        naive = in_child("naive", rows)
        results["naive"] = naive
        print(
            f"  naive (one WeasyPrint document, HTML table):      {naive['seconds']:6.2f} s, "
            f"peak RSS {naive['peak_rss_bytes'] / 2**20:5.0f} MiB, {naive['pages']:.0f} pages, "
            f"{naive['bytes'] / 2**20:.1f} MiB"
        )
        ratio = naive["seconds"] / ours["seconds"]
        results["ratio"] = ratio
        print(f"  ratio naive / ours: {ratio:.1f}x faster")
    if rows >= 5000:
        ok = ours["seconds"] <= TARGET_ANNEX_S and ours["peak_rss_bytes"] <= GIB
        failed |= not ok
        print(f"  target ≤ {TARGET_ANNEX_S:.0f} s and ≤ 1 GiB: {verdict(ok)}")

    _setup()
    from recognition.documents.certificates import render_certificates_pdf
    from recognition.documents.decision_pdf import render_decision_pdf
    from recognition.documents.samples import sample_certificates, sample_decision

    one_page = sample_decision(0)
    median = timed_median(lambda: render_decision_pdf(one_page), runs)
    results["one_page_median_s"] = median
    ok = median <= TARGET_ONE_PAGE_S
    failed |= not ok
    print(
        f"\nOne-page decision: median {median:.3f} s of {runs} runs after a warm-up "
        f"(target ≤ {TARGET_ONE_PAGE_S} s: {verdict(ok)})"
    )

    certs = sample_certificates(certificate_count)
    started = time.perf_counter()
    rendered = render_certificates_pdf(certs, verify_base_url="https://xhht.example.gov.vn")
    seconds = time.perf_counter() - started
    results["certificates"] = {
        "count": certificate_count,
        "seconds": seconds,
        "bytes": len(rendered.content),
    }
    line = (
        f"\n{certificate_count:,} certificates with QR codes: {seconds:.2f} s "
        f"({rendered.page_count} pages, {len(rendered.content) / 2**20:.1f} MiB)"
    )
    if certificate_count >= 1000:
        ok = seconds <= TARGET_CERTIFICATES_S
        failed |= not ok
        line += f" (target ≤ {TARGET_CERTIFICATES_S:.0f} s: {verdict(ok)})"
    print(line)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {OUT.relative_to(BASE_DIR)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
