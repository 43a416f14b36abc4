"""Rows of other apps tied to a closed unit: which follow it, which stay, and why.

Decided per model (the preview lists each, apply writes them in its transaction):

- :class:`recognition.models.FormLock` (a stage of a title and year locks after
  a deadline for the unit and everything under it, e.g. commune CĐHT dossiers
  by 28 February, RULES.md §2.5) — **copied** to the units
  that continue the closed one, for the plan's year and later: the successor's
  wards must not reopen a stage that closed for them because of a reform, nor
  lose one that is still to close. A merge gives the successor one lock per
  title, year and stage with the **latest** time of its parts (the reform must
  not shorten anyone's deadline), and every extension granted on those locks
  (unit mapped to its successor). A split copies it to every new unit (the
  deadline applied to the whole old unit). An abolished district's locks go to
  the units that continue its communes. The old rows stay: they are what
  applied to the old units (a deadline's ``form_lock`` keeps pointing at the
  original).
- :class:`recognition.models.IssuerProfile` (who signs the unit's decisions) —
  **copied** only when one unit continues the closed one alone (rename,
  re-code, move): the same People's Committee under a new name or code, so the
  copy keeps signer, symbol and standing legal bases and writes the new name
  into the agency lines. A merged or split commune is a new People's Committee
  with a new chairman: copying a predecessor's signer would put the wrong name
  in the signature block ("TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH", Nghị định
  30/2020/NĐ-CP, RULES.md §6.3) of the successor's first decisions, so nothing is copied and the preview
  warns that the successor has no profile (decisions start from the defaults
  derived from its name until a reviewer saves one). The old profiles stay for
  reprinting the old units' decisions.
- :class:`campaigns.models.Target` of a campaign still running (``end_year`` ≥
  the plan's year), for the plan's year and later — **carried** to the
  successor in the same plan: a count target of merged wards is summed; a rate
  target takes the highest of the parts (a plan may tighten a target, never
  loosen it, so no part's commitment drops). A split copies a rate target to
  every new unit; a count target cannot be divided by the engine and goes to
  the default new unit, flagged. Past years and finished campaigns stay
  (decided history); an abolished unit's targets stay and are flagged; so do
  the targets of a plan whose issuing unit the reorganisation closes (the
  plan stays that unit's document, see below).
- :class:`campaigns.models.Event` organised by a closed unit and starting on or
  after the plan's date — the **successor** organises it (for a split the
  default new unit, flagged); events already under way stay with their unit.
- Plans (:class:`campaigns.models.Plan`) are documents issued by the closed
  unit's People's Committee: they **stay**, and a running one is flagged so the
  successor issues its own. Deadlines hang on their plan (no unit);
  nominations and event reports are decided or submitted by the old unit and
  **stay** (open nominations are flagged: the award form depends on the level
  of the unit that proposed them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import F, Model, QuerySet
from django.utils.translation import gettext as _

from core.text import nfc
from units.reorganisation.preview import CHUNK, Notice, Preview, _chunks

if TYPE_CHECKING:
    from units.reorganisation.apply import LayoutWriter

Ref = tuple[str, Any]
M = TypeVar("M", bound=Model)


@dataclass
class LockCopy:
    heir: Ref
    source_ids: list[int]
    title: str
    year: int
    stage: str
    locks_at: Any
    label: str


@dataclass
class TargetCarry:
    plan_id: int
    heir: Ref
    title: str
    year: int
    kind: str
    value: Decimal
    source_ids: list[int]


@dataclass
class LinkPlan:
    locks: list[LockCopy] = field(default_factory=list)
    #: closed unit -> the unit that continues it alone (profile copied).
    profiles: dict[int, Ref] = field(default_factory=dict)
    targets: list[TargetCarry] = field(default_factory=list)
    #: event pk -> successor.
    events: dict[int, Ref] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "form_locks": len(self.locks),
            "issuer_profiles": len(self.profiles),
            "targets": len(self.targets),
            "events": len(self.events),
        }


def _of_closed(queryset: QuerySet[M], field: str, closed: list[int]) -> Iterator[M]:
    """The rows of ``queryset`` whose ``field`` is a closed unit. A small plan: one
    ``IN`` list per 5,000 units. A large one (the national plan closes ~100,000
    units with their neighbourhoods): one read of the tenant's rows, filtered here,
    as the preview's counts do; these tables hold a few rows per unit at most,
    while planning twenty ``IN`` lists of 5,000 costs seconds even on empty tables."""
    if len(closed) <= CHUNK:
        if closed:
            yield from queryset.filter(**{f"{field}__in": closed})
        return
    wanted = set(closed)
    for row in queryset.iterator(chunk_size=2000):
        if getattr(row, field) in wanted:
            yield row


def heirs_of(preview: Preview) -> dict[int, list[Ref]]:
    """Closed unit -> every unit that continues (a part of) it: a step's targets,
    a child's copy, for an abolished unit the heirs of its children."""
    heirs: dict[int, list[Ref]] = {}
    for step in preview.steps:
        refs: list[Ref] = [("new", n.key) for n in step.creates]
        for ref in step.closes:
            heirs[ref.pk] = refs
    for pk in preview.closed_by:
        if pk not in heirs and pk in preview.exclusive and pk in preview.successor:
            heirs[pk] = [preview.successor[pk]]
    abolished = {u.pk for u in preview.abolished}
    if abolished:
        for unit in preview.units.values():
            if unit.parent_id in abolished and unit.pk in heirs:
                heirs.setdefault(unit.parent_id, []).extend(heirs[unit.pk])
    return {pk: list(dict.fromkeys(refs)) for pk, refs in heirs.items()}


