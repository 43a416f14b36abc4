"""Evidence files are checked by content: the bytes must be the kind the name says."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ImproperlyConfigured

from recognition.evidence_validation import (
    accept_attribute,
    allowed_kinds,
    check_evidence_file,
    max_megabytes,
)
from recognition.exceptions import EvidenceError
from tests.recognition.assessment_support import (
    DOCX,
    EXE,
    JPEG,
    PDF,
    PNG,
    XLSX,
    plain_zip,
    upload,
)


@pytest.mark.parametrize(
    ("name", "content", "kind", "content_type"),
    [
        ("Biên bản họp.pdf", PDF, "pdf", "application/pdf"),
        ("anh.JPG", JPEG, "jpeg", "image/jpeg"),
        ("anh.jpeg", JPEG, "jpeg", "image/jpeg"),
        ("so-do.png", PNG, "png", "image/png"),
        (
            "bao-cao.docx",
            DOCX,
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "bang-diem.xlsx",
            XLSX,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_each_accepted_kind_passes_with_its_real_content(name, content, kind, content_type):
    checked = check_evidence_file(upload(name, content, content_type="text/html"))
    assert checked.kind.code == kind
    assert checked.kind.content_type == content_type  # never the browser's claim
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.name == name


def test_a_pdf_header_after_a_few_junk_bytes_is_still_a_pdf():
    assert check_evidence_file(upload("a.pdf", b"\r\n" + PDF)).kind.code == "pdf"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("giay-khen.pdf", EXE),  # an .exe renamed .pdf
        ("anh.jpg", PNG),
        ("anh.png", JPEG),
        ("bao-cao.docx", XLSX),
        ("bang.xlsx", DOCX),
        ("bao-cao.docx", plain_zip()),
        ("bao-cao.docx", b"PK\x03\x04 not really a zip"),
        ("trang.pdf", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_content_that_is_not_what_the_extension_claims_is_refused(name, content):
    with pytest.raises(EvidenceError) as exc:
        check_evidence_file(upload(name, content))
    message = str(exc.value)
    assert name in message
    assert "không phải là tệp" in message  # Vietnamese


@pytest.mark.parametrize("name", ["virus.exe", "ghi-chu.txt", "khong-co-duoi", "anh.pdf.exe"])
def test_other_extensions_are_refused(name):
    with pytest.raises(EvidenceError) as exc:
        check_evidence_file(upload(name, PDF))
    assert "Không chấp nhận" in str(exc.value)
    assert "PDF, JPEG, PNG, DOCX, XLSX" in str(exc.value)


def test_an_oversized_file_is_refused_with_the_limit_in_mb(settings):
    settings.EVIDENCE_MAX_BYTES = 2 * 1024 * 1024 + 512 * 1024
    big = PDF + b"0" * settings.EVIDENCE_MAX_BYTES
    with pytest.raises(EvidenceError) as exc:
        check_evidence_file(upload("lon.pdf", big))
    assert "2,5 MB" in str(exc.value)
    exact = PDF + b"0" * (settings.EVIDENCE_MAX_BYTES - len(PDF))
    assert check_evidence_file(upload("vua.pdf", exact)).size == settings.EVIDENCE_MAX_BYTES


def test_an_empty_file_or_a_file_without_name_is_refused():
    with pytest.raises(EvidenceError, match="rỗng"):
        check_evidence_file(upload("trong.pdf", b""))
    with pytest.raises(EvidenceError):
        check_evidence_file(io.BytesIO(PDF), name="")


def test_a_plain_binary_file_object_works_too():
    checked = check_evidence_file(io.BytesIO(PNG), name="C:\\Users\\a\\anh.png")
    assert checked.name == "anh.png" and checked.size == len(PNG)


def test_the_setting_narrows_the_accepted_kinds(settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["pdf"]
    assert [k.code for k in allowed_kinds()] == ["pdf"]
    assert accept_attribute() == ".pdf"
    with pytest.raises(EvidenceError):
        check_evidence_file(upload("anh.png", PNG))


def test_an_unknown_kind_in_the_setting_is_a_configuration_error(settings):
    settings.EVIDENCE_ALLOWED_TYPES = ["pdf", "exe"]
    with pytest.raises(ImproperlyConfigured):
        allowed_kinds()


def test_max_megabytes(settings):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    assert max_megabytes() == "10"
    settings.EVIDENCE_MAX_BYTES = 1536 * 1024
    assert max_megabytes() == "1,5"
