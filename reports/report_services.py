"""Reports: reads, writes and the build job (see :mod:`reports.report_models`).

Figures come from the rollups only (``reports.models.Rollup``: one row per
unit × year × title for the unit's whole subtree) and the targets in force
(``campaigns.selectors.plans.effective_targets``). A year without rows is an
honest empty report: zeros and "chưa có số liệu", never an error.

The build (:func:`report_build_run`, Job kind ``report.build``) renders the
PDF and the XLSX into memory first and attaches both in one transaction, so
a failed build leaves the report exactly as it was. Finalising needs a build
of the current version; a finalised report refuses every change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import DeadlineKind, Phase, Plan, TargetKind
from campaigns.selectors.plans import effective_targets
from core.audit import audit_record
from core.exceptions import ApplicationError, ConcurrentEditError
from core.jobs import job_create, job_progress
from core.models import Job, JobStatus
from recognition.documents.snapshot import format_count, nfc
from recognition.titles import Title
from reports.models import Rollup
from reports.report_mapped import (
    check_view,
    children_then,
    children_today,
    mapped_counts,
    view_line,
)
from reports.report_models import Report, ReportKind, ReportOrigin, ReportStatus, ReportView
from units.models import AdministrativeUnit
from units.selectors import parse_public_id, require_write, scope_queryset

BUILD_KIND = "report.build"
COUNTERS = ("registered", "assessed", "approved", "recognised", "eligible")

TITLE_VI: dict[str, str] = {
    Title.FAMILY: "Gia đình học tập",
    Title.CLAN: "Dòng họ học tập",
    Title.COMMUNITY: "Cộng đồng học tập",
    Title.ORGANISATION: "Đơn vị học tập",
    Title.CITIZEN: "Công dân học tập",
}
KIND_VI: dict[str, str] = {
    ReportKind.YEARLY: "Kết quả xây dựng xã hội học tập năm",
    ReportKind.INTERIM: "Sơ kết",
    ReportKind.FINAL: "Tổng kết",
}
NO_DATA = "Chưa có số liệu"


class ReportError(ApplicationError):
    code = "report_error"


class ReportLockedError(ReportError):
    code = "report_finalised"
    default_message = _("The report is finalised and can no longer be changed.")
    http_status = 409


class ReportConflictError(ReportError):
    code = "report_duplicate"
    http_status = 409


# --- Reads ---------------------------------------------------------------------------


def reports_for_user(user: Any) -> QuerySet[Report]:
    """Reports of the units in the user's subtrees."""
    return scope_queryset(Report.objects.all(), user).select_related(
        "unit", "plan", "phase", "finalised_by", "created_by"
    )


def get_report_for_user(user: Any, public_id: Any) -> Report:
    report = reports_for_user(user).filter(public_id=parse_public_id(public_id)).first()
    if report is None:
        raise Http404
    return report


def report_heading(report: Report) -> str:
    """ "Kết quả xây dựng xã hội học tập năm 2025", "Sơ kết Giai đoạn 1 (2023–2025) …"."""
    if report.kind == ReportKind.YEARLY or report.phase is None:
        return f"{KIND_VI[ReportKind.YEARLY]} {report.year}"
    phase = report.phase
    heading = f"{KIND_VI[report.kind]} {nfc(phase.name)} ({phase.start_year}–{phase.end_year})"
    if report.plan is not None:
        heading += f" thực hiện {nfc(report.plan.title)}"
    return heading


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1f}".replace(".", ",")


def _target_label(kind: str, value: Decimal | float) -> str:
    number = f"{Decimal(value).normalize():f}".replace(".", ",")
    return f"{number}%" if kind == TargetKind.RATE else format_count(int(value))


def _row(
    unit: AdministrativeUnit, counts: dict[str, int], target: dict[str, Any] | None
) -> dict[str, Any]:
    eligible = counts.get("eligible", 0)
    recognised = counts.get("recognised", 0)
    rate = round(recognised * 100 / eligible, 1) if eligible else None
    met: bool | None = None
    if target is not None:
        value = float(target["value"])
        if target["kind"] == TargetKind.RATE:
            met = rate is not None and rate >= value
        else:
            met = recognised >= value
    return {
        "unit": nfc(unit.name),
        "code": unit.code,
        **{name: counts.get(name, 0) for name in COUNTERS},
        "rate": rate,
        "target": target["label"] if target else "",
        "met": met,
    }