def _step_kind(preview: Preview) -> dict[int, str]:
    return {ref.pk: step.kind for step in preview.steps for ref in step.closes}


def _label(preview: Preview, ref: Ref) -> str:
    if ref[0] == "old":
        return preview.units[int(ref[1])].name
    return next((n.name for n in preview.new_units if n.key == ref[1]), "")


def plan_links(preview: Preview) -> LinkPlan:
    """What apply does with the rows tied to the closed units (a read)."""
    links = LinkPlan()
    closed = list(preview.closed_by)
    if not closed:
        return links
    heirs = heirs_of(preview)
    _plan_locks(preview, closed, heirs, links)
    _plan_profiles(preview, closed, links)
    _plan_targets(preview, closed, heirs, links)
    _plan_campaign_rows(preview, closed, links)
    return links


def _plan_locks(
    preview: Preview, closed: list[int], heirs: dict[int, list[Ref]], links: LinkPlan
) -> None:
    from recognition.models import FormLock

    year = preview.plan.effective_on.year
    groups: dict[tuple[Ref, str, int, str], list[Any]] = defaultdict(list)
    in_force = FormLock.objects.filter(tenant_id=preview.plan.tenant_id, year__gte=year)
    for lock in _of_closed(in_force.order_by("pk"), "unit_id", closed):
        for heir in heirs.get(lock.unit_id, []):
            groups[(heir, lock.title, lock.year, lock.stage)].append(lock)
    for (heir, title, lock_year, stage), locks in groups.items():
        latest = max(locks, key=lambda lock: (lock.locks_at, lock.pk))
        links.locks.append(
            LockCopy(
                heir=heir,
                source_ids=[lock.pk for lock in locks],
                title=title,
                year=lock_year,
                stage=stage,
                locks_at=latest.locks_at,
                label=latest.label,
            )
        )


def _plan_profiles(preview: Preview, closed: list[int], links: LinkPlan) -> None:
    from recognition.models import IssuerProfile

    profiles = IssuerProfile.objects.filter(tenant_id=preview.plan.tenant_id).only("unit_id")
    with_profile = {p.unit_id for p in _of_closed(profiles, "unit_id", closed)}
    for pk in sorted(with_profile):
        if pk in preview.exclusive and pk in preview.successor:
            links.profiles[pk] = preview.successor[pk]
    for step in preview.steps:
        if step.kind not in ("merge", "split"):
            continue
        had = [ref.name for ref in step.closes if ref.pk in with_profile]
        if not had:
            continue
        for node in step.creates:
            links.notices.append(
                Notice(
                    step=step.position,
                    unit_code=node.code,
                    code="issuer_profile_missing",
                    message=_(
                        "%(unit)s will have no decision signer profile: %(old)s keep theirs "
                        "for their past decisions. Until a reviewer saves its profile "
                        "(signer, symbol, standing legal bases), its decisions start from "
                        "the defaults derived from its name."
                    )
                    % {"unit": node.name, "old": ", ".join(had)},
                )
            )


