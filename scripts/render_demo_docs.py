"""Render the sample decision and a certificate to PNG for docs/decisions/.

    .venv/bin/python scripts/render_demo_docs.py [--out docs/decisions] [--rows 40] [--dpi 70]

Needs ``pdftoppm`` (poppler-utils). Writes the PNGs (and with --keep-pdf the
PDFs): pages 1 and 2 of the decision, the first annex page and the page after
it (header row repeated), and a certificate. No database:
the documents are the samples of ``recognition/documents/samples.py``
(DỮ LIỆU MẪU: UBND Quận 10, households of Phường 5).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def png(pdf: Path, page: int, target: Path, dpi: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp, "page")
        subprocess.run(  # noqa: S603 — fixed arguments, no shell
            [
                shutil.which("pdftoppm") or "pdftoppm",
                "-r",
                str(dpi),
                "-png",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        shutil.move(f"{stem}.png", target)
    print(f"{target} ({target.stat().st_size // 1024} KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "docs" / "decisions")
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--dpi", type=int, default=70)
    parser.add_argument("--keep-pdf", action="store_true", help="also keep the PDFs in --out")
    args = parser.parse_args()

    import django

    django.setup()
    from recognition.documents.certificates import render_certificates_pdf
    from recognition.documents.decision_pdf import render_body, render_decision_pdf
    from recognition.documents.samples import sample_certificates, sample_decision

    args.out.mkdir(parents=True, exist_ok=True)
    doc = sample_decision(args.rows)
    body_pages = render_body(doc).page_count
    decision = render_decision_pdf(doc)
    certificates = render_certificates_pdf(
        sample_certificates(1), verify_base_url="https://xhht.example.gov.vn"
    )
    with tempfile.TemporaryDirectory() as tmp:
        pdf_dir = args.out if args.keep_pdf else Path(tmp)
        decision_pdf = pdf_dir / "decision.pdf"
        decision_pdf.write_bytes(decision.content)
        certificate_pdf = pdf_dir / "certificate.pdf"
        certificate_pdf.write_bytes(certificates.content)
        print(f"decision: {decision.page_count} pages ({body_pages} body)")
        # Page 1; page 2 (the body's second page, or the first annex page when
        # the body fits on one page); the first annex page continued on the
        # next page (its header row repeated).
        pages = {1, 2, body_pages + 1, body_pages + 2}
        for page in sorted(p for p in pages if p <= decision.page_count):
            png(decision_pdf, page, args.out / f"decision-page-{page}.png", args.dpi)
        png(certificate_pdf, 1, args.out / "certificate.png", args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
