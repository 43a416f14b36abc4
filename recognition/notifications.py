"""E-mails of the dossier cycle (ARCHITECTURE.md; issue 4 §8).

* a dossier arrives: the reviewers of the reviewing unit (a reviewer role at
  that unit or above it);
* a dossier is returned or its review finished: the ward officials of the
  proposing unit, with the reasons given.

Services call :func:`notify_dossier` inside their transaction; the e-mail goes
through a Celery task enqueued with ``transaction.on_commit`` (in-process when
there is no broker), so a rolled-back action sends nothing. Sending is
idempotent: the audit event ``dossier.notified`` marks each (event, key), so a
retried task never sends twice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from core.audit import audit_record
from core.models import AuditEvent
from recognition.models import Assessment, AssessmentStatus, Dossier
from recognition.selectors.dossier import SUBJECT_RELATED
from units.models import AdministrativeUnit
from units.roles import Role

EVENTS = ("submitted", "returned", "reviewed")
#: Reasons listed in one e-mail; the page shows them all.
MAX_REASONS = 100


def _with_role_at_or_above(unit: AdministrativeUnit, role: str) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True,
            tenant_id=unit.tenant_id,
            role_assignments__role=role,
            role_assignments__unit_id__in=[*unit.ancestor_ids(), unit.pk],
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def reviewers_of(unit: AdministrativeUnit) -> QuerySet[User]:
    """Users holding the reviewer role at ``unit`` or above it."""
    return _with_role_at_or_above(unit, Role.REVIEWER)


def ward_officials_of(unit: AdministrativeUnit) -> QuerySet[User]:
    """Users holding the ward-official role over ``unit``."""
    return _with_role_at_or_above(unit, Role.WARD_OFFICIAL)


def notify_dossier(*, dossier: Dossier, event: str, key: str, base_url: str = "") -> None:
    """Enqueue the e-mail of ``event`` once the current transaction commits."""
    from recognition.tasks import send_dossier_notification

    if event not in EVENTS:
        raise ValueError(event)
    dossier_id = dossier.pk
    transaction.on_commit(lambda: send_dossier_notification.delay(dossier_id, event, key, base_url))


def _link(base_url: str, path: str) -> str:
    """An absolute link: the request's own address, else the SITE_URL setting."""
    base = base_url or settings.SITE_URL
    return base.rstrip("/") + path


@transaction.atomic
def dossier_notification_send(*, dossier_id: int, event: str, key: str, base_url: str = "") -> int:
    """Send the e-mails of one dossier event; returns how many were sent.

    Safe to run twice: the dossier row is locked while the ``dossier.notified``
    marker for ``key`` is checked and written.
    """
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("proposing_unit", "reviewing_unit", "tenant")
        .filter(pk=dossier_id)
        .first()
    )
    if dossier is None or event not in EVENTS:
        return 0
    already = AuditEvent.objects.filter(
        object_type="recognition.dossier",
        object_id=str(dossier.public_id),
        action="dossier.notified",
        after__key=key,
    ).exists()
    if already:
        return 0
    if event == "submitted":
        recipients = list(reviewers_of(dossier.reviewing_unit))
        path = reverse("recognition:review-detail", kwargs={"public_id": dossier.public_id})
    else:
        recipients = list(ward_officials_of(dossier.proposing_unit))
        path = reverse("recognition:dossier-detail", kwargs={"public_id": dossier.public_id})
    reasons = []
    more_reasons = 0
    if event != "submitted":
        decided = (
            Assessment.objects.filter(
                dossier=dossier,
                status__in=[AssessmentStatus.RETURNED, AssessmentStatus.REJECTED],
            )
            .exclude(return_reason="")
            .select_related(*SUBJECT_RELATED)
            .order_by("status", "pk")
        )
        shown = list(decided[:MAX_REASONS])
        reasons = [(str(a.registration.subject), a) for a in shown]
        more_reasons = max(0, decided.count() - len(shown)) if len(shown) == MAX_REASONS else 0
    counts = dict(
        Assessment.objects.filter(dossier=dossier)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    base_context: dict[str, Any] = {
        "dossier": dossier,
        "link": _link(base_url, path),
        "returned_reasons": [r for r in reasons if r[1].status == AssessmentStatus.RETURNED],
        "rejected_reasons": [r for r in reasons if r[1].status == AssessmentStatus.REJECTED],
        "more_reasons": more_reasons,
        "approved": counts.get(AssessmentStatus.APPROVED, 0),
        "rejected": counts.get(AssessmentStatus.REJECTED, 0),
        "returned": counts.get(AssessmentStatus.RETURNED, 0),
        "submitted": counts.get(AssessmentStatus.SUBMITTED, 0),
    }
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for user in recipients:
            context = {**base_context, "user": user}
            subject = render_to_string(
                f"recognition/email/dossier_{event}_subject.txt", context
            ).strip()
            body = render_to_string(f"recognition/email/dossier_{event}_message.txt", context)
            messages.append(
                EmailMessage(
                    subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                    body=body,
                    to=[user.email],
                )
            )
    sent = get_connection().send_messages(messages) if messages else 0
    audit_record(
        actor=None,
        action="dossier.notified",
        obj=dossier,
        tenant=dossier.tenant,
        unit=dossier.reviewing_unit if event == "submitted" else dossier.proposing_unit,
        after={"event": event, "key": key, "recipients": len(messages)},
    )
    return sent or 0