def _plan_targets(
    preview: Preview, closed: list[int], heirs: dict[int, list[Ref]], links: LinkPlan
) -> None:
    from campaigns.models import Target, TargetKind

    year = preview.plan.effective_on.year
    kinds = _step_kind(preview)
    abolished = {u.pk for u in preview.abolished}
    groups: dict[tuple[int, Ref, str, int, str], list[Any]] = defaultdict(list)
    targets = Target.objects.filter(
        plan__tenant_id=preview.plan.tenant_id, plan__end_year__gte=year, year__gte=year
    ).select_related("plan")
    for target in _of_closed(targets.order_by("pk"), "unit_id", closed):
        unit = preview.units[target.unit_id]
        if target.plan.issuing_unit_id in preview.closed_by:
            continue  # the plan itself stays a document of a closed unit (flagged)
        if target.unit_id in abolished:
            links.notices.append(
                Notice(
                    step=None,
                    unit_code=unit.code,
                    code="target_abolished",
                    message=_(
                        "The %(year)s target of %(unit)s in %(plan)s stays with it: the "
                        "plan abolishes its level."
                    )
                    % {"year": target.year, "unit": unit.name, "plan": _plan_name(target.plan)},
                )
            )
            continue
        split = kinds.get(target.unit_id) == "split"
        if split and target.kind == TargetKind.COUNT:
            successor = preview.successor.get(target.unit_id)
            if successor is None:
                continue
            refs = [successor]
            links.notices.append(
                Notice(
                    step=preview.closed_by.get(target.unit_id),
                    unit_code=unit.code,
                    code="target_split_count",
                    message=_(
                        "The %(year)s target of %(value)s for %(unit)s in %(plan)s goes "
                        "whole to %(successor)s: divide it between the new units."
                    )
                    % {
                        "year": target.year,
                        "value": int(target.value),
                        "unit": unit.name,
                        "plan": _plan_name(target.plan),
                        "successor": _label(preview, successor),
                    },
                )
            )
        else:
            refs = heirs.get(target.unit_id, [])
        for ref in refs:
            groups[(target.plan_id, ref, target.title, target.year, target.kind)].append(target)
    for (plan_id, ref, title, target_year, kind), parts in groups.items():
        values = [Decimal(t.value) for t in parts]
        value = sum(values, Decimal(0)) if kind == TargetKind.COUNT else max(values)
        links.targets.append(
            TargetCarry(
                plan_id=plan_id,
                heir=ref,
                title=title,
                year=target_year,
                kind=kind,
                value=value,
                source_ids=[t.pk for t in parts],
            )
        )
    # One row per plan, unit, title and year (target_unique): a rate and a count
    # target of the same title would collide; keep the count (the firmer figure).
    seen: dict[tuple[int, Ref, str, int], TargetCarry] = {}
    for carry in links.targets:
        key = (carry.plan_id, carry.heir, carry.title, carry.year)
        if key not in seen or carry.kind == TargetKind.COUNT:
            seen[key] = carry
    links.targets = list(seen.values())


def _plan_name(plan: Any) -> str:
    return plan.reference or nfc(plan.title)[:80]