def _counts(unit_ids: list[int], year: int) -> dict[tuple[int, str], dict[str, int]]:
    """Rollup counters per (unit, title), summed over the community scope levels."""
    rows = (
        Rollup.objects.filter(unit_id__in=unit_ids, year=year)
        .values("unit_id", "title")
        .annotate(
            registered_sum=Sum("registered"),
            assessed_sum=Sum("assessed"),
            approved_sum=Sum("approved"),
            recognised_sum=Sum("recognised"),
            eligible_sum=Sum("eligible_base"),
        )
    )
    out: dict[tuple[int, str], dict[str, int]] = {}
    for row in rows:
        out[(row["unit_id"], row["title"])] = {
            "registered": int(row["registered_sum"] or 0),
            "assessed": int(row["assessed_sum"] or 0),
            "approved": int(row["approved_sum"] or 0),
            "recognised": int(row["recognised_sum"] or 0),
            "eligible": int(row["eligible_sum"] or 0),
        }
    return out


def _targets(unit: AdministrativeUnit, year: int) -> dict[str, dict[str, Any]]:
    return {
        t.title: {"kind": t.kind, "value": str(t.value), "label": _target_label(t.kind, t.value)}
        for t in effective_targets(unit=unit, year=year)
    }


def report_children(
    unit: AdministrativeUnit,
    year: int | None = None,
    *,
    view: str = ReportView.THEN,
    today: dt.date | None = None,
) -> list[AdministrativeUnit]:
    """The child units of the report, in the order the unit tree shows them: in
    the stored view those in force at some time in ``year`` (without a year:
    today's), mapped onto today's units today's children."""
    today = today or timezone.localdate()
    if view == ReportView.MAPPED or year is None:
        return children_today(unit, today)
    return children_then(unit, year)


def _view_counts(
    unit_ids: list[int],
    units: list[AdministrativeUnit],
    year: int,
    *,
    view: str,
    today: dt.date,
) -> dict[tuple[int, str], dict[str, int]]:
    if view == ReportView.MAPPED:
        return mapped_counts(units, year, today=today)
    return _counts(unit_ids, year)


