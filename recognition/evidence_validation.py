"""Evidence files (minh chứng) are checked by their content, not by their name.

An upload is accepted only when its extension names an allowed kind *and* its
bytes are that kind: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (the 8-byte
signature), DOCX and XLSX (Office Open XML: a ZIP archive holding
``[Content_Types].xml`` and a ``word/`` or ``xl/`` part). An ``.exe`` renamed
``.pdf`` or a spreadsheet renamed ``.docx`` is refused with a message that says
what the file really is not. The browser-sent content type is never trusted;
the stored content type is the one of the detected kind.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from recognition.exceptions import EvidenceError

#: How many leading bytes the signatures need.
HEAD_BYTES = 1024
#: A DOCX/XLSX archive with more entries than this is not an office document
#: we accept (protects the check itself from pathological archives).
MAX_ZIP_ENTRIES = 5000


def _is_pdf(head: bytes, file: IO[bytes]) -> bool:
    # ISO 32000: the header may follow a few bytes of junk within the first 1024.
    return b"%PDF-" in head[:HEAD_BYTES]


def _is_jpeg(head: bytes, file: IO[bytes]) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_png(head: bytes, file: IO[bytes]) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _zip_names(head: bytes, file: IO[bytes]) -> list[str] | None:
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return None
            return [info.filename for info in infos]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)


def _ooxml(part: str) -> Callable[[bytes, IO[bytes]], bool]:
    def check(head: bytes, file: IO[bytes]) -> bool:
        names = _zip_names(head, file)
        if names is None or "[Content_Types].xml" not in names:
            return False
        return any(name.startswith(part) for name in names)

    return check


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    extensions: tuple[str, ...]
    content_type: str
    matches: Callable[[bytes, IO[bytes]], bool]


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("pdf", "PDF", ("pdf",), "application/pdf", _is_pdf),
        Kind("jpeg", "JPEG", ("jpg", "jpeg"), "image/jpeg", _is_jpeg),
        Kind("png", "PNG", ("png",), "image/png", _is_png),
        Kind(
            "docx",
            "DOCX",
            ("docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            _ooxml("word/"),
        ),
        Kind(
            "xlsx",
            "XLSX",
            ("xlsx",),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            _ooxml("xl/"),
        ),
    )
}


def allowed_kinds() -> list[Kind]:
    """The kinds ``settings.EVIDENCE_ALLOWED_TYPES`` accepts, in that order."""
    codes = [c.strip().lower() for c in settings.EVIDENCE_ALLOWED_TYPES if c.strip()]
    unknown = [c for c in codes if c not in KINDS]
    if unknown:
        raise ImproperlyConfigured(
            f"EVIDENCE_ALLOWED_TYPES: unknown kinds {unknown}; known: {sorted(KINDS)}"
        )
    return [KINDS[c] for c in codes]


def allowed_extensions() -> list[str]:
    return [ext for kind in allowed_kinds() for ext in kind.extensions]


def accept_attribute() -> str:
    """For ``<input type=file accept=…>``: a hint to the browser, never a check."""
    return ",".join(f".{ext}" for ext in allowed_extensions())


def max_megabytes() -> str:
    """The size limit in MB for messages ("10", "2,5")."""
    value = settings.EVIDENCE_MAX_BYTES / (1024 * 1024)
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _extension(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


@dataclass(frozen=True)
class CheckedFile:
    kind: Kind
    size: int
    sha256: str
    name: str


def check_evidence_file(file: Any, *, name: str | None = None) -> CheckedFile:
    """Check an uploaded file (a Django ``UploadedFile`` or any seekable binary
    file with ``size``) or raise :class:`EvidenceError` with a Vietnamese message.

    Order: a name and a size are needed, the size within the limit, the
    extension one of the allowed kinds, and the content that kind.
    """
    name = (name if name is not None else getattr(file, "name", "")) or ""
    base_name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base_name:
        raise EvidenceError(_("The file has no name."))
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    if size == 0:
        raise EvidenceError(_("The file “%(name)s” is empty.") % {"name": base_name})
    if size > settings.EVIDENCE_MAX_BYTES:
        raise EvidenceError(
            _("The file “%(name)s” is larger than the limit of %(limit)s MB.")
            % {"name": base_name, "limit": max_megabytes()}
        )
    kinds = allowed_kinds()
    ext = _extension(base_name)
    kind = next((k for k in kinds if ext in k.extensions), None)
    if kind is None:
        raise EvidenceError(
            _("Files of type “.%(ext)s” are not accepted. Accepted: %(allowed)s.")
            % {
                "ext": ext or "?",
                "allowed": ", ".join(k.label for k in kinds),
            }
        )
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not kind.matches(head, file):
        raise EvidenceError(
            _(
                "The content of “%(name)s” is not a %(kind)s file, although its name "
                "ends in “.%(ext)s”. Upload the real document."
            )
            % {"name": base_name, "kind": kind.label, "ext": ext}
        )
    digest = hashlib.sha256()
    file.seek(0)
    chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b"")
    for chunk in chunks:
        digest.update(chunk)
    file.seek(0)
    return CheckedFile(kind=kind, size=int(size), sha256=digest.hexdigest(), name=base_name)