def _plan_campaign_rows(preview: Preview, closed: list[int], links: LinkPlan) -> None:
    from campaigns.models import Event, Nomination, NominationStatus, Plan

    eff = preview.plan.effective_on
    kinds = _step_kind(preview)
    abolished = {u.pk for u in preview.abolished}
    events = Event.objects.filter(tenant_id=preview.plan.tenant_id, starts_on__gte=eff)
    for event in _of_closed(events.order_by("pk"), "unit_id", closed):
        successor = preview.successor.get(event.unit_id)
        unit = preview.units[event.unit_id]
        if event.unit_id in abolished or successor is None:
            links.notices.append(
                Notice(
                    step=None,
                    unit_code=unit.code,
                    code="event_stays",
                    message=_(
                        "%(event)s, organised by %(unit)s from %(date)s, stays with it: "
                        "the plan abolishes its level."
                    )
                    % {
                        "event": event.name,
                        "unit": unit.name,
                        "date": event.starts_on.strftime("%d/%m/%Y"),
                    },
                )
            )
            continue
        links.events[event.pk] = successor
        if kinds.get(event.unit_id) == "split":
            links.notices.append(
                Notice(
                    step=preview.closed_by.get(event.unit_id),
                    unit_code=unit.code,
                    code="event_split",
                    message=_("%(event)s is now organised by %(successor)s (the default new unit).")
                    % {"event": event.name, "successor": _label(preview, successor)},
                )
            )
    plans = Plan.objects.filter(tenant_id=preview.plan.tenant_id, end_year__gte=eff.year)
    for plan in _of_closed(plans.order_by("pk"), "issuing_unit_id", closed):
        unit = preview.units[plan.issuing_unit_id]
        links.notices.append(
            Notice(
                step=preview.closed_by.get(plan.issuing_unit_id),
                unit_code=unit.code,
                code="plan_issuer_closed",
                message=_(
                    "Plan %(plan)s of %(unit)s runs until %(end)s: it stays a document of "
                    "%(unit)s; the unit that continues it issues its own plan."
                )
                % {"plan": _plan_name(plan), "unit": unit.name, "end": plan.end_year},
            )
        )
    open_nominations = Nomination.objects.filter(
        tenant_id=preview.plan.tenant_id,
        status__in=[NominationStatus.PROPOSED, NominationStatus.REVIEWED],
    ).only("nominating_unit_id")
    counted: dict[int, int] = defaultdict(int)
    for nomination in _of_closed(open_nominations, "nominating_unit_id", closed):
        counted[nomination.nominating_unit_id] += 1
    for unit_id, n in sorted(counted.items()):
        unit = preview.units[unit_id]
        links.notices.append(
            Notice(
                step=preview.closed_by.get(unit_id),
                unit_code=unit.code,
                code="nominations_open",
                message=_(
                    "%(unit)s has %(n)s open award nominations: they stay with it; decide "
                    "them, or the unit that continues it proposes them again."
                )
                % {"unit": unit.name, "n": n},
            )
        )


