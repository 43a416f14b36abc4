"""Recognition decisions: draft, annex, issue (numbered, rendered, recognising), revoke.

* A draft is prefilled from the issuer's profile (agency block, symbol, signer,
  standing legal bases) and the criteria set's legal basis (RULES.md §6.3,
  "Căn cứ …"); everything stays editable until it is issued.
* The annex is built from **approved items of reviewed dossiers** under the
  issuing unit, with filters.
* Issuing (a Celery job, :func:`decision_issue_run`) renders the PDF with the
  next number, then in ONE transaction locks the issuer's counter, checks the
  number is still the next one (else renders again), stores the PDF, marks the
  decision issued and every annexed item recognised (transitions with audit
  events). Anything failing — a storage outage included — rolls all of it
  back: no number is used, nothing is recognised, and the job can be retried.
  Numbers are therefore unique and gap-free per issuer and year (NĐ 30/2020,
  Điều 8 khoản c: "Số, ký hiệu của văn bản"; RULES.md §6.1–6.2).
* An issued decision never changes. A later decision revokes it
  (:func:`revocation_create`); issuing that one sets the first "revoked" and
  its items approved again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.jobs import job_attach, job_create, job_progress
from core.models import Job, JobStatus
from core.text import nfc, nfc_lines
from recognition.exceptions import DecisionError, RoleNotAllowedError
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CriteriaSet,
    Decision,
    DecisionCounter,
    DecisionItem,
    DecisionKind,
    DecisionStatus,
    DossierStatus,
    IssuerProfile,
    SetStatus,
    SigningForm,
)
from recognition.titles import TITLE_SUBJECT, SubjectKind, Title
from recognition.transitions import (
    ASSESSMENT_TRANSITIONS,
    DECISION_TRANSITIONS,
    REVIEWER,
    apply_transition,
    apply_transition_many,
)
from units.models import AdministrativeUnit
from units.selectors import public_id_or_none, roles_at

S = DecisionStatus

#: Written in articles, summary and annex heading; replaced by the annex count.
COUNT_PLACEHOLDER = "{số lượng}"
#: Subjects that receive a certificate (Giấy công nhận).
CERTIFICATE_KINDS = frozenset({SubjectKind.HOUSEHOLD, SubjectKind.CLAN, SubjectKind.CITIZEN})
#: How often an issue re-renders when another decision took its number meanwhile.
MAX_NUMBER_RACES = 5

EDITABLE_FIELDS: tuple[str, ...] = (
    "parent_agency",
    "agency",
    "symbol",
    "place_name",
    "issued_on",
    "summary",
    "authority",
    "legal_bases",
    "articles",
    "signing_form",
    "signer_collective",
    "signer_title",
    "signer_name",
    "recipients",
    "annex_title",
)

SYMBOL_RE = re.compile(r"^[A-ZĐ][A-Za-zĐđ0-9]*(-[A-ZĐ][A-Za-zĐđ0-9&]*)+$")

SUBJECT_PLURAL: dict[str, str] = {
    SubjectKind.HOUSEHOLD: "hộ gia đình",
    SubjectKind.CLAN: "dòng họ",
    SubjectKind.UNIT: "đơn vị",
    SubjectKind.ORGANISATION: "đơn vị",
    SubjectKind.CITIZEN: "công dân",
}


# --- Permissions -------------------------------------------------------------------


def require_issuer(actor: Any, unit: AdministrativeUnit) -> None:
    """Reviewers (and tenant administrators) of the issuing unit draft and issue."""
    if actor is not None and not (roles_at(actor, unit) & REVIEWER):
        raise RoleNotAllowedError()


# --- The issuer's profile and the draft's prefill ----------------------------------


def _upper(text: str) -> str:
    return nfc(text).upper()


def issuer_profile_for(unit: AdministrativeUnit) -> IssuerProfile:
    """The unit's saved profile, or sensible defaults derived from its name
    (an ``ỦY BAN NHÂN DÂN`` signing ``TM.`` by its chairman; RULES.md §6.3)."""
    saved = IssuerProfile.objects.filter(unit=unit).first()
    if saved is not None:
        return saved
    name = _upper(unit.name)
    return IssuerProfile(
        tenant_id=unit.tenant_id,
        unit=unit,
        # An Ủy ban nhân dân writes no parent agency line (e.g. "ỦY BAN NHÂN DÂN
        # QUẬN 11" alone, RULES.md §6.3); a Phòng GD&ĐT writes its UBND above it.
        parent_agency="",
        agency=f"ỦY BAN NHÂN DÂN {name}",
        authority=f"ỦY BAN NHÂN DÂN {name}",
        symbol="QĐ-UBND",
        place_name=nfc(unit.name),
        legal_bases="Căn cứ Luật Tổ chức chính quyền địa phương",
        signing_form=SigningForm.TM,
        signer_collective="ỦY BAN NHÂN DÂN",
        signer_title="CHỦ TỊCH",
        signer_name="",
        recipients="Như Điều 3",
        executors="Chánh Văn phòng Ủy ban nhân dân, Thủ trưởng các cơ quan, đơn vị có liên quan",
        archive_code="VX",
    )


@transaction.atomic
def issuer_profile_save(
    *, actor: Any, unit: AdministrativeUnit, data: Mapping[str, Any]
) -> IssuerProfile:
    require_issuer(actor, unit)
    profile = issuer_profile_for(unit)
    before = {f: getattr(profile, f) for f in _PROFILE_FIELDS} if profile.pk else None
    for field in _PROFILE_FIELDS:
        if field in data:
            value = data[field]
            cleaned = (
                nfc_lines(value)
                if field in {"legal_bases", "recipients"}
                else nfc(str(value or ""))
            )
            setattr(profile, field, cleaned)
    _check_symbol(profile.symbol)
    profile.full_clean(exclude=["tenant", "unit"])
    profile.save()
    audit_record(
        actor=actor,
        action="issuer_profile.save",
        obj=profile,
        tenant=unit.tenant,
        unit=unit,
        before=before,
        after={f: getattr(profile, f) for f in _PROFILE_FIELDS},
    )
    return profile


_PROFILE_FIELDS: tuple[str, ...] = (
    "parent_agency",
    "agency",
    "authority",
    "symbol",
    "place_name",
    "legal_bases",
    "signing_form",
    "signer_collective",
    "signer_title",
    "signer_name",
    "recipients",
    "executors",
    "archive_code",
)


def _check_symbol(symbol: str) -> None:
    if not SYMBOL_RE.match(symbol):
        raise DecisionError(
            _(
                "The symbol “%(symbol)s” is not valid: write the type and the agency "
                "abbreviation joined by hyphens, without spaces, e.g. QĐ-UBND."
            )
            % {"symbol": symbol}
        )


def _criteria_basis(tenant_id: int, title: str, scope_level: str, year: int) -> list[str]:
    """The legal basis of the criteria set in force for the title and year."""
    criteria_set = (
        CriteriaSet.objects.filter(
            Q(tenant_id=tenant_id) | Q(tenant__isnull=True),
            title=title,
            status=SetStatus.PUBLISHED,
            year_from__lte=year,
        )
        .filter(Q(year_to__isnull=True) | Q(year_to__gte=year))
        .filter(Q(scope_level=scope_level) | Q(scope_level=""))
        # The tenant's own adaptation first, then the national set.
        .order_by(F("tenant_id").asc(nulls_last=True), "-year_from", "-version")
        .first()
    )
    if criteria_set is None:
        return []
    return [
        line if line.lower().startswith("căn cứ") else f"Căn cứ {line}"
        for line in (nfc(x).strip() for x in criteria_set.legal_basis.splitlines())
        if line
    ]


def _title_label(title: str) -> str:
    with translation.override("vi"):
        return str(Title(title).label)


def _prefill(
    *, profile: IssuerProfile, unit: AdministrativeUnit, title: str, scope_level: str, year: int
) -> dict[str, Any]:
    label = _title_label(title)
    plural = SUBJECT_PLURAL[TITLE_SUBJECT[title]]
    bases = [line.strip() for line in profile.legal_bases.splitlines() if line.strip()]
    bases += _criteria_basis(unit.tenant_id, title, scope_level, year)
    bases.append(f"Xét đề nghị của các đơn vị có hồ sơ đề nghị công nhận “{label}” năm {year}")
    executors = profile.executors or "Thủ trưởng các cơ quan, đơn vị có liên quan"
    recipients = [line.strip() for line in profile.recipients.splitlines() if line.strip()]
    recipients.append(f"Lưu: VT{', ' + profile.archive_code if profile.archive_code else ''}")
    return {
        "parent_agency": profile.parent_agency,
        "agency": profile.agency,
        "symbol": profile.symbol,
        "place_name": profile.place_name,
        "summary": f"Về việc công nhận danh hiệu “{label}” năm {year}",
        "authority": profile.authority,
        "legal_bases": "\n".join(bases),
        "articles": [
            f"Điều 1. Công nhận {COUNT_PLACEHOLDER} {plural} đạt danh hiệu “{label}” "
            f"năm {year} (có danh sách kèm theo).",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            f"Điều 3. {executors} và các {plural} có tên tại Điều 1 chịu trách nhiệm "
            "thi hành Quyết định này.",
        ],
        "signing_form": profile.signing_form,
        "signer_collective": profile.signer_collective,
        "signer_title": profile.signer_title,
        "signer_name": profile.signer_name,
        "recipients": "\n".join(recipients),
        "annex_title": f"DANH SÁCH {plural.upper()} ĐẠT DANH HIỆU “{label.upper()}” NĂM {year}",
    }


def _award_prefill(*, profile: IssuerProfile, year: int) -> dict[str, Any]:
    """An award decision (khen thưởng) of the emulation movement (QĐ 1315/QĐ-TTg,
    RULES.md §5): the forms of award are in the annex, one row per nominee."""
    movement = (
        "Phong trào thi đua “Cả nước thi đua xây dựng xã hội học tập, đẩy mạnh học tập "
        "suốt đời giai đoạn 2023 – 2030”"
    )
    bases = [line.strip() for line in profile.legal_bases.splitlines() if line.strip()]
    bases.append("Căn cứ Luật Thi đua, khen thưởng")
    bases.append("Xét đề nghị của Hội đồng Thi đua – Khen thưởng")
    recipients = [line.strip() for line in profile.recipients.splitlines() if line.strip()]
    recipients.append(f"Lưu: VT{', ' + profile.archive_code if profile.archive_code else ''}")
    executors = profile.executors or "Thủ trưởng các cơ quan, đơn vị có liên quan"
    return {
        "parent_agency": profile.parent_agency,
        "agency": profile.agency,
        "symbol": profile.symbol,
        "place_name": profile.place_name,
        "summary": f"Về việc khen thưởng tập thể, cá nhân có thành tích trong {movement} năm {year}",
        "authority": profile.authority,
        "legal_bases": "\n".join(bases),
        "articles": [
            f"Điều 1. Khen thưởng {COUNT_PLACEHOLDER} tập thể, cá nhân đã có thành tích "
            f"trong {movement} năm {year} (có danh sách và hình thức khen thưởng kèm theo).",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            f"Điều 3. {executors} và các tập thể, cá nhân có tên tại Điều 1 chịu trách nhiệm "
            "thi hành Quyết định này.",
        ],
        "signing_form": profile.signing_form,
        "signer_collective": profile.signer_collective,
        "signer_title": profile.signer_title,
        "signer_name": profile.signer_name,
        "recipients": "\n".join(recipients),
        "annex_title": f"DANH SÁCH TẬP THỂ, CÁ NHÂN ĐƯỢC KHEN THƯỞNG NĂM {year}",
    }


@transaction.atomic
def decision_create(
    *,
    actor: Any,
    issuing_unit: AdministrativeUnit,
    title: str,
    year: int,
    scope_level: str = "",
    kind: str = DecisionKind.RECOGNITION,
) -> Decision:
    """A new draft, prefilled for ``title`` and ``year`` (or, for an award
    decision, for the year's emulation awards)."""
    require_issuer(actor, issuing_unit)
    profile = issuer_profile_for(issuing_unit)
    if kind == DecisionKind.AWARD:
        title, scope_level = "", ""
        prefill = _award_prefill(profile=profile, year=year)
    else:
        if title not in Title.values:
            raise DecisionError(_("Choose a title."))
        prefill = _prefill(
            profile=profile, unit=issuing_unit, title=title, scope_level=scope_level, year=year
        )
    decision = Decision.objects.create(
        tenant_id=issuing_unit.tenant_id,
        issuing_unit=issuing_unit,
        kind=kind,
        title=title,
        scope_level=scope_level,
        year=year,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **prefill,
    )
    audit_record(
        actor=actor,
        action="decision.create",
        obj=decision,
        tenant=issuing_unit.tenant,
        unit=issuing_unit,
        after={"kind": kind, "title": title, "year": year},
    )
    return decision


def _lock_draft(decision: Decision, expected_version: int | None) -> Decision:
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    if locked.status != S.DRAFT:
        raise DecisionError(
            _("An issued decision cannot be changed. To correct it, issue a decision revoking it.")
        )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    if _active_issue(locked):
        raise DecisionError(_("This decision is being issued; wait until the job finishes."))
    return locked


def _active_issue(decision: Decision) -> bool:
    return Job.objects.filter(
        kind="decision.issue",
        object_type="recognition.decision",
        object_id=str(decision.public_id),
        status__in=[JobStatus.PENDING, JobStatus.RUNNING],
    ).exists()


def _clean_text(value: Any) -> str:
    return nfc(str(value or "")).strip()


#: Fields holding one entry per line (căn cứ, nơi nhận).
MULTILINE_FIELDS = frozenset({"legal_bases", "recipients"})


@transaction.atomic
def decision_update(
    *, actor: Any, decision: Decision, expected_version: int, data: Mapping[str, Any]
) -> Decision:
    """Edit a draft (optimistic concurrency: ``expected_version``)."""
    require_issuer(actor, decision.issuing_unit)
    locked = _lock_draft(decision, expected_version)
    changes: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "articles":
            if isinstance(value, str):
                value = [line for line in value.splitlines()]
            value = _articles(value)
        elif field == "issued_on":
            value = value or None
        elif field in MULTILINE_FIELDS:
            value = nfc_lines(value)
        elif field == "signing_form":
            value = _clean_text(value)
            if value not in SigningForm.values:
                raise DecisionError(_("Choose a signing form: TM., KT., Q., TL., TUQ. or none."))
        else:
            value = _clean_text(value)
        changes[field] = value
    if "symbol" in changes:
        _check_symbol(changes["symbol"])
    for required in ("agency", "symbol", "place_name", "summary", "authority"):
        if required in changes and not changes[required]:
            raise DecisionError(
                _("“%(field)s” cannot be empty.")
                % {"field": getattr(Decision._meta.get_field(required), "verbose_name", required)}
            )
    before = {k: _jsonable(getattr(locked, k)) for k in changes}
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save(update_fields=[*changes, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="decision.edit",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
        after={k: _jsonable(v) for k, v in changes.items()},
    )
    return locked


def _articles(lines: Iterable[Any]) -> list[str]:
    """One article per non-empty line, NFC; each must start with "Điều n."."""
    articles = [_clean_text(line) for line in lines if _clean_text(line)]
    for index, text in enumerate(articles, start=1):
        if not re.match(rf"^Điều {index}\.", text):
            raise DecisionError(
                _("Article %(n)s must start with “Điều %(n)s.”: “%(text)s”.")
                % {"n": index, "text": text[:60]}
            )
    if not articles:
        raise DecisionError(_("A decision needs at least one article."))
    return articles


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --- The annex ---------------------------------------------------------------------


def award_candidates(decision: Decision) -> QuerySet[Any]:
    """Approved nominations reviewed under the issuing unit for the decision's
    year, not yet in this decision."""
    from campaigns.models import Nomination, NominationStatus

    return Nomination.objects.filter(
        tenant_id=decision.tenant_id,
        status=NominationStatus.APPROVED,
        year=decision.year,
        reviewing_unit__path__startswith=decision.issuing_unit.path,
    ).exclude(decision_items__decision=decision)


def annex_candidates(decision: Decision) -> QuerySet[Any]:
    """Approved items of reviewed dossiers under the issuing unit, for the
    decision's title and year, not yet in this decision (for an award
    decision: :func:`award_candidates`)."""
    if decision.kind == DecisionKind.AWARD:
        return award_candidates(decision)
    unit = decision.issuing_unit
    qs = Assessment.objects.filter(
        tenant_id=decision.tenant_id,
        status=AssessmentStatus.APPROVED,
        dossier__status=DossierStatus.APPROVED,
        dossier__title=decision.title,
        dossier__year=decision.year,
        unit__path__startswith=unit.path,
    ).exclude(decision_items__decision=decision)
    if decision.scope_level:
        qs = qs.filter(dossier__scope_level=decision.scope_level)
    return qs


def filter_candidates(queryset: QuerySet[Any], filters: Mapping[str, Any]) -> QuerySet[Any]:
    """``proposing_unit`` / ``unit`` (public ids, subtree), ``dossier``, ``q`` (name or code)."""
    from core.text import fold

    ids = {
        key: (public_id_or_none(filters.get(key)) if filters.get(key) else None)
        for key in ("proposing_unit", "unit", "dossier")
    }
    if any(filters.get(key) and ids[key] is None for key in ids):
        return queryset.none()  # an unreadable id matches nothing
    if queryset.model._meta.label_lower == "campaigns.nomination":
        if ids["proposing_unit"]:
            queryset = queryset.filter(nominating_unit__public_id=ids["proposing_unit"])
        if filters.get("q"):
            needle = nfc(str(filters["q"]))
            queryset = queryset.filter(
                Q(person_name__icontains=needle)
                | Q(nominee_unit__name__icontains=needle)
                | Q(organisation__name__icontains=needle)
                | Q(household__head_name__icontains=needle)
            )
        return queryset
    if ids["proposing_unit"]:
        queryset = queryset.filter(dossier__proposing_unit__public_id=ids["proposing_unit"])
    if ids["unit"]:
        unit = AdministrativeUnit.objects.filter(public_id=ids["unit"]).first()
        queryset = queryset.filter(unit__path__startswith=unit.path) if unit else queryset.none()
    if ids["dossier"]:
        queryset = queryset.filter(dossier__public_id=ids["dossier"])
    if filters.get("q"):
        needle = fold(str(filters["q"]))
        queryset = queryset.filter(
            Q(registration__household__search_text__contains=needle)
            | Q(registration__clan__search_text__contains=needle)
            | Q(registration__organisation__search_text__contains=needle)
            | Q(registration__citizen__search_text__contains=needle)
            | Q(registration__subject_unit__search_name__contains=needle)
        )
    return queryset


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    """Public ids from a request; one unreadable id refuses the lot."""
    parsed = [public_id_or_none(v) for v in values]
    if any(p is None for p in parsed):
        raise DecisionError(_("Some of the selected items could not be read; reload the page."))
    return [p for p in parsed if p is not None]


_SNAPSHOT_FIELDS = (
    "pk",
    "registration__subject_kind",
    "registration__household__code",
    "registration__household__head_name",
    "registration__household__address",
    "registration__clan__name",
    "registration__clan__representative",
    "registration__organisation__name",
    "registration__organisation__address",
    "registration__citizen__full_name",
    "registration__citizen__birth_year",
    "registration__subject_unit__name",
    "registration__subject_unit__code",
    "unit__name",
    "final_total",
    "final_level",
    "final_grade",
    "self_total",
    "self_level",
)


def _result_text(total: Any, level: Any, grade: str) -> str:
    if level:
        return f"Mức độ {level}"
    if total is not None:
        points = f"{total:.2f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"Đạt {points} điểm"
    return grade or "Đạt"


def _snapshot_rows(assessment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The annex display fields of many assessments, from flat value queries."""
    rows: dict[int, dict[str, Any]] = {}
    for start in range(0, len(assessment_ids), 2000):
        chunk = assessment_ids[start : start + 2000]
        for values in Assessment.objects.filter(pk__in=chunk).values_list(*_SNAPSHOT_FIELDS):
            data = dict(zip(_SNAPSHOT_FIELDS, values, strict=True))
            kind = data["registration__subject_kind"]
            code, name, address = "", "", ""
            if kind == SubjectKind.HOUSEHOLD:
                code = data["registration__household__code"]
                name = data["registration__household__head_name"]
                address = data["registration__household__address"] or ""
            elif kind == SubjectKind.CLAN:
                name = f"Dòng họ {data['registration__clan__name']}"
                address = data["registration__clan__representative"] or ""
            elif kind == SubjectKind.ORGANISATION:
                name = data["registration__organisation__name"]
                address = data["registration__organisation__address"] or ""
            elif kind == SubjectKind.CITIZEN:
                name = data["registration__citizen__full_name"]
                code = str(data["registration__citizen__birth_year"] or "")
            else:
                name = data["registration__subject_unit__name"]
                code = data["registration__subject_unit__code"]
            total = data["final_total"] if data["final_total"] is not None else data["self_total"]
            level = data["final_level"] or data["self_level"]
            rows[data["pk"]] = {
                "subject_kind": kind,
                "subject_code": nfc(code or ""),
                "subject_name": nfc(name or ""),
                "address": nfc(address),
                "unit_name": nfc(data["unit__name"] or ""),
                "result": _result_text(total, level, data["final_grade"]),
            }
    return rows


@transaction.atomic
def annex_add(
    *,
    actor: Any,
    decision: Decision,
    filters: Mapping[str, Any] | None = None,
    assessment_ids: Iterable[Any] | None = None,
) -> int:
    """Add the matching candidates (all of them, or the given public ids) to
    the annex, ordered by unit and code. Returns how many were added."""
    require_issuer(actor, decision.issuing_unit)
    locked = _lock_draft(decision, None)
    candidates = filter_candidates(annex_candidates(locked), filters or {})
    if assessment_ids is not None:
        candidates = candidates.filter(public_id__in=_uuids(assessment_ids))
    if locked.kind == DecisionKind.AWARD:
        return _award_add(actor, locked, candidates)
    ids = list(
        candidates.order_by(
            "unit__sort_name", "registration__household__code", "registration_id"
        ).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    start = (locked.items.aggregate(m=Max("position"))["m"] or 0) + 1
    snapshot = _snapshot_rows(ids)
    DecisionItem.objects.bulk_create(
        [
            DecisionItem(decision=locked, assessment_id=pk, position=start + i, **snapshot[pk])
            for i, pk in enumerate(ids)
        ],
        batch_size=2000,
    )
    _touch(locked, actor, "decision.annex_add", {"added": len(ids)})
    return len(ids)


def _award_add(actor: Any, decision: Decision, candidates: QuerySet[Any]) -> int:
    nominations = list(
        candidates.select_related(
            "nominee_unit", "organisation", "household", "nominating_unit"
        ).order_by("award_form", "nominating_unit__sort_name", "pk")
    )
    if not nominations:
        return 0
    start = (decision.items.aggregate(m=Max("position"))["m"] or 0) + 1
    with translation.override("vi"):
        DecisionItem.objects.bulk_create(
            [
                DecisionItem(
                    decision=decision,
                    nomination=n,
                    position=start + i,
                    subject_kind="nomination",
                    subject_name=nfc(n.nominee_name),
                    address=nfc(n.person_position),
                    unit_name=nfc(n.nominating_unit.name),
                    result=str(n.get_award_form_display()),
                )
                for i, n in enumerate(nominations)
            ]
        )
    _touch(decision, actor, "decision.annex_add", {"added": len(nominations)})
    return len(nominations)


@transaction.atomic
def annex_remove(
    *, actor: Any, decision: Decision, assessment_ids: Iterable[Any] | None = None
) -> int:
    """Remove the given items (public ids of assessments), or all of them."""
    require_issuer(actor, decision.issuing_unit)
    locked = _lock_draft(decision, None)
    items = locked.items.all()
    if assessment_ids is not None:
        ids = _uuids(assessment_ids)
        items = items.filter(Q(assessment__public_id__in=ids) | Q(nomination__public_id__in=ids))
    removed, _detail = items.delete()
    if removed:
        _touch(locked, actor, "decision.annex_remove", {"removed": removed})
    return removed


def _touch(decision: Decision, actor: Any, action: str, after: dict[str, Any]) -> None:
    count = decision.items.count()
    Decision.objects.filter(pk=decision.pk).update(
        item_count=count, version=decision.version + 1, updated_at=timezone.now()
    )
    decision.item_count = count
    decision.version += 1
    audit_record(
        actor=actor,
        action=action,
        obj=decision,
        tenant=decision.tenant,
        unit=decision.issuing_unit,
        after={**after, "items": count},
    )


# --- Issuing -----------------------------------------------------------------------


def _annexed(decision: Decision) -> QuerySet[Any]:
    """The assessments (or, for an award decision, nominations) of the annex."""
    if decision.kind == DecisionKind.AWARD:
        from campaigns.models import Nomination

        return Nomination.objects.filter(decision_items__decision=decision)
    return Assessment.objects.filter(decision_items__decision=decision)


def _approved_state(decision: Decision) -> str:
    if decision.kind == DecisionKind.AWARD:
        from campaigns.models import NominationStatus

        return str(NominationStatus.APPROVED)
    return str(AssessmentStatus.APPROVED)


def _item_transitions(decision: Decision) -> dict[str, Any]:
    if decision.kind == DecisionKind.AWARD:
        from campaigns.transitions import NOMINATION_TRANSITIONS

        return NOMINATION_TRANSITIONS
    return ASSESSMENT_TRANSITIONS


def issue_problems(decision: Decision) -> list[str]:
    """Why ``decision`` cannot be issued yet (empty: it can)."""
    problems: list[str] = []
    if decision.status != S.DRAFT:
        problems.append(_("This decision has already been issued."))
        return problems
    count = decision.items.count()
    if decision.revokes_id is None and count == 0:
        problems.append(
            _("The annex is empty: add approved items from reviewed dossiers before issuing.")
        )
    if not decision.signer_name.strip() or not decision.signer_title.strip():
        problems.append(_("Enter the signer's position and full name."))
    if decision.issued_on is None:
        problems.append(_("Enter the date of the decision."))
    else:
        today = timezone.localdate()
        if decision.issued_on > today:
            problems.append(_("The date of the decision cannot be in the future."))
        approved = (
            Assessment.objects.filter(decision_items__decision=decision)
            .aggregate(latest=Max("dossier__reviewed_at"))
            .get("latest")
        )
        if approved is not None and decision.issued_on < timezone.localtime(approved).date():
            problems.append(
                _(
                    "The date %(date)s is before the review of a dossier in the annex "
                    "(%(approved)s): a decision cannot recognise items before they were approved."
                )
                % {
                    "date": decision.issued_on.strftime("%d/%m/%Y"),
                    "approved": timezone.localtime(approved).strftime("%d/%m/%Y"),
                }
            )
        latest = (
            Decision.objects.filter(
                issuing_unit_id=decision.issuing_unit_id,
                number_year=decision.issued_on.year,
                status__in=[S.ISSUED, S.REVOKED],
            )
            .aggregate(latest=Max("issued_on"))
            .get("latest")
        )
        if latest is not None and decision.issued_on < latest:
            # Numbers run in the order of issue within the issuer's year (RULES.md
            # §6.2 ô 3): a decision dated before the issuer's last one would carry
            # a higher number than a later-dated one.
            problems.append(
                _(
                    "The date %(date)s is before the issuer's last decision of the year "
                    "(%(latest)s): numbers follow the dates, so date it %(latest)s or later."
                )
                % {
                    "date": decision.issued_on.strftime("%d/%m/%Y"),
                    "latest": latest.strftime("%d/%m/%Y"),
                }
            )
        if (
            decision.revokes is not None
            and decision.revokes.issued_on is not None
            and decision.issued_on < decision.revokes.issued_on
        ):
            problems.append(
                _("A revoking decision cannot be dated before the decision it revokes.")
            )
    not_approved = _annexed(decision).exclude(status=_approved_state(decision)).count()
    if not_approved:
        problems.append(
            ngettext(
                "%(count)d item of the annex is no longer approved (already recognised "
                "by another decision, or reopened); remove it.",
                "%(count)d items of the annex are no longer approved (already recognised "
                "by another decision, or reopened); remove them.",
                not_approved,
            )
            % {"count": not_approved}
        )
    if decision.revokes is not None and decision.revokes.status != S.ISSUED:
        problems.append(_("The decision to revoke is no longer in force."))
    return problems


@transaction.atomic
def decision_issue_start(
    *, actor: Any, decision: Decision, expected_version: int | None = None
) -> Job:
    """Check the draft and start the issuing job (numbering, PDF, recognition)."""
    require_issuer(actor, decision.issuing_unit)
    locked = _lock_draft(decision, expected_version)
    problems = issue_problems(locked)
    if problems:
        raise DecisionError(" ".join(problems))
    return job_create(
        kind="decision.issue",
        actor=actor,
        unit=locked.issuing_unit,
        label=_("Issue decision: %(summary)s") % {"summary": locked.summary},
        obj=locked,
        params={"version": locked.version},
    )


class _NumberTaken(Exception):
    """Another decision of the issuer took the number while we rendered."""


def next_number(issuing_unit_id: int, year: int) -> int:
    last = (
        DecisionCounter.objects.filter(issuing_unit_id=issuing_unit_id, year=year)
        .values_list("last_number", flat=True)
        .first()
    )
    return (last or 0) + 1


def _lock_counter(issuing_unit_id: int, year: int) -> DecisionCounter:
    try:
        with transaction.atomic():
            DecisionCounter.objects.get_or_create(issuing_unit_id=issuing_unit_id, year=year)
    except IntegrityError:
        pass  # created by a concurrent issue; lock it below
    return DecisionCounter.objects.select_for_update().get(
        issuing_unit_id=issuing_unit_id, year=year
    )


def decision_issue_run(job: Job) -> None:
    """The issuing job: render with the next number, then commit it all at once."""
    from recognition.documents.decision_pdf import render_decision_pdf
    from recognition.documents.snapshot import decision_doc_from

    decision = Decision.objects.select_related("issuing_unit", "tenant", "revokes").get(
        public_id=job.object_id
    )
    actor = job.created_by
    for _attempt in range(MAX_NUMBER_RACES):
        problems = issue_problems(decision)
        if problems:
            raise DecisionError(" ".join(problems))
        assert decision.issued_on is not None  # noqa: S101 — checked by issue_problems
        year = decision.issued_on.year
        number = next_number(decision.issuing_unit_id, year)
        job_progress(
            job,
            2,
            _("Rendering the decision with number %(ref)s…")
            % {"ref": f"{number:02d}/{decision.symbol}"},
        )
        doc = decision_doc_from(decision, number=number, draft=False)
        rendered = render_decision_pdf(doc, progress=lambda p: job_progress(job, 2 + p * 88 // 100))
        job_progress(job, 92, _("Saving the decision and recognising the annex…"))
        try:
            _commit_issue(
                job=job,
                decision=decision,
                actor=actor,
                number=number,
                year=year,
                content=rendered.content,
                page_count=rendered.page_count,
            )
        except _NumberTaken:
            decision.refresh_from_db()
            continue
        return
    raise DecisionError(
        _("Other decisions kept taking the next number; try issuing again in a moment.")
    )


@transaction.atomic
def _commit_issue(
    *,
    job: Job,
    decision: Decision,
    actor: Any,
    number: int,
    year: int,
    content: bytes,
    page_count: int,
) -> None:
    counter = _lock_counter(decision.issuing_unit_id, year)
    if counter.last_number + 1 != number:
        raise _NumberTaken()
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    if locked.status != S.DRAFT:
        raise DecisionError(_("This decision has already been issued."))
    if locked.version != job.params.get("version", locked.version):
        raise DecisionError(
            _("The draft was changed while it was being issued. Check it and issue it again.")
        )
    storage = locked.pdf.storage
    try:
        stored = storage.save(
            locked.pdf.field.generate_filename(locked, "decision.pdf"), _file(content)
        )
    except Exception as exc:  # the storage backend's own errors (disk, S3, network)
        raise DecisionError(
            _(
                "The PDF could not be stored (%(error)s). Nothing was issued or recognised; "
                "retry when the file storage is available again."
            )
            % {"error": exc.__class__.__name__}
        ) from exc
    try:
        counter.last_number = number
        counter.save(update_fields=["last_number"])
        reference = f"{number:02d}/{locked.symbol}"
        issued = apply_transition(
            obj=locked,
            transitions=DECISION_TRANSITIONS,
            action="issue",
            actor=actor,
            role_unit=locked.issuing_unit,
            changes={
                "number": number,
                "number_year": year,
                "pdf": stored,
                "pdf_sha256": hashlib.sha256(content).hexdigest(),
                "page_count": page_count,
                "item_count": locked.items.count(),
                "issued_by": actor if getattr(actor, "is_authenticated", False) else None,
                "issued_at": timezone.now(),
            },
            audit_after={"number": reference, "issued_on": _jsonable(locked.issued_on)},
        )
        audit = {"decision": reference, "decision_id": str(locked.public_id)}
        apply_transition_many(
            queryset=_annexed(locked),
            transitions=_item_transitions(locked),
            action="award" if locked.kind == DecisionKind.AWARD else "recognise",
            actor=actor,
            role_unit=locked.issuing_unit,
            audit_after=audit,
        )
        if locked.revokes_id is not None:
            _revoke_target(actor=actor, revoking=issued)
        job_attach_name(job, stored, f"QD-{number:02d}-{year}.pdf")
    except BaseException:
        storage.delete(stored)
        raise


def _file(content: bytes) -> Any:
    from django.core.files.base import ContentFile

    return ContentFile(content)


def job_attach_name(job: Job, stored: str, file_name: str) -> None:
    """The issue job's result is the decision's own PDF (no second copy)."""
    Job.objects.filter(pk=job.pk).update(file=stored, file_name=file_name)


def _revoke_target(*, actor: Any, revoking: Decision) -> None:
    target = Decision.objects.get(pk=revoking.revokes_id or 0)
    apply_transition(
        obj=target,
        transitions=DECISION_TRANSITIONS,
        action="revoke",
        actor=actor,
        role_unit=target.issuing_unit,
        audit_after={"revoked_by": revoking.reference},
    )
    award = target.kind == DecisionKind.AWARD
    apply_transition_many(
        queryset=_annexed(target).filter(
            status="awarded" if award else AssessmentStatus.RECOGNISED
        ),
        transitions=_item_transitions(target),
        action="unaward" if award else "unrecognise",
        actor=actor,
        role_unit=target.issuing_unit,
        audit_after={"revoked_by": revoking.reference},
    )


# --- Revocation --------------------------------------------------------------------


@transaction.atomic
def revocation_create(*, actor: Any, decision: Decision, reason: str) -> Decision:
    """A draft decision revoking ``decision`` (issued); issuing it revokes."""
    require_issuer(actor, decision.issuing_unit)
    target = Decision.objects.select_for_update().get(pk=decision.pk)
    if target.status != S.ISSUED:
        raise DecisionError(_("Only an issued decision in force can be revoked."))
    reason = _clean_text(reason)
    if not reason:
        raise DecisionError(_("Give the reason for revoking the decision."))
    existing = Decision.objects.filter(revokes=target).first()
    if existing is not None:
        raise DecisionError(
            _("A revoking decision already exists for this decision (draft or issued).")
        )
    assert target.issued_on is not None  # noqa: S101 — issued decisions have a date
    profile = issuer_profile_for(target.issuing_unit)
    from recognition.documents.snapshot import vn_long_date

    ref = f"Quyết định số {target.reference} {vn_long_date(target.issued_on)}"
    recipients = [line.strip() for line in profile.recipients.splitlines() if line.strip()]
    recipients.append(f"Lưu: VT{', ' + profile.archive_code if profile.archive_code else ''}")
    revoking = Decision.objects.create(
        tenant_id=target.tenant_id,
        issuing_unit=target.issuing_unit,
        kind=target.kind,
        title=target.title,
        scope_level=target.scope_level,
        year=target.year,
        revokes=target,
        parent_agency=target.parent_agency,
        agency=target.agency,
        symbol=target.symbol,
        place_name=target.place_name,
        summary=f"Về việc thu hồi {ref}",
        authority=target.authority,
        legal_bases=target.legal_bases,
        articles=[
            f"Điều 1. Thu hồi {ref} {target.summary[0].lower() + target.summary[1:]}. "
            f"Lý do: {reason}",
            "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
            "Điều 3. Thủ trưởng các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành "
            "Quyết định này.",
        ],
        signing_form=target.signing_form,
        signer_collective=target.signer_collective,
        signer_title=target.signer_title,
        signer_name=target.signer_name,
        recipients="\n".join(recipients),
        annex_title="",
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="decision.revocation_create",
        obj=revoking,
        tenant=target.tenant,
        unit=target.issuing_unit,
        after={"revokes": target.reference, "reason": reason},
    )
    return revoking


# --- Draft preview PDF and certificates ----------------------------------------------


@transaction.atomic
def decision_preview_start(*, actor: Any, decision: Decision) -> Job:
    """Render the draft as a PDF marked "DỰ THẢO" (no number, nothing changes)."""
    require_issuer(actor, decision.issuing_unit)
    return job_create(
        kind="decision.preview",
        actor=actor,
        unit=decision.issuing_unit,
        label=_("Draft PDF: %(summary)s") % {"summary": decision.summary},
        obj=decision,
    )


def decision_preview_run(job: Job) -> None:
    from recognition.documents.decision_pdf import render_decision_pdf
    from recognition.documents.snapshot import decision_doc_from

    decision = Decision.objects.get(public_id=job.object_id)
    draft = decision.status == S.DRAFT
    doc = decision_doc_from(decision, draft=draft)
    rendered = render_decision_pdf(doc, progress=lambda p: job_progress(job, p * 95 // 100))
    name = (
        "du-thao-quyet-dinh.pdf"
        if draft
        else f"QD-{decision.number:02d}-{decision.number_year}.pdf"
    )
    job_attach(job, content=rendered.content, file_name=name)


@transaction.atomic
def certificates_start(*, actor: Any, decision: Decision) -> Job:
    """Render the certificates of an issued decision as one PDF (a page each)."""
    require_issuer(actor, decision.issuing_unit)
    if decision.status != S.ISSUED:
        raise DecisionError(_("Certificates are printed for issued decisions in force only."))
    if not decision.items.filter(subject_kind__in=CERTIFICATE_KINDS).exists():
        raise DecisionError(
            _(
                "This decision recognises no households, clans or citizens: there is no certificate to print."
            )
        )
    return job_create(
        kind="decision.certificates",
        actor=actor,
        unit=decision.issuing_unit,
        label=_("Certificates of decision %(ref)s") % {"ref": decision.reference},
        obj=decision,
    )


def certificates_ensure(decision: Decision) -> int:
    """Give every certificate-bearing item of ``decision`` its token (idempotent)."""
    missing = decision.items.filter(
        subject_kind__in=CERTIFICATE_KINDS, certificate__isnull=True
    ).values_list("pk", flat=True)
    # Two batches printed at once both create the missing tokens: the second's
    # rows are ignored, every item keeps one token.
    created = Certificate.objects.bulk_create(
        [Certificate(item_id=pk) for pk in missing], batch_size=2000, ignore_conflicts=True
    )
    return len(created)


def certificates_run(job: Job) -> None:
    from recognition.documents.certificates import render_certificates_pdf
    from recognition.selectors.decision import certificate_docs

    decision = Decision.objects.get(public_id=job.object_id)
    if decision.status != S.ISSUED:
        raise DecisionError(_("Certificates are printed for issued decisions in force only."))
    with transaction.atomic():
        certificates_ensure(decision)
    docs = certificate_docs(decision)
    job_progress(job, 5)
    rendered = render_certificates_pdf(
        docs,
        verify_base_url=settings.SITE_URL.rstrip("/"),
        progress=lambda p: job_progress(job, 5 + p * 90 // 100),
    )
    job_attach(
        job,
        content=rendered.content,
        file_name=f"giay-cong-nhan-QD-{decision.number:02d}-{decision.number_year}.pdf",
    )
