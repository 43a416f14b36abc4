"""Erasing a person's data on request, keeping the legal record anonymised.

Luật 91/2025/QH15 gives the data subject the right to have their data erased;
the recognition of a household or citizen is at the same time a legal record
(a signed decision and its annex), which is kept, anonymised:

* the household's head name, code and address, or the citizen's full name, year
  of birth and ID number (with its blind index) are replaced by a placeholder
  or cleared; the record becomes inactive and can no longer be edited,
  registered or erased again (``erased_at``);
* the evidence files of its assessments are deleted (rows now, files after the
  transaction commits, so a failure leaves everything as it was);
* registrations, assessments and scores stay (title, year, unit, result: the
  statistics and the campaign's history), and so do the annex lines of the
  decisions that recognised it, with the anonymised name and no code or
  address; the public certificate check then shows the anonymised name;
* issued decision PDFs are NOT changed: a signed decision is an administrative
  document (Nghị định 30/2020/NĐ-CP) that cannot be altered after issue and
  must be archived; keeping it falls under the exception for data whose
  keeping another law requires (UNCERTAIN: which article of Luật 91/2025/QH15
  states it; the deployment's legal adviser should confirm). Access to the PDFs
  stays restricted to the scoped users;
* the audit trail is append-only and keeps what it recorded at the time
  (ID numbers there were already masked); the access log never held names.

Only a tenant administrator over the person's unit erases, with the request's
reason and reference; it is one transaction, audited and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.text import nfc
from recognition.models import (
    AccessAction,
    Citizen,
    DecisionItem,
    Evidence,
    Household,
    Registration,
)
from recognition.personal_data.access_log import PERSON_MODELS, access_log_record
from recognition.personal_data.exceptions import (
    ErasureNotAllowedError,
    ErasureRequestError,
    SubjectErasedError,
)
from recognition.selectors.subjects import search_text_for
from units.roles import Role
from units.selectors import roles_at

#: The placeholder that replaces a name ("Erased on request …"); stored data, in Vietnamese.
ERASED_NAME = "Đã xoá theo yêu cầu {reference}"
#: The placeholder of retention (no request: the retention period ended).
RETAINED_NAME = "Đã ẩn danh do hết thời hạn lưu trữ"


@dataclass
class ErasureResult:
    subject: Any
    evidence_files: int
    decision_items: int


def can_erase(user: Any, subject: Any) -> bool:
    """Only a tenant administrator over the person's unit answers erasure requests."""
    return Role.TENANT_ADMIN in roles_at(user, subject.unit)


def _delete_files(names: list[tuple[Any, str | None]]) -> None:
    for storage, name in names:
        if name:
            storage.delete(name)


def anonymise(subject: Any, *, placeholder: str) -> ErasureResult:
    """Anonymise a locked household or citizen (the caller holds the transaction)."""
    from reports.services import rollup_subject_changed  # lazy: import cycle

    kind = PERSON_MODELS[type(subject)]
    registrations = Registration.objects.filter(**{kind: subject})
    evidence = Evidence.objects.filter(assessment__registration__in=registrations)
    files = [(e.file.storage, e.file.name) for e in evidence.only("file")]
    evidence_count = evidence.delete()[1].get(Evidence._meta.label, 0)
    transaction.on_commit(lambda: _delete_files(files))

    if isinstance(subject, Household):
        subject.head_name = placeholder[:200]
        subject.code = f"XOA-{subject.public_id.hex[:12]}"
        subject.address = ""
    else:
        subject.full_name = placeholder[:200]
        subject.birth_year = None
        subject.national_id = ""  # clears the blind index too
    was_active = subject.is_active
    subject.is_active = False
    subject.erased_at = timezone.now()
    subject.version += 1
    subject.search_text = search_text_for(kind, subject)
    subject.save()
    if was_active:
        rollup_subject_changed(subject=subject, delta=-1)

    items = DecisionItem.objects.filter(assessment__registration__in=registrations)
    item_count = items.update(subject_name=placeholder[:300], subject_code="", address="")
    return ErasureResult(subject=subject, evidence_files=evidence_count, decision_items=item_count)


@transaction.atomic
def person_erase(
    *, actor: Any, subject: Household | Citizen, reason: str, reference: str, request: Any = None
) -> ErasureResult:
    """Erase a household head's or citizen's personal data on their request."""
    if not can_erase(actor, subject):
        raise ErasureNotAllowedError()
    reason, reference = nfc(reason), nfc(reference)
    if not reason or not reference:
        raise ErasureRequestError()
    if len(reference) > 100:
        raise ErasureRequestError(_("The request's reference is at most 100 characters."))
    locked = type(subject)._default_manager.select_for_update().get(pk=subject.pk)
    if locked.erased_at is not None:
        raise SubjectErasedError()
    locked.unit = subject.unit
    result = anonymise(locked, placeholder=ERASED_NAME.format(reference=reference))
    kind = PERSON_MODELS[type(locked)]
    audit_record(
        actor=actor,
        action=f"{kind}.erase",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.unit,
        before={"erased_at": None},
        after={
            "erased_at": locked.erased_at.isoformat() if locked.erased_at else None,
            "reason": reason,
            "reference": reference,
            "evidence_files": result.evidence_files,
            "decision_items": result.decision_items,
        },
    )
    access_log_record(
        actor=actor,
        action=AccessAction.ERASE,
        tenant=locked.tenant_id,
        subject=locked,
        fields=_erased_fields(kind),
        detail={
            "reason": reason,
            "reference": reference,
            "evidence_files": result.evidence_files,
            "decision_items": result.decision_items,
        },
        request=request,
    )
    return result


def _erased_fields(kind: str) -> list[str]:
    if kind == "household":
        return ["code", "head_name", "address", "evidence_files", "annex_lines"]
    return ["full_name", "birth_year", "national_id", "evidence_files", "annex_lines"]