def write_links(writer: LayoutWriter, links: LinkPlan) -> None:
    """Copy the locks, profiles and targets, move the events (bulk, audited)."""
    from campaigns.models import Event, Target
    from core.models import AuditEvent
    from recognition.models import FormLock, IssuerProfile, LockExtension

    plan = writer.plan
    tenant_id = plan.tenant_id
    actor = writer.actor if getattr(writer.actor, "is_authenticated", False) else None
    plan_ref = {"plan": str(plan.public_id)}
    events: list[AuditEvent] = []
    writer.result.update(links.counts())

    # Form locks and their extensions.
    new_locks = [
        FormLock(
            tenant_id=tenant_id,
            unit_id=writer.resolve(copy.heir),
            title=copy.title,
            year=copy.year,
            stage=copy.stage,
            locks_at=copy.locks_at,
            label=copy.label,
        )
        for copy in links.locks
    ]
    FormLock.objects.bulk_create(new_locks, batch_size=2000)
    source_ids = sorted({pk for copy in links.locks for pk in copy.source_ids})
    extensions: dict[int, list[LockExtension]] = defaultdict(list)
    for batch in _chunks(source_ids):
        for ext in LockExtension.objects.filter(lock_id__in=batch):
            extensions[ext.lock_id].append(ext)
    new_extensions: list[LockExtension] = []
    for copy, lock in zip(links.locks, new_locks, strict=True):
        best: dict[int, LockExtension] = {}
        for source in copy.source_ids:
            for ext in extensions.get(source, []):
                ref = writer.preview.successor.get(ext.unit_id)
                unit_id = writer.resolve(ref) if ref is not None else ext.unit_id
                if unit_id not in best or ext.until > best[unit_id].until:
                    best[unit_id] = LockExtension(
                        lock=lock,
                        unit_id=unit_id,
                        until=ext.until,
                        reason=ext.reason,
                        granted_by_id=ext.granted_by_id,
                    )
        new_extensions.extend(best.values())
        events.append(
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                unit_id=lock.unit_id,
                action="form_lock.copy",
                object_type=FormLock._meta.label_lower,
                object_id=str(lock.public_id),
                after={"from": copy.source_ids, "locks_at": lock.locks_at.isoformat(), **plan_ref},
            )
        )
    LockExtension.objects.bulk_create(new_extensions, batch_size=2000)

    # Issuer profiles of units continued alone.
    if links.profiles:
        old_profiles = {
            p.unit_id: p for p in IssuerProfile.objects.filter(unit_id__in=list(links.profiles))
        }
        copied = [
            f.name
            for f in IssuerProfile._meta.concrete_fields
            if f.name not in {"id", "public_id", "tenant", "unit", "updated_at"}
        ]
        new_profiles: list[IssuerProfile] = []
        for old_pk, ref in links.profiles.items():
            profile = old_profiles[old_pk]
            new_pk = writer.resolve(ref)
            old_name = nfc(writer.preview.units[old_pk].name)
            new_name = nfc(_label(writer.preview, ref)) or old_name
            data = {name: getattr(profile, name) for name in copied}
            data["agency"] = profile.agency.replace(old_name.upper(), new_name.upper())
            data["authority"] = profile.authority.replace(old_name.upper(), new_name.upper())
            data["place_name"] = profile.place_name.replace(old_name, new_name)
            saved = IssuerProfile(tenant_id=tenant_id, unit_id=new_pk, **data)
            new_profiles.append(saved)
            events.append(
                AuditEvent(
                    tenant_id=tenant_id,
                    actor=actor,
                    unit_id=new_pk,
                    action="issuer_profile.copy",
                    object_type=IssuerProfile._meta.label_lower,
                    object_id=str(saved.public_id),
                    after={"from": str(profile.public_id), "agency": saved.agency, **plan_ref},
                )
            )
        IssuerProfile.objects.bulk_create(new_profiles, batch_size=2000)

    # Campaign targets carried to the successors.
    Target.objects.bulk_create(
        [
            Target(
                plan_id=carry.plan_id,
                unit_id=writer.resolve(carry.heir),
                title=carry.title,
                year=carry.year,
                kind=carry.kind,
                value=carry.value,
            )
            for carry in links.targets
        ],
        batch_size=2000,
    )
    for carry in links.targets:
        events.append(
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                unit_id=writer.resolve(carry.heir),
                action="target.carry",
                object_type=Target._meta.label_lower,
                object_id=str(carry.plan_id),
                after={
                    "from": carry.source_ids,
                    "title": carry.title,
                    "year": carry.year,
                    "kind": carry.kind,
                    "value": str(carry.value),
                    **plan_ref,
                },
            )
        )

    # Events not yet begun.
    by_successor: dict[int, list[int]] = defaultdict(list)
    for event_pk, ref in links.events.items():
        by_successor[writer.resolve(ref)].append(event_pk)
    for new_pk, pks in by_successor.items():
        public_ids = list(Event.objects.filter(pk__in=pks).values_list("public_id", flat=True))
        Event.objects.filter(pk__in=pks).update(unit_id=new_pk, version=F("version") + 1)
        events.extend(
            AuditEvent(
                tenant_id=tenant_id,
                actor=actor,
                unit_id=new_pk,
                action="event.move",
                object_type=Event._meta.label_lower,
                object_id=str(public_id),
                after={"unit_id": new_pk, **plan_ref},
            )
            for public_id in public_ids
        )
    AuditEvent.objects.bulk_create(events, batch_size=2000)
