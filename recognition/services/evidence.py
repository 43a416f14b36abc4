"""Evidence files (minh chứng) per indicator of a self-assessment.

Files are checked by content (recognition/evidence_validation.py), stored
through ``default_storage`` under an opaque name (``evidence/<tenant>/<hex>``
below MEDIA_ROOT, outside the web root) with their SHA-256, and served only by
the scoped download views. They may be added or removed only while the
assessment is editable and the deadline lock is open.
"""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.text import nfc
from recognition.evidence_validation import check_evidence_file
from recognition.exceptions import EvidenceError
from recognition.models import Assessment, Evidence
from recognition.services.assessment import indicator_by_public_id, lock_for_edit

#: How many files one indicator may carry.
MAX_FILES_PER_INDICATOR = 20


def _safe_name(name: str, limit: int = 255) -> str:
    """The original name, NFC and at most ``limit`` characters, extension kept."""
    name = nfc(name).replace("/", "_").replace("\\", "_") or "file"
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        return name[:limit]
    return stem[: limit - len(ext) - 1] + "." + ext


@transaction.atomic
def evidence_upload(
    *, actor: Any, assessment: Assessment, indicator_public_id: Any, file: Any
) -> Evidence:
    """Attach a file to one indicator of the assessment, or raise
    :class:`EvidenceError` (wrong kind, content not matching the extension,
    too large, empty) changing nothing."""
    locked = lock_for_edit(actor=actor, assessment=assessment)
    if file is None:
        raise EvidenceError(_("Choose a file to upload."))
    indicator = indicator_by_public_id(locked, indicator_public_id)
    if indicator is None:
        raise EvidenceError(_("Choose the indicator the file supports."))
    if (
        Evidence.objects.filter(assessment=locked, indicator=indicator).count()
        >= MAX_FILES_PER_INDICATOR
    ):
        raise EvidenceError(
            _("Indicator %(code)s already has %(n)s files: remove one before adding another.")
            % {"code": indicator.code, "n": MAX_FILES_PER_INDICATOR}
        )
    checked = check_evidence_file(file)
    evidence = Evidence(
        tenant=locked.tenant,
        assessment=locked,
        indicator=indicator,
        original_name=_safe_name(checked.name),
        content_type=checked.kind.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    file.seek(0)
    content = file if isinstance(file, File) else File(file, name=checked.name)
    evidence.file.save(evidence.public_id.hex, content, save=False)
    stored = evidence.file.name or ""
    try:
        evidence.save()
        audit_record(
            actor=actor,
            action="assessment.evidence_upload",
            obj=locked,
            tenant=locked.tenant,
            unit=locked.unit,
            after={
                "indicator": indicator.code,
                "file": evidence.original_name,
                "size": evidence.size,
                "sha256": evidence.sha256,
            },
        )
    except Exception:
        default_storage.delete(stored)
        raise
    return evidence


@transaction.atomic
def evidence_delete(*, actor: Any, evidence: Evidence) -> None:
    """Remove a file while the assessment is editable; the stored file goes
    once the transaction commits (a rollback keeps it)."""
    locked = lock_for_edit(actor=actor, assessment=evidence.assessment)
    row = Evidence.objects.select_related("indicator").get(pk=evidence.pk, assessment=locked)
    stored = row.file.name or ""
    code = row.indicator.code if row.indicator else ""
    name = row.original_name
    row.delete()
    audit_record(
        actor=actor,
        action="assessment.evidence_delete",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.unit,
        before={"indicator": code, "file": name},
    )
    transaction.on_commit(lambda: default_storage.delete(stored))
