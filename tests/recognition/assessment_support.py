"""Helpers for the self-assessment tests: real file contents of every accepted
kind (and fakes), and a small scored world built on the fixed cast."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.models import Assessment, Registration
from recognition.services import assessment as services
from recognition.titles import SubjectKind, Title
from tests.conftest import Cast

YEAR = 2025

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def _ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<document/>")
    return buffer.getvalue()


DOCX = _ooxml("word/")
XLSX = _ooxml("xl/")


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def start(cast: Cast, registration: Registration, actor: Any = None) -> Assessment:
    return services.assessment_start(actor=actor or cast.ward_official, registration=registration)


def ids_by_code(assessment: Assessment) -> dict[str, str]:
    """Indicator code -> public id (as text) of the assessment's set."""
    return {
        s.indicator.code: str(s.indicator.public_id)
        for s in assessment.scores.select_related("indicator")
    }


def save(
    cast: Cast, assessment: Assessment, by_code: dict[str, Any], actor: Any = None
) -> Assessment:
    assessment.refresh_from_db()
    ids = ids_by_code(assessment)
    return services.assessment_save_scores(
        actor=actor or cast.ward_official,
        assessment=assessment,
        expected_version=assessment.version,
        values={ids[code]: value for code, value in by_code.items()},
    )


def register_community(cast: Cast, ward: Any = None, year: int = YEAR) -> Registration:
    """The ward itself registered for Cộng đồng học tập (commune level)."""
    ward = ward or cast.ward
    return Registration.objects.create(
        tenant=ward.tenant,
        unit=ward,
        proposing_unit=ward,
        title=Title.COMMUNITY,
        year=year,
        subject_kind=SubjectKind.UNIT,
        subject_unit=ward,
        registered_by=cast.ward_official,
    )