def report_figures(
    report: Report,
    *,
    progress: Callable[[int], None] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The statistics of the report: per title the unit's total against its
    target and one row for every child unit (JSON-serialisable), in the
    report's view (``Report.view``; mapped onto the units in force ``today``)."""
    unit = report.unit
    today = today or timezone.localdate()
    view = report.view or ReportView.THEN
    problem = check_view(unit, view, today=today)
    if problem:
        raise ReportError(problem, code="report_view")
    children = report_children(unit, report.year, view=view, today=today)
    counts = _view_counts(
        [unit.pk, *(c.pk for c in children)], [unit, *children], report.year, view=view, today=today
    )
    unit_targets = _targets(unit, report.year)
    child_targets: dict[int, dict[str, dict[str, Any]]] = {}
    for i, child in enumerate(children, start=1):
        child_targets[child.pk] = _targets(child, report.year)
        if progress is not None and (i % 20 == 0 or i == len(children)):
            progress(5 + 55 * i // len(children))
    titles = []
    for title in Title:
        total = _row(unit, counts.get((unit.pk, title), {}), unit_targets.get(title))
        total["unit"] = "Tổng cộng"
        titles.append(
            {
                "title": str(title),
                "label": TITLE_VI[title],
                "target": unit_targets.get(title),
                "total": total,
                "children": [
                    _row(c, counts.get((c.pk, title), {}), child_targets[c.pk].get(title))
                    for c in children
                ],
            }
        )
    mapped_on = today.isoformat() if view == ReportView.MAPPED else None
    return {
        "unit": nfc(unit.name),
        "year": report.year,
        "view": view,
        "mapped_on": mapped_on,
        "view_line": view_line(view, mapped_on),
        "has_data": bool(counts),
        "child_count": len(children),
        "built_at": timezone.now().isoformat(),
        "titles": titles,
    }


def _results_text(
    unit: AdministrativeUnit, year: int, view: str = ReportView.THEN, today: dt.date | None = None
) -> str:
    """Section I prefilled from the rollups: recognised / eligible / rate vs target."""
    counts = _view_counts([unit.pk], [unit], year, view=view, today=today or timezone.localdate())
    if not counts:
        return f"{NO_DATA} năm {year}."
    targets = _targets(unit, year)
    lines = []
    for title in Title:
        row = _row(unit, counts.get((unit.pk, title), {}), targets.get(title))
        line = (
            f"- {TITLE_VI[title]}: {format_count(row['recognised'])}/"
            f"{format_count(row['eligible'])} được công nhận"
        )
        if row["rate"] is not None:
            line += f", đạt {format_rate(row['rate'])}%"
        if row["target"]:
            verdict = "đạt" if row["met"] else "chưa đạt"
            line += f" (chỉ tiêu {row['target']}: {verdict})"
        lines.append(line + ";")
    lines[-1] = lines[-1][:-1] + "."
    return "\n".join(lines)


def default_sections(
    unit: AdministrativeUnit, kind: str, year: int, view: str = ReportView.THEN
) -> list[dict[str, str]]:
    ahead = "năm tiếp theo" if kind == ReportKind.YEARLY else "giai đoạn tiếp theo"
    return [
        {"heading": "KẾT QUẢ THỰC HIỆN", "body": _results_text(unit, year, view)},
        {
            "heading": "ĐÁNH GIÁ CHUNG",
            "body": "1. Ưu điểm:\n2. Hạn chế, nguyên nhân:",
        },
        {"heading": f"PHƯƠNG HƯỚNG, NHIỆM VỤ {ahead.upper()}", "body": ""},
    ]


# --- Writes --------------------------------------------------------------------------


def _check_plan(unit: AdministrativeUnit, plan: Plan) -> None:
    """The plan must be issued for the unit or one of its ancestors (it applies here)."""
    if plan.tenant_id != unit.tenant_id or not unit.path.startswith(plan.issuing_unit.path):
        raise ReportError(_("This plan does not apply to the unit."), code="report_plan")


def _key_q(kind: str, year: int, phase: Phase | None) -> Q:
    if kind == ReportKind.YEARLY:
        return Q(kind=kind, year=year)
    return Q(kind=kind, year=year, phase=phase)


@transaction.atomic
def report_create(
    *,
    actor: Any,
    unit: AdministrativeUnit,
    kind: str,
    year: int | None = None,
    plan: Plan | None = None,
    phase: Phase | None = None,
    origin: str = ReportOrigin.MANUAL,
    view: str = ReportView.THEN,
) -> Report:
    """A draft report of ``unit`` with its sections prefilled from the rollups.

    ``actor`` None is the system (the beat); a user must be able to write at
    the unit (404 outside their subtrees, 403 read-only). ``view``: the units
    as they were then, or mapped onto today's (only for a unit in force today)."""
    if actor is not None:
        require_write(actor, unit)
    if kind not in ReportKind.values:
        raise ReportError(_("Unknown kind of report."), code="report_kind")
    problem = check_view(unit, view, today=timezone.localdate())
    if problem:
        raise ReportError(problem, code="report_view")
    if kind == ReportKind.YEARLY:
        phase = None
        if year is None or not 2000 <= int(year) <= 2100:
            raise ReportError(_("Enter a year between 2000 and 2100."), code="report_year")
        year = int(year)
    else:
        if phase is None:
            raise ReportError(_("Choose the phase under review."), code="report_phase")
        if phase.review_kind != kind:
            raise ReportError(
                _("This phase ends with a different kind of review."), code="report_phase"
            )
        plan = phase.plan
        year = phase.end_year
    if plan is not None:
        _check_plan(unit, plan)
    report = Report.objects.create(
        tenant_id=unit.tenant_id,
        unit=unit,
        kind=kind,
        year=year,
        plan=plan,
        phase=phase,
        origin=origin,
        view=view,
        sections=default_sections(unit, kind, year, view),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="report.create",
        obj=report,
        tenant=unit.tenant,
        unit=unit,
        after={"kind": kind, "year": year, "view": view},
    )
    return report


def _locked(report: Report) -> Report:
    locked = Report.objects.select_for_update().select_related("unit").get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise ReportLockedError()
    return locked


def clean_sections(sections: Any) -> list[dict[str, str]]:
    cleaned = []
    for item in sections or []:
        heading = nfc((item or {}).get("heading", "")).strip()[:300]
        body = nfc((item or {}).get("body", "")).replace("\r\n", "\n").strip()
        if heading or body:
            if not heading:
                raise ReportError(_("Every section needs a heading."), code="report_section")
            cleaned.append({"heading": heading, "body": body})
    if not cleaned:
        raise ReportError(_("A report needs at least one section."), code="report_section")
    return cleaned


@transaction.atomic
def report_update(
    *, actor: Any, report: Report, version: int, sections: list[dict[str, Any]]
) -> Report:
    """Replace the narrative sections of a draft (``version`` as read; 409 if stale)."""
    require_write(actor, report.unit)
    locked = _locked(report)
    if int(version) != locked.version:
        raise ConcurrentEditError()
    before = {"sections": locked.sections}
    locked.sections = clean_sections(sections)
    locked.version += 1
    locked.save(update_fields=["sections", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="report.update",
        obj=locked,
        tenant=locked.unit.tenant,
        unit=locked.unit,
        before=before,
        after={"sections": locked.sections},
    )
    return locked


def active_build(report: Report) -> Job | None:
    return (
        Job.objects.filter(
            kind=BUILD_KIND,
            object_type=Report._meta.label_lower,
            object_id=str(report.public_id),
            status__in=[JobStatus.PENDING, JobStatus.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def report_build_start(*, actor: Any, report: Report) -> Job:
    """Start building the statistics, the PDF and the XLSX (a ``report.build`` job)."""
    if actor is not None:
        require_write(actor, report.unit)
    locked = _locked(report)
    running = active_build(locked)
    if running is not None:
        return running
    return job_create(
        kind=BUILD_KIND,
        actor=actor,
        unit=locked.unit,
        label=_("Report %(heading)s") % {"heading": report_heading(report)},
        obj=locked,
        params={"version": locked.version},
    )


def file_stem(report: Report) -> str:
    prefixes: dict[str, str] = {ReportKind.YEARLY: "BC-nam", ReportKind.INTERIM: "BC-so-ket"}
    prefix = prefixes.get(report.kind, "BC-tong-ket")
    return f"{prefix}-{report.year}-{report.unit.code}"


def report_build_run(job: Job) -> None:
    """The job: figures, PDF, XLSX; then both files attached in one transaction."""
    from reports import report_documents as documents

    report = (
        Report.objects.select_related("unit", "unit__tenant", "plan", "phase")
        .filter(public_id=job.object_id)
        .first()
    )
    if report is None:
        raise ReportError(_("The report no longer exists."))
    if report.status != ReportStatus.DRAFT:
        raise ReportLockedError()
    version = report.version
    job_progress(job, 5, _("Reading the figures…"))
    figures = report_figures(report, progress=lambda p: job_progress(job, p))
    job_progress(job, 65, _("Writing the PDF…"))
    pdf = documents.render_report_pdf(report, figures)
    job_progress(job, 85, _("Writing the spreadsheet…"))
    xlsx = documents.render_report_xlsx(report, figures)
    job_progress(job, 95, _("Saving the files…"))
    stem = file_stem(report)
    with transaction.atomic():
        locked = _locked(report)
        old = [f.name for f in (locked.pdf, locked.xlsx) if f and f.name]
        locked.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
        locked.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
        locked.figures = figures
        locked.built_version = version
        locked.built_at = timezone.now()
        locked.save(update_fields=["pdf", "xlsx", "figures", "built_version", "built_at"])
        storage = locked.pdf.storage

        def forget_old_files() -> None:
            for name in old:
                storage.delete(name)

        transaction.on_commit(forget_old_files)


@transaction.atomic
def report_finalise(*, actor: Any, report: Report, version: int) -> Report:
    """Finalise a built draft: from then on it is immutable and listed per plan."""
    require_write(actor, report.unit)
    locked = _locked(report)
    if int(version) != locked.version:
        raise ConcurrentEditError()
    if not locked.is_built:
        raise ReportError(
            _("Build the report after its last change before finalising it."),
            code="report_not_built",
        )
    taken = Report.objects.filter(
        _key_q(locked.kind, locked.year, locked.phase),
        unit_id=locked.unit_id,
        status=ReportStatus.FINALISED,
    ).exists()
    if taken:
        raise ReportConflictError(
            _("This unit already has a finalised report of this kind for this period.")
        )
    locked.status = ReportStatus.FINALISED
    locked.finalised_at = timezone.now()
    locked.finalised_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save(update_fields=["status", "finalised_at", "finalised_by", "updated_at"])
    audit_record(
        actor=actor,
        action="report.finalise",
        obj=locked,
        tenant=locked.unit.tenant,
        unit=locked.unit,
        after={"status": locked.status},
    )
    return locked


# --- Scheduled from the campaign's milestones (Celery beat) --------------------------


def _scheduled(
    *, unit: AdministrativeUnit, kind: str, plan: Plan, phase: Phase | None, year: int
) -> Report | None:
    """Create and start building the scheduled report once (None if it exists)."""
    existing = Report.objects.filter(unit=unit, kind=kind, origin=ReportOrigin.SCHEDULE)
    existing = (
        existing.filter(phase=phase) if phase is not None else existing.filter(year=year, plan=plan)
    )
    if existing.exists():
        return None
    with transaction.atomic():
        report = report_create(
            actor=None,
            unit=unit,
            kind=kind,
            year=year,
            plan=plan,
            phase=phase,
            origin=ReportOrigin.SCHEDULE,
        )
        report_build_start(actor=None, report=report)
    return report


def reports_schedule_from_milestones(*, today: dt.date) -> int:
    """Draft (and build) the reviews whose phase is due within REPORT_LEAD_DAYS,
    and the yearly reports of the plans' report deadlines; idempotent."""
    until = today + dt.timedelta(days=int(getattr(settings, "REPORT_LEAD_DAYS", 14)))
    created = 0
    phases = Phase.objects.filter(review_due__gte=today, review_due__lte=until).select_related(
        "plan", "plan__issuing_unit"
    )
    for phase in phases.order_by("review_due", "pk"):
        report = _scheduled(
            unit=phase.plan.issuing_unit,
            kind=phase.review_kind,
            plan=phase.plan,
            phase=phase,
            year=phase.end_year,
        )
        created += report is not None
    from campaigns.models import Deadline

    deadlines = Deadline.objects.filter(
        kind=DeadlineKind.REPORT, due_on__gte=today, due_on__lte=until
    ).select_related("plan", "plan__issuing_unit")
    for deadline in deadlines.order_by("due_on", "pk"):
        for plan in _implementing_plans(deadline.plan, deadline.level):
            report = _scheduled(
                unit=plan.issuing_unit,
                kind=ReportKind.YEARLY,
                plan=plan,
                phase=None,
                year=deadline.year,
            )
            created += report is not None
    return created


def _implementing_plans(plan: Plan, level: str) -> list[Plan]:
    """The plan and the plans implementing it below, at ``level`` (all if blank)."""
    found: list[Plan] = []
    frontier = [plan]
    by_parent: dict[int, list[Plan]] = defaultdict(list)
    for child in Plan.objects.filter(
        tenant_id=plan.tenant_id, issuing_unit__path__startswith=plan.issuing_unit.path
    ).select_related("issuing_unit"):
        if child.parent_id is not None:
            by_parent[child.parent_id].append(child)
    while frontier:
        current = frontier.pop()
        if not level or current.issuing_unit.level == level:
            found.append(current)
        frontier.extend(by_parent.get(current.pk, []))
    return sorted(found, key=lambda p: (p.issuing_unit.path, p.pk))
