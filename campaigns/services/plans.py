"""Plans (kế hoạch): the header, the text sections, phases and targets, and
deriving a lower unit's plan from its parent's in one step.

* A plan is written by the planners of its issuing unit
  (:func:`campaigns.permissions.require_planner`).
* :func:`plan_derive` gives a unit under the parent plan's issuing unit its own
  plan implementing the parent (Quận 11's 102/KH-UBND implements the city's
  734/KH-UBND, seed 002): the same period, "Thực hiện Kế hoạch số …" as its
  first basis, copies of the sections, the phases, the targets that apply to
  the unit and the deadlines, each inherited row pointing at its source.
* **Tightening, not loosening**: an inherited target may only be raised (a
  higher rate or count), an inherited phase's review only brought forward; an
  inherited phase or target cannot be deleted. When a parent tightens its own
  row, the derived rows that would now be looser follow it (all the way down).
* Every refusal raises :class:`~campaigns.exceptions.CampaignError` (or
  :class:`~campaigns.exceptions.LoosenedError`) before anything is written.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from campaigns.exceptions import CampaignError, LoosenedError
from campaigns.models import (
    Deadline,
    Phase,
    Plan,
    PlanSection,
    ReviewKind,
    Target,
    TargetKind,
)
from campaigns.permissions import require_planner
from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import nfc, nfc_lines
from recognition.documents.snapshot import agency_in_sentence, vn_long_date
from recognition.services.decision import SYMBOL_RE, issuer_profile_for
from recognition.titles import Title
from units.models import AdministrativeUnit

MIN_YEAR = 2000
MAX_YEAR = 2100

#: Fields of the plan header a planner edits (plan_update).
EDITABLE_FIELDS: tuple[str, ...] = (
    "number",
    "symbol",
    "issued_on",
    "place_name",
    "agency",
    "title",
    "start_year",
    "end_year",
    "legal_bases",
    "signer_title",
    "signer_name",
    "recipients",
)
#: Fields holding one entry per line (căn cứ, nơi nhận, the signer's lines).
MULTILINE_FIELDS = frozenset({"legal_bases", "recipients", "signer_title"})


# --- Text hygiene ------------------------------------------------------------------


def clean_paragraphs(value: Any) -> str:
    """NFC each line of a text; paragraphs keep one blank line between them."""
    out: list[str] = []
    for line in str(value or "").splitlines():
        text = nfc(line)
        if text or (out and out[-1]):
            out.append(text)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def format_value(value: Decimal | int | float, kind: str) -> str:
    """70 -> "70%", Decimal("72.50") -> "72,5%", 1200 (count) -> "1.200"."""
    number = Decimal(str(value)).normalize()
    if number == number.to_integral_value():
        text = f"{int(number):,}".replace(",", ".")
    else:
        whole, _dot, frac = f"{number:f}".partition(".")
        text = f"{int(whole):,}".replace(",", ".") + "," + frac
    return f"{text}%" if kind == TargetKind.RATE else text


def _field_label(name: str) -> str:
    return str(getattr(Plan._meta.get_field(name), "verbose_name", name))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- Checks --------------------------------------------------------------------------


def _check_year(value: Any, label: str) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CampaignError(
            _("%(field)s must be a year between %(min)s and %(max)s.")
            % {"field": label, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    return year


def _check_period(start_year: Any, end_year: Any) -> tuple[int, int]:
    start = _check_year(start_year, _("The first year"))
    end = _check_year(end_year, _("The last year"))
    if end < start:
        raise CampaignError(
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"start": start, "end": end}
        )
    return start, end


def _check_symbol(symbol: str) -> None:
    if not SYMBOL_RE.match(symbol):
        raise CampaignError(
            _(
                "The symbol “%(symbol)s” is not valid: write the type and the agency "
                "abbreviation joined by hyphens, without spaces, e.g. KH-UBND."
            )
            % {"symbol": symbol}
        )


def _check_number(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise CampaignError(_("The plan number must be a whole number from 1."))
    return number


def _check_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise CampaignError(_("Write the date as dd/mm/yyyy.")) from exc


def _check_fits_period(plan: Plan, start: int, end: int) -> None:
    """Phases and targets of the plan must still lie inside a changed period."""
    outside_phase = plan.phases.exclude(start_year__gte=start, end_year__lte=end).first()
    if outside_phase is not None:
        raise CampaignError(
            _(
                "The phase “%(phase)s” (%(from)s–%(to)s) would lie outside the period "
                "%(start)s–%(end)s: change or delete it first."
            )
            % {
                "phase": outside_phase.name,
                "from": outside_phase.start_year,
                "to": outside_phase.end_year,
                "start": start,
                "end": end,
            }
        )
    outside_target = plan.targets.exclude(year__gte=start, year__lte=end).first()
    if outside_target is not None:
        raise CampaignError(
            _(
                "A target of %(year)s would lie outside the period %(start)s–%(end)s: "
                "change or delete it first."
            )
            % {"year": outside_target.year, "start": start, "end": end}
        )


# --- Plans ---------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    issuing_unit: AdministrativeUnit,
    title: str,
    start_year: int,
    end_year: int,
    number: int | None = None,
    symbol: str = "KH-UBND",
    issued_on: dt.date | None = None,
    legal_bases: str = "",
    place_name: str | None = None,
    agency: str | None = None,
    signer_title: str = "",
    signer_name: str = "",
    recipients: str = "",
    parent: Plan | None = None,
) -> Plan:
    """A new plan of ``issuing_unit``; the agency and place name default to the
    unit's issuer profile (as its decisions write them)."""
    require_planner(actor, issuing_unit)
    title = nfc(title)
    if not title:
        raise CampaignError(_("Write the title of the plan."))
    start, end = _check_period(start_year, end_year)
    symbol = nfc(symbol) or "KH-UBND"
    _check_symbol(symbol)
    profile = issuer_profile_for(issuing_unit)
    plan = Plan(
        tenant_id=issuing_unit.tenant_id,
        issuing_unit=issuing_unit,
        parent=parent,
        number=_check_number(number),
        symbol=symbol,
        issued_on=_check_date(issued_on),
        place_name=nfc(place_name) if place_name is not None else nfc(profile.place_name),
        agency=nfc_lines(agency) if agency is not None else nfc_lines(profile.agency),
        title=title,
        start_year=start,
        end_year=end,
        legal_bases=nfc_lines(legal_bases),
        signer_title=nfc_lines(signer_title),
        signer_name=nfc(signer_name),
        recipients=nfc_lines(recipients),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        plan.full_clean(
            exclude=["tenant", "issuing_unit", "parent", "created_by"], validate_constraints=False
        )
    except ValidationError as exc:
        raise CampaignError(" ".join(exc.messages)) from exc
    plan.save()
    audit_record(
        actor=actor,
        action="plan.create",
        obj=plan,
        tenant=issuing_unit.tenant,
        unit=issuing_unit,
        after={"title": plan.title, "period": [start, end], "reference": plan.reference},
    )
    return plan


def _lock_plan(plan: Plan, expected_version: int | None = None) -> Plan:
    locked = (
        Plan.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=plan.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    return locked


@transaction.atomic
def plan_update(*, actor: Any, plan: Plan, expected_version: int, data: Mapping[str, Any]) -> Plan:
    """Edit the header (optimistic concurrency: ``expected_version``)."""
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan, expected_version)
    changes: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "number":
            value = _check_number(value)
        elif field == "issued_on":
            value = _check_date(value)
        elif field in {"start_year", "end_year"}:
            value = _check_year(value, _field_label(field))
        elif field in MULTILINE_FIELDS or field == "agency":
            value = nfc_lines(value)
        else:
            value = nfc(str(value or ""))
        changes[field] = value
    if "symbol" in changes:
        _check_symbol(changes["symbol"])
    for required in ("title", "symbol"):
        if required in changes and not changes[required]:
            raise CampaignError(
                _("“%(field)s” cannot be empty.") % {"field": _field_label(required)}
            )
    start = changes.get("start_year", locked.start_year)
    end = changes.get("end_year", locked.end_year)
    _check_period(start, end)
    if (start, end) != (locked.start_year, locked.end_year):
        _check_fits_period(locked, start, end)
    changes = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not changes:
        return locked
    before = {k: _jsonable(getattr(locked, k)) for k in changes}
    for key, value in changes.items():
        setattr(locked, key, value)
    try:
        locked.full_clean(
            exclude=["tenant", "issuing_unit", "parent", "created_by"], validate_constraints=False
        )
    except ValidationError as exc:
        raise CampaignError(" ".join(exc.messages)) from exc
    locked.version += 1
    locked.save(update_fields=[*changes, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="plan.edit",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
        after={k: _jsonable(v) for k, v in changes.items()},
    )
    return locked


# --- Sections ------------------------------------------------------------------------


def _renumber(plan: Plan) -> None:
    for index, section in enumerate(plan.sections.order_by("position", "id")):
        if section.position != index:
            PlanSection.objects.filter(pk=section.pk).update(position=index)


def _section_values(heading: Any, body: Any) -> tuple[str, str]:
    heading = nfc(str(heading or ""))
    if not heading:
        raise CampaignError(_("Write the heading of the section."))
    if len(heading) > PlanSection._meta.get_field("heading").max_length:  # type: ignore[operator]
        raise CampaignError(_("The heading is too long (300 characters at most)."))
    return heading, clean_paragraphs(body)


@transaction.atomic
def section_add(*, actor: Any, plan: Plan, heading: str, body: str = "") -> PlanSection:
    """Append a section to the plan's text."""
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    heading, body = _section_values(heading, body)
    last = locked.sections.aggregate(m=Max("position"))["m"]
    section = PlanSection.objects.create(
        plan=locked, heading=heading, body=body, position=0 if last is None else last + 1
    )
    audit_record(
        actor=actor,
        action="plan.section_add",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        after={"section": section.pk, "heading": heading},
    )
    return section


@transaction.atomic
def section_update(
    *, actor: Any, section: PlanSection, heading: str, body: str = ""
) -> PlanSection:
    plan = section.plan
    require_planner(actor, plan.issuing_unit)
    _lock_plan(plan)
    heading, body = _section_values(heading, body)
    locked = PlanSection.objects.get(pk=section.pk)
    before = {"heading": locked.heading, "body": locked.body}
    locked.heading, locked.body = heading, body
    locked.save(update_fields=["heading", "body"])
    audit_record(
        actor=actor,
        action="plan.section_edit",
        obj=plan,
        tenant=plan.tenant,
        unit=plan.issuing_unit,
        before={"section": section.pk, **before},
        after={"section": section.pk, "heading": heading, "body": body},
    )
    return locked


@transaction.atomic
def section_delete(*, actor: Any, section: PlanSection) -> None:
    plan = section.plan
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    heading = section.heading
    PlanSection.objects.filter(pk=section.pk).delete()
    _renumber(locked)
    audit_record(
        actor=actor,
        action="plan.section_delete",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before={"section": section.pk, "heading": heading},
    )


@transaction.atomic
def section_move(*, actor: Any, section: PlanSection, offset: int) -> PlanSection:
    """Move a section up (``offset`` < 0) or down (> 0) in the text."""
    plan = section.plan
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    ordered = list(locked.sections.order_by("position", "id"))
    index = next((i for i, s in enumerate(ordered) if s.pk == section.pk), None)
    if index is None:
        raise CampaignError(_("This section no longer exists; reload the page."))
    target = max(0, min(len(ordered) - 1, index + int(offset)))
    if target != index:
        moved = ordered.pop(index)
        ordered.insert(target, moved)
        for position, item in enumerate(ordered):
            if item.position != position:
                PlanSection.objects.filter(pk=item.pk).update(position=position)
        audit_record(
            actor=actor,
            action="plan.section_move",
            obj=locked,
            tenant=locked.tenant,
            unit=locked.issuing_unit,
            before={"section": section.pk, "position": index},
            after={"section": section.pk, "position": target},
        )
    return PlanSection.objects.get(pk=section.pk)


# --- Phases --------------------------------------------------------------------------


def _tighten_phases_below(phase: Phase, actor: Any) -> None:
    """Derived phases reviewed later than ``phase`` now are brought forward to it."""
    for child in Phase.objects.filter(source=phase, review_due__gt=phase.review_due):
        before = child.review_due
        child.review_due = phase.review_due
        child.save(update_fields=["review_due"])
        audit_record(
            actor=actor,
            action="plan.phase_tightened",
            obj=child.plan,
            tenant=child.plan.tenant,
            unit=child.plan.issuing_unit,
            before={"phase": child.pk, "review_due": before.isoformat()},
            after={"phase": child.pk, "review_due": child.review_due.isoformat()},
        )
        _tighten_phases_below(child, actor)


@transaction.atomic
def phase_save(
    *, actor: Any, plan: Plan, data: Mapping[str, Any], phase: Phase | None = None
) -> Phase:
    """Add a phase (``phase`` None) or change one.

    ``data``: name, start_year, end_year, review_kind (so_ket / tong_ket),
    review_due (a date inside the phase or in the year right after it).
    """
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    if phase is not None and phase.plan_id != locked.pk:
        raise CampaignError(_("This phase belongs to another plan."))
    name = nfc(str(data.get("name") or ""))
    if not name:
        raise CampaignError(_("Write the name of the phase."))
    start, end = _check_period(data.get("start_year"), data.get("end_year"))
    if start < locked.start_year or end > locked.end_year:
        raise CampaignError(
            _(
                "The phase %(start)s–%(end)s lies outside the plan's period "
                "%(plan_start)s–%(plan_end)s."
            )
            % {
                "start": start,
                "end": end,
                "plan_start": locked.start_year,
                "plan_end": locked.end_year,
            }
        )
    kind = str(data.get("review_kind") or "")
    if kind not in ReviewKind.values:
        raise CampaignError(_("Choose the review: interim (sơ kết) or final (tổng kết)."))
    due = _check_date(data.get("review_due"))
    if due is None:
        raise CampaignError(_("Give the date of the review."))
    if not start <= due.year <= end + 1:
        raise CampaignError(
            _(
                "The review of the phase %(start)s–%(end)s must fall inside the phase or in "
                "the year right after it (by %(last)s), not on %(date)s."
            )
            % {"start": start, "end": end, "last": end + 1, "date": due.strftime("%d/%m/%Y")}
        )
    source = phase.source if phase is not None else None
    if source is not None and due > source.review_due:
        raise LoosenedError(
            _(
                "The parent plan holds this review by %(date)s; this plan may bring it "
                "forward but not put it later."
            )
            % {"date": source.review_due.strftime("%d/%m/%Y")}
        )
    before = None
    if phase is None:
        phase = Phase(plan=locked)
    else:
        phase = Phase.objects.select_for_update(of=("self",)).get(pk=phase.pk)
        before = {
            "name": phase.name,
            "start_year": phase.start_year,
            "end_year": phase.end_year,
            "review_kind": phase.review_kind,
            "review_due": phase.review_due.isoformat(),
        }
    phase.name, phase.start_year, phase.end_year = name, start, end
    phase.review_kind, phase.review_due = kind, due
    phase.save()
    _tighten_phases_below(phase, actor)
    audit_record(
        actor=actor,
        action="plan.phase_save",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
        after={
            "phase": phase.pk,
            "name": name,
            "start_year": start,
            "end_year": end,
            "review_kind": kind,
            "review_due": due.isoformat(),
        },
    )
    return phase


@transaction.atomic
def phase_delete(*, actor: Any, phase: Phase) -> None:
    plan = phase.plan
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    if phase.source_id is not None:
        raise LoosenedError(
            _(
                "This phase comes from the parent plan: a plan implementing it may bring "
                "its review forward but not drop it."
            )
        )
    before = {"phase": phase.pk, "name": phase.name}
    Phase.objects.filter(pk=phase.pk).delete()
    audit_record(
        actor=actor,
        action="plan.phase_delete",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
    )


# --- Targets -------------------------------------------------------------------------


def inherited_target(
    *, plan: Plan, unit: AdministrativeUnit, title: str, year: int
) -> Target | None:
    """What the parent plan sets for ``unit`` (its target for the unit itself,
    else for the nearest ancestor), the floor of this plan's target; ``None``
    for a plan implementing no other."""
    if plan.parent_id is None:
        return None
    lineage = [*unit.ancestor_ids(), unit.pk]
    candidates = list(
        Target.objects.filter(
            plan_id=plan.parent_id, unit_id__in=lineage, title=title, year=year
        ).select_related("unit")
    )
    if not candidates:
        return None
    return max(candidates, key=lambda t: t.unit.depth)


def _value(value: Any, kind: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise CampaignError(_("Write the target as a number.")) from exc
    if not number.is_finite():
        raise CampaignError(_("Write the target as a number."))
    if kind == TargetKind.RATE:
        if not Decimal(0) <= number <= Decimal(100):
            raise CampaignError(
                _("A rate is a share between 0%% and 100%%, not %(value)s.")
                % {"value": format_value(number, kind)}
            )
        if number != number.quantize(Decimal("0.01")):
            raise CampaignError(_("Write the rate with at most two decimals."))
    else:
        if number < 0 or number != number.to_integral_value():
            raise CampaignError(_("A count is a whole number from 0."))
    return number


def loosened_message(source: Target) -> str:
    return _("The parent plan sets %(value)s; this plan may not set less.") % {
        "value": format_value(source.value, source.kind)
    }


def _check_not_looser(value: Decimal, kind: str, source: Target | None) -> None:
    if source is None:
        return
    if kind != source.kind:
        raise LoosenedError(
            _("The parent plan sets this target as “%(kind)s”; keep that kind.")
            % {"kind": source.get_kind_display()}
        )
    if value < source.value:
        raise LoosenedError(loosened_message(source))


def _tighten_targets_below(target: Target, actor: Any) -> None:
    """Derived targets now below ``target`` are raised to it (all the way down)."""
    for child in Target.objects.filter(source=target, value__lt=target.value).select_related(
        "plan__issuing_unit", "plan__tenant"
    ):
        before = str(child.value)
        child.value = target.value
        child.save(update_fields=["value"])
        audit_record(
            actor=actor,
            action="plan.target_tightened",
            obj=child.plan,
            tenant=child.plan.tenant,
            unit=child.plan.issuing_unit,
            before={"target": child.pk, "value": before},
            after={"target": child.pk, "value": str(child.value)},
        )
        _tighten_targets_below(child, actor)


@transaction.atomic
def target_save(
    *,
    actor: Any,
    plan: Plan,
    unit: AdministrativeUnit,
    title: str,
    year: int,
    kind: str,
    value: Any,
    target: Target | None = None,
) -> Target:
    """Set a target (chỉ tiêu) of the plan for ``unit`` (the plan's own unit, or
    a unit under it for an override): a rate 0–100 % or a count ≥ 0, in a year
    of the plan's period. In a plan implementing another, never below what the
    parent sets for the unit."""
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    if target is not None and target.plan_id != locked.pk:
        raise CampaignError(_("This target belongs to another plan."))
    if title not in Title.values:
        raise CampaignError(_("Choose a title."))
    if kind not in TargetKind.values:
        raise CampaignError(_("Choose the kind of target: a rate (%) or a count."))
    year = _check_year(year, _("The year"))
    if not locked.start_year <= year <= locked.end_year:
        raise CampaignError(
            _("The year %(year)s lies outside the plan's period %(start)s–%(end)s.")
            % {"year": year, "start": locked.start_year, "end": locked.end_year}
        )
    issuer = locked.issuing_unit
    if unit.tenant_id != issuer.tenant_id or not unit.path.startswith(issuer.path):
        raise CampaignError(
            _("A target of this plan applies to %(unit)s or a unit under it.")
            % {"unit": issuer.name}
        )
    number = _value(value, kind)
    if target is not None and target.source_id is not None:
        source = Target.objects.filter(pk=target.source_id).first()
        if source is not None and (source.title, source.year) != (title, year):
            raise CampaignError(
                _("An inherited target keeps its title and year; change only its value.")
            )
        if target.unit_id != unit.pk:
            raise CampaignError(_("An inherited target keeps its unit; change only its value."))
    else:
        source = inherited_target(plan=locked, unit=unit, title=title, year=year)
    _check_not_looser(number, kind, source)
    clash = Target.objects.filter(plan=locked, unit=unit, title=title, year=year)
    if target is not None:
        clash = clash.exclude(pk=target.pk)
    if clash.exists():
        raise CampaignError(
            _("This plan already sets a target for %(unit)s, this title and %(year)s.")
            % {"unit": unit.name, "year": year}
        )
    before = None
    if target is None:
        target = Target(plan=locked, source=source)
    else:
        target = Target.objects.select_for_update(of=("self",)).get(pk=target.pk)
        before = {
            "unit": target.unit_id,
            "title": target.title,
            "year": target.year,
            "kind": target.kind,
            "value": str(target.value),
        }
    target.unit, target.title, target.year, target.kind, target.value = (
        unit,
        title,
        year,
        kind,
        number,
    )
    target.save()
    _tighten_targets_below(target, actor)
    audit_record(
        actor=actor,
        action="plan.target_save",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
        after={
            "target": target.pk,
            "unit": unit.pk,
            "title": title,
            "year": year,
            "kind": kind,
            "value": str(number),
        },
    )
    return target


@transaction.atomic
def target_delete(*, actor: Any, target: Target) -> None:
    plan = target.plan
    require_planner(actor, plan.issuing_unit)
    locked = _lock_plan(plan)
    if target.source_id is not None:
        raise LoosenedError(
            _(
                "This target comes from the parent plan: a plan implementing it may raise "
                "it but not drop it."
            )
        )
    before = {"target": target.pk, "title": target.title, "year": target.year}
    Target.objects.filter(pk=target.pk).delete()
    audit_record(
        actor=actor,
        action="plan.target_delete",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.issuing_unit,
        before=before,
    )


# --- Deriving a child plan -----------------------------------------------------------


def derived_title(parent: Plan, unit: AdministrativeUnit) -> str:
    """ "<parent title> trên địa bàn Quận 10" (the parent's own "trên địa bàn
    <its unit>" is replaced, not repeated)."""
    title = nfc(parent.title)
    suffix = re.compile(
        rf"\s+trên địa bàn\s+{re.escape(nfc(parent.issuing_unit.name))}\s*\.?$", re.IGNORECASE
    )
    title = suffix.sub("", title)
    return f"{title} trên địa bàn {nfc(unit.name)}"


def implementing_basis(parent: Plan) -> str:
    """ "Thực hiện Kế hoạch số 734/KH-UBND ngày 15 tháng 02 năm 2024 của Ủy ban
    nhân dân Thành phố Hồ Chí Minh;" """
    what = f"Kế hoạch số {parent.reference}" if parent.reference else f"Kế hoạch “{parent.title}”"
    when = f" {vn_long_date(parent.issued_on)}" if parent.issued_on else ""
    agency = agency_in_sentence(" ".join(parent.agency.splitlines()))
    # Phụ lục II, NĐ 30/2020: "Thành phố Hồ Chí Minh" is always capitalised.
    agency = agency.replace("thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh")
    by = f" của {agency}" if agency else ""
    return f"Thực hiện {what}{when}{by};"


def _sync_lock(deadline: Deadline) -> None:
    """Let the deadlines service create the deadline's form lock, when it exists
    (campaigns/services/deadlines.py owns FormLocks)."""
    try:
        module = importlib.import_module("campaigns.services.deadlines")
    except ImportError:
        return
    sync = getattr(module, "deadline_sync_lock", None)
    if sync is not None:
        sync(deadline)


def _targets_for_child(parent: Plan, unit: AdministrativeUnit) -> list[Target]:
    """The parent's targets that apply to ``unit``: per title and year the one
    set for the nearest of the unit and its ancestors, plus the parent's
    overrides for units strictly under ``unit``."""
    lineage = [*unit.ancestor_ids(), unit.pk]
    nearest: dict[tuple[str, int], Target] = {}
    below: list[Target] = []
    for target in parent.targets.select_related("unit").order_by("year", "title", "pk"):
        if target.unit_id in lineage:
            key = (target.title, target.year)
            if key not in nearest or target.unit.depth > nearest[key].unit.depth:
                nearest[key] = target
        elif target.unit.path.startswith(unit.path):
            below.append(target)
    return [*nearest.values(), *below]


@transaction.atomic
def plan_derive(*, actor: Any, parent: Plan, issuing_unit: AdministrativeUnit) -> Plan:
    """The plan of ``issuing_unit`` implementing ``parent``, in one step."""
    top = parent.issuing_unit
    if (
        issuing_unit.tenant_id != top.tenant_id
        or issuing_unit.pk == top.pk
        or not issuing_unit.path.startswith(top.path)
    ):
        raise CampaignError(
            _("Only a unit under %(unit)s can make a plan implementing this one.")
            % {"unit": top.name}
        )
    require_planner(actor, issuing_unit)
    existing = Plan.objects.filter(parent=parent, issuing_unit=issuing_unit).first()
    if existing is not None:
        raise CampaignError(
            _("%(unit)s already has its plan implementing this one: %(plan)s.")
            % {"unit": issuing_unit.name, "plan": existing.reference or existing.title}
        )
    profile = issuer_profile_for(issuing_unit)
    try:
        with transaction.atomic():
            child = plan_create(
                actor=actor,
                issuing_unit=issuing_unit,
                title=derived_title(parent, issuing_unit),
                start_year=parent.start_year,
                end_year=parent.end_year,
                symbol=parent.symbol or "KH-UBND",
                legal_bases=implementing_basis(parent),
                signer_title=profile.signer_title,
                signer_name=profile.signer_name,
                parent=parent,
            )
    except IntegrityError as exc:  # the same derive from another request, just now
        raise CampaignError(
            _("%(unit)s already has its plan implementing this one.") % {"unit": issuing_unit.name}
        ) from exc
    PlanSection.objects.bulk_create(
        PlanSection(plan=child, position=s.position, heading=s.heading, body=s.body)
        for s in parent.sections.order_by("position", "id")
    )
    Phase.objects.bulk_create(
        Phase(
            plan=child,
            name=p.name,
            start_year=p.start_year,
            end_year=p.end_year,
            review_kind=p.review_kind,
            review_due=p.review_due,
            source=p,
        )
        for p in parent.phases.all()
    )
    targets = _targets_for_child(parent, issuing_unit)
    Target.objects.bulk_create(
        Target(
            plan=child,
            # The targets for the unit or an ancestor become the unit's own;
            # the parent's overrides for units below it stay theirs.
            unit=issuing_unit if t.unit.depth <= issuing_unit.depth else t.unit,
            title=t.title,
            year=t.year,
            kind=t.kind,
            value=t.value,
            source=t,
        )
        for t in targets
    )
    deadlines = [
        Deadline.objects.create(
            plan=child,
            kind=d.kind,
            title=d.title,
            year=d.year,
            level=d.level,
            due_on=d.due_on,
            label=d.label,
            remind_days=d.remind_days,
            source=d,
        )
        for d in parent.deadlines.order_by("due_on", "pk")
    ]
    for deadline in deadlines:
        _sync_lock(deadline)
    audit_record(
        actor=actor,
        action="plan.derive",
        obj=child,
        tenant=issuing_unit.tenant,
        unit=issuing_unit,
        after={
            "parent": str(parent.public_id),
            "sections": parent.sections.count(),
            "phases": child.phases.count(),
            "targets": len(targets),
            "deadlines": len(deadlines),
        },
    )
    return child
