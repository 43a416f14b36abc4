"""Reads of decisions, their annex and certificates, scoped through units/selectors.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation

from recognition.models import Certificate, Decision, DecisionItem, DecisionStatus
from recognition.titles import Title
from units.selectors import parse_public_id, scope_queryset


def decisions_for_user(user: Any) -> QuerySet[Decision]:
    """Decisions issued by units in the user's subtrees."""
    return scope_queryset(
        Decision.objects.select_related("issuing_unit", "revokes"),
        user,
        unit_field="issuing_unit",
    )


def get_decision_for_user(user: Any, public_id: Any) -> Decision:
    decision = decisions_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if decision is None:
        raise Http404
    return decision


def decision_items(decision: Decision) -> QuerySet[DecisionItem]:
    return decision.items.select_related("assessment", "nomination").order_by("position", "pk")


def certificate_for_token(token: str) -> Certificate | None:
    """The certificate with ``token`` (public verification); ``None`` if unknown."""
    if not token or len(token) > 64:
        return None
    return (
        Certificate.objects.select_related("item__decision", "item__decision__revoked_by")
        .filter(
            token=token, item__decision__status__in=[DecisionStatus.ISSUED, DecisionStatus.REVOKED]
        )
        .first()
    )


def certificate_docs(decision: Decision) -> list[Any]:
    """What each certificate of ``decision`` shows, in annex order (one query)."""
    from recognition.documents.certificates import CertificateDoc

    with translation.override("vi"):
        title_label = str(Title(decision.title).label) if decision.title else ""
    assert decision.issued_on is not None  # noqa: S101 — issued decisions have a date
    rows = (
        Certificate.objects.filter(item__decision=decision)
        .order_by("item__position", "item__pk")
        .values_list("token", "item__subject_name", "item__subject_kind", "item__address")
    )
    return [
        CertificateDoc(
            token=token,
            subject_name=name,
            subject_kind=kind,
            address=address,
            title_label=title_label,
            year=decision.year,
            agency=decision.agency,
            parent_agency=decision.parent_agency,
            place_name=decision.place_name,
            decision_reference=decision.reference,
            decision_date=decision.issued_on,
            signing_form=decision.signing_form,
            signer_collective=decision.signer_collective,
            signer_title=decision.signer_title,
            signer_name=decision.signer_name,
        )
        for token, name, kind, address in rows
    ]
