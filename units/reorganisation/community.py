"""Community registrations of a closed unit: the unit itself is the subject.

A commune registers itself for "Cộng đồng học tập cấp xã" (Thông tư 25/2023/TT-BGDĐT;
``Registration.subject_unit``). When a plan merges or splits that commune, the
subject itself ends, so the registration cannot simply follow "its subject" as
a household's does. What an official expects (RULES.md §8: "keep old
recognitions valid through their 3-year term, linked to the pre-merger unit
through lineage"; the term is TT 25/2023 Điều 5 khoản 4, RULES.md §2.2):

- **Decided or submitted** registrations (an assessment beyond the
  self-assessment, or in a dossier that was sent) stay with the old unit: they
  are history, and a recognition keeps its 3-year term under the unit it was
  given to.
- **Open** registrations (year ≥ the plan's year, not yet submitted) move to the
  successor: ``subject_unit``, ``unit`` and ``proposing_unit`` become the new
  commune, and its draft self-assessment goes with it (leaving a draft dossier
  of the closed unit).
- **A merge** gives one successor several open registrations for the same
  title and year, and the successor may hold only one (``registration_unique_unit``).
  The rule: keep the one whose self-assessment is furthest advanced
  (self-assessed > returned for correction > being assessed > not started);
  on a tie the one of the unit whose code the successor reuses (new communes
  reuse the code of one merged commune, RULES.md §7.2), then the first unit
  listed in the step. The others are withdrawn, with the plan named as the
  reason in their audit event, and stay with their old unit.
- **A split**: the default successor takes the registration (the same rule as
  the unit's own subjects), and the preview flags it so the other new
  communes register themselves.
- **An abolished level** (the district level on 1 July 2025): the title of that
  level has no successor (the procedure "đề nghị đánh giá, công nhận CĐHT cấp
  huyện" was abolished, RULES.md §8 [S47]), so its open registrations are
  withdrawn with the plan as the reason.

Continuations of one unit alone (rename, re-code, move, the copies of
neighbourhoods) keep the existing rule of :mod:`units.reorganisation.apply`:
the registration simply follows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q
from django.utils.translation import gettext as _

from units.reorganisation.preview import Notice, Preview, _chunks, open_registrations_q

if TYPE_CHECKING:
    from units.reorganisation.apply import LayoutWriter

#: How far an open self-assessment has come (higher: kept on a merge).
STATE_RANK: dict[str | None, int] = {None: 0, "draft": 1, "returned": 2, "ready": 3}

#: Why a community registration was withdrawn (the audit event's ``reason``).
WITHDRAW_MERGED = "merged"
WITHDRAW_ABOLISHED = "abolished"


@dataclass(frozen=True)
class CommunityRow:
    registration_id: int
    public_id: str
    subject_unit_id: int
    title: str
    year: int
    assessment_id: int | None
    state: str | None


@dataclass
class CommunityPlan:
    """What apply does with the open community registrations of the closed units."""

    #: registration -> the successor ref it moves to (``("new", key)`` or ``("old", pk)``).
    moves: dict[int, tuple[str, Any]] = field(default_factory=dict)
    #: registration -> (reason, the registration kept instead or None).
    withdrawals: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    rows: dict[int, CommunityRow] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def _open_rows(preview: Preview, closed: list[int]) -> list[CommunityRow]:
    from recognition.models import Registration, RegistrationStatus

    plan = preview.plan
    out: list[CommunityRow] = []
    for batch in _chunks(closed):
        rows = (
            Registration.objects.filter(
                tenant_id=plan.tenant_id,
                subject_unit_id__in=batch,
                status=RegistrationStatus.REGISTERED,
            )
            .filter(open_registrations_q(plan))
            .values_list(
                "pk",
                "public_id",
                "subject_unit_id",
                "title",
                "year",
                "assessment__pk",
                "assessment__status",
            )
            .order_by("pk")
        )
        out.extend(CommunityRow(pk, str(pid), s, t, y, a, st) for pk, pid, s, t, y, a, st in rows)
    return out


def plan_community(preview: Preview) -> CommunityPlan:
    """Lay out the moves and withdrawals (a read; apply writes exactly this)."""
    result = CommunityPlan()
    closed = [pk for pk in preview.closed_by if pk not in preview.exclusive]
    if not closed:
        return result
    rows = _open_rows(preview, closed)
    if not rows:
        return result
    order: dict[int, int] = {}
    step_of_unit: dict[int, int] = {}
    target_codes: dict[int, set[str]] = {}
    kinds: dict[int, str] = {}
    for step in preview.steps:
        kinds[step.position] = step.kind
        target_codes[step.position] = {n.code for n in step.creates}
        for i, ref in enumerate(step.closes):
            order[ref.pk] = i
            step_of_unit[ref.pk] = step.position
    groups: dict[tuple[tuple[str, Any], str, int], list[CommunityRow]] = defaultdict(list)
    for row in rows:
        result.rows[row.registration_id] = row
        unit = preview.units[row.subject_unit_id]
        successor = preview.successor.get(row.subject_unit_id)
        if preview.closed_by.get(row.subject_unit_id) is None or successor is None:
            result.withdrawals[row.registration_id] = (WITHDRAW_ABOLISHED, None)
            result.notices.append(
                Notice(
                    step=None,
                    unit_code=unit.code,
                    code="community_abolished",
                    message=_(
                        "The open %(year)s registration of %(unit)s for its own title is "
                        "withdrawn: the plan abolishes its level."
                    )
                    % {"year": row.year, "unit": unit.name},
                )
            )
            continue
        groups[(successor, row.title, row.year)].append(row)

    def rank(row: CommunityRow) -> tuple[int, int, int, int]:
        pos = step_of_unit.get(row.subject_unit_id, 0)
        reuses = preview.units[row.subject_unit_id].code in target_codes.get(pos, set())
        return (
            -STATE_RANK.get(row.state, 0),
            0 if reuses else 1,
            order.get(row.subject_unit_id, 0),
            row.registration_id,
        )

    for (successor, _title, year), members in groups.items():
        members.sort(key=rank)
        kept, others = members[0], members[1:]
        result.moves[kept.registration_id] = successor
        unit = preview.units[kept.subject_unit_id]
        position = step_of_unit.get(kept.subject_unit_id)
        if position is not None and kinds.get(position) == "split":
            result.notices.append(
                Notice(
                    step=position,
                    unit_code=unit.code,
                    code="community_split",
                    message=_(
                        "The open %(year)s registration of %(unit)s for its own title goes "
                        "to %(successor)s (the default new unit): the other new units "
                        "register themselves."
                    )
                    % {"year": year, "unit": unit.name, "successor": _label(preview, successor)},
                )
            )
        for other in others:
            result.withdrawals[other.registration_id] = (WITHDRAW_MERGED, kept.registration_id)
            result.notices.append(
                Notice(
                    step=position,
                    unit_code=preview.units[other.subject_unit_id].code,
                    code="community_duplicate",
                    message=_(
                        "%(successor)s can hold one %(year)s registration for its own title: "
                        "the one of %(kept)s is kept (its self-assessment is furthest along, "
                        "or it comes first), the one of %(other)s is withdrawn."
                    )
                    % {
                        "successor": _label(preview, successor),
                        "year": year,
                        "kept": unit.name,
                        "other": preview.units[other.subject_unit_id].name,
                    },
                )
            )
    return result


def _label(preview: Preview, ref: tuple[str, Any]) -> str:
    if ref[0] == "old":
        return preview.units[int(ref[1])].name
    for node in preview.new_units:
        if node.key == ref[1]:
            return node.name
    return ""


def write_community(writer: LayoutWriter, plan_rows: CommunityPlan) -> None:
    """Withdraw and move as laid out; one audit event per registration."""
    from core.models import AuditEvent
    from recognition.models import Assessment, Registration, RegistrationStatus

    result = writer.result
    result["community_moved"] = len(plan_rows.moves)
    result["community_withdrawn"] = len(plan_rows.withdrawals)
    if not plan_rows.rows:
        return
    tenant_id = writer.plan.tenant_id
    actor = writer.actor if getattr(writer.actor, "is_authenticated", False) else None
    plan_ref = {"plan": str(writer.plan.public_id), "plan_name": writer.plan.name}
    events: list[AuditEvent] = []
    withdrawn = list(plan_rows.withdrawals)
    for batch in _chunks(withdrawn):
        Registration.objects.filter(pk__in=batch).update(status=RegistrationStatus.WITHDRAWN)
    by_target: dict[int, list[int]] = defaultdict(list)
    for reg_id, ref in plan_rows.moves.items():
        by_target[writer.resolve(ref)].append(reg_id)
    for new_pk, reg_ids in by_target.items():
        for batch in _chunks(reg_ids):
            Registration.objects.filter(pk__in=batch).update(
                subject_unit_id=new_pk, unit_id=new_pk, proposing_unit_id=new_pk
            )
            Assessment.objects.filter(registration_id__in=batch).update(
                unit_id=new_pk, dossier=None, version=F("version") + 1, updated_at=writer.now
            )
    # A withdrawn registration's draft self-assessment leaves any draft dossier.
    for batch in _chunks(withdrawn):
        Assessment.objects.filter(Q(registration_id__in=batch), dossier__isnull=False).update(
            dossier=None, version=F("version") + 1, updated_at=writer.now
        )
    object_type = Registration._meta.label_lower
    for reg_id, (reason, kept) in plan_rows.withdrawals.items():
        row = plan_rows.rows[reg_id]
        after: dict[str, Any] = {
            "status": RegistrationStatus.WITHDRAWN,
            "reason": reason,
            **plan_ref,
        }
        if kept is not None:
            after["kept"] = plan_rows.rows[kept].public_id
        events.append(
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                unit_id=row.subject_unit_id,
                action="registration.withdraw",
                object_type=object_type,
                object_id=row.public_id,
                before={"status": RegistrationStatus.REGISTERED},
                after=after,
            )
        )
    for reg_id, ref in plan_rows.moves.items():
        row = plan_rows.rows[reg_id]
        new_pk = writer.resolve(ref)
        events.append(
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                unit_id=new_pk,
                action="registration.move",
                object_type=object_type,
                object_id=row.public_id,
                before={"subject_unit": row.subject_unit_id},
                after={"subject_unit": new_pk, **plan_ref},
            )
        )
    AuditEvent.objects.bulk_create(events, batch_size=2000)
