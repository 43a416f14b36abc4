"""The dossier (hồ sơ đề nghị công nhận) of a proposing unit, title and year.

A ward collects its self-assessed (READY) assessments into a dossier and
submits it to the reviewing unit (RULES.md §2.5 for commune CĐHT: the UBND xã
sends the dossier to the Phòng GD&ĐT; §4.2 for families, clans and
neighbourhoods: register → self-assess → review → recognise). Submitting locks
the items (they leave the editable states) and keeps a snapshot, so that a
resubmission after a return shows the reviewer what changed.

Every write here is atomic, checks the actor's role over the proposing unit
and the dossier's state with the row locked, and writes an audit event;
statuses change only through :func:`recognition.transitions.apply_transition`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from recognition.exceptions import (
    DossierError,
    DossierIncompleteError,
    DossierItemsError,
    NoReviewingUnitError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.locks import check_open
from recognition.models import (
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    DossierSubmission,
    Evidence,
    Indicator,
    IndicatorScore,
    Registration,
    RegistrationStatus,
    Stage,
)
from recognition.selectors.dossier import SUBJECT_RELATED, missing_evidence_q, subject_label
from recognition.services.chain import chain_for, reviewing_unit_for
from recognition.services.registration import closed_unit_message
from recognition.titles import Title
from recognition.transitions import (
    ASSESSMENT_TRANSITIONS,
    DOSSIER_TRANSITIONS,
    WARD,
    apply_transition,
    apply_transition_many,
)
from units.levels import Level
from units.models import AdministrativeUnit
from units.selectors import public_id_or_none, roles_at

A = AssessmentStatus

#: Dossier states in which the ward may still add and remove items.
EDITABLE_DOSSIER_STATES = frozenset({DossierStatus.DRAFT, DossierStatus.RETURNED})
#: Item states a (re)submission accepts: READY items go to the reviewer;
#: items the reviewer already decided stay as they are.
SUBMITTABLE_ITEM_STATES = frozenset({A.READY, A.APPROVED, A.REJECTED})
DECIDED_ITEM_STATES = frozenset({A.APPROVED, A.REJECTED})


def _require_ward(actor: Any, unit: AdministrativeUnit) -> None:
    if actor is not None and not (roles_at(actor, unit) & WARD):
        raise RoleNotAllowedError()


def _transition_refused(dossier: Dossier) -> TransitionError:
    return TransitionError(
        TransitionError.default_message % {"status": dossier.get_status_display()},
        current=dossier.status,
    )


class ProposingUnitClosedError(DossierIncompleteError):
    """The dossier's ward was closed by an administrative reorganisation (409);
    a kind of :class:`DossierIncompleteError`: the dossier has nothing to send."""

    code = "proposing_unit_closed"

    def __init__(self, message: str) -> None:
        self.problems = [message]
        DossierError.__init__(self, message)


def _refuse_closed_ward(dossier: Dossier) -> None:
    """A draft dossier of a ward an administrative reorganisation has closed is
    refused with the units that continue it: its items left it for the successor
    when the plan was applied. The unit is read again after the dossier lock (a
    plan applied while this edit waited is seen). A returned dossier was already
    sent: its items stay with the ward they were made under and may be resent."""
    if dossier.status != DossierStatus.DRAFT:
        return
    unit = AdministrativeUnit.objects.get(pk=dossier.proposing_unit_id)
    if unit.valid_to is None:
        return
    dossier.proposing_unit = unit
    raise ProposingUnitClosedError(
        _("%(closed)s Prepare the dossier in the unit that continues it.")
        % {"closed": closed_unit_message(unit)}
    )


def _lock_for_ward(*, actor: Any, dossier: Dossier, expected_version: int | None = None) -> Dossier:
    """Lock the dossier for a ward edit: role, state, version and deadline checked."""
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("proposing_unit", "tenant")
        .get(pk=dossier.pk)
    )
    _require_ward(actor, locked.proposing_unit)
    if locked.status not in EDITABLE_DOSSIER_STATES:
        raise _transition_refused(locked)
    _refuse_closed_ward(locked)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError()
    check_open(
        unit=locked.proposing_unit, title=locked.title, year=locked.year, stage=Stage.DOSSIER
    )
    return locked


# --- Create -------------------------------------------------------------------------


@transaction.atomic
def dossier_for(
    *,
    actor: Any,
    proposing_unit: AdministrativeUnit,
    title: str,
    scope_level: str = "",
    year: int,
    on: dt.date | None = None,
) -> Dossier:
    """The DRAFT (or existing) dossier of ``proposing_unit`` for ``title`` in ``year``.

    One dossier per proposing unit, title, subject level and year. A new one
    goes to the reviewing unit of the review chain in force ``on`` (today by
    default); without a reviewing unit it is refused with a clear message.
    """
    _require_ward(actor, proposing_unit)
    if title not in Title.values:
        raise DossierError(_("Choose a title."))
    scope_level = scope_level or ""
    if scope_level and scope_level not in Level.values:
        raise DossierError(_("Choose a level."))
    today = timezone.localdate()
    if not 2000 <= int(year) <= today.year + 1:
        raise DossierError(
            _("The year must be between 2000 and %(last)s.") % {"last": today.year + 1}
        )
    key = {
        "proposing_unit": proposing_unit,
        "title": title,
        "scope_level": scope_level,
        "year": year,
    }
    existing = Dossier.objects.filter(**key).first()
    if existing is not None:
        return existing
    on = on or today
    if proposing_unit.level == Level.NEIGHBOURHOOD:
        raise DossierError(_("A neighbourhood does not submit dossiers: its ward or commune does."))
    chain = chain_for(
        tenant_id=proposing_unit.tenant_id, title=title, scope_level=scope_level, on=on
    )
    if chain is not None and chain.proposer_level != proposing_unit.level:
        raise DossierError(
            _(
                "Under the review chain in force, “%(title)s” dossiers are proposed at "
                "%(level)s, not by %(unit)s."
            )
            % {
                "title": Title(title).label,
                "level": Level(chain.proposer_level).label.lower(),
                "unit": proposing_unit.name,
            }
        )
    reviewing = reviewing_unit_for(
        proposing_unit=proposing_unit, title=title, scope_level=scope_level, on=on
    )
    if reviewing is None:
        raise NoReviewingUnitError(
            NoReviewingUnitError.default_message
            % {"unit": proposing_unit.name, "title": Title(title).label, "year": year}
        )
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(
                tenant_id=proposing_unit.tenant_id,
                reviewing_unit=reviewing,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                **key,
            )
    except IntegrityError:
        # Someone created it at the same moment: theirs is ours.
        return Dossier.objects.get(**key)
    audit_record(
        actor=actor,
        action="dossier.create",
        obj=dossier,
        tenant=dossier.tenant,
        unit=proposing_unit,
        after={
            "title": title,
            "scope_level": scope_level,
            "year": year,
            "reviewing_unit": reviewing.code,
        },
    )
    return dossier


# --- Items ------------------------------------------------------------------------


def eligible_assessments(dossier: Dossier) -> QuerySet[Assessment]:
    """Assessments that belong in ``dossier``: same proposing unit, title, year and
    subject level, registration not withdrawn (whatever their status)."""
    return Assessment.objects.filter(
        tenant_id=dossier.tenant_id,
        registration__proposing_unit_id=dossier.proposing_unit_id,
        registration__title=dossier.title,
        registration__year=dossier.year,
        criteria_set__scope_level=dossier.scope_level,
    ).exclude(registration__status=RegistrationStatus.WITHDRAWN)


def ready_candidates(dossier: Dossier) -> QuerySet[Assessment]:
    """Self-assessed assessments not yet in any dossier."""
    return eligible_assessments(dossier).filter(status=A.READY, dossier__isnull=True)


def _parse_ids(values: Iterable[Any]) -> tuple[set[uuid.UUID], list[str]]:
    ids, bad = set(), []
    for value in values:
        parsed = public_id_or_none(value)
        if parsed is None:
            bad.append(str(value)[:40])
        else:
            ids.add(parsed)
    return ids, bad


def _touch(dossier: Dossier) -> None:
    """A change of the items is a change of the dossier: a submit form showing the
    old content then fails its version check."""
    Dossier.objects.filter(pk=dossier.pk).update(version=F("version") + 1)


def _attach(*, actor: Any, dossier: Dossier, assessments: list[Assessment]) -> int:
    ids = [a.pk for a in assessments]
    if ids:
        Assessment.objects.filter(pk__in=ids).update(dossier=dossier)
        _touch(dossier)
        audit_record(
            actor=actor,
            action="dossier.add_items",
            obj=dossier,
            tenant=dossier.tenant,
            unit=dossier.proposing_unit,
            after={"count": len(ids), "items": [str(a.public_id) for a in assessments]},
        )
    return len(ids)


@transaction.atomic
def dossier_add_items(*, actor: Any, dossier: Dossier, assessment_ids: Iterable[Any]) -> int:
    """Add the given assessments (public ids); all or nothing. Returns how many
    were added (ids already in this dossier count as done)."""
    locked = _lock_for_ward(actor=actor, dossier=dossier)
    wanted, bad = _parse_ids(assessment_ids)
    if not wanted and not bad:
        raise DossierItemsError([_("choose at least one assessment")])
    found = list(
        eligible_assessments(locked)
        .filter(public_id__in=wanted)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    labels = _labels([a.pk for a in found])
    problems: list[str] = []
    unknown = len(bad) + len(wanted - {a.public_id for a in found})
    if unknown:
        problems.append(
            ngettext(
                "%(count)s assessment is not one of %(unit)s for this title and year",
                "%(count)s assessments are not of %(unit)s for this title and year",
                unknown,
            )
            % {"count": unknown, "unit": locked.proposing_unit.name}
        )
    to_add = []
    for a in found:
        if a.dossier_id == locked.pk:
            continue
        if a.dossier_id is not None:
            problems.append(
                _("%(subject)s is already in another dossier") % {"subject": labels[a.pk]}
            )
        elif a.status != A.READY:
            problems.append(
                _("%(subject)s is “%(status)s”: only self-assessed items can be added")
                % {"subject": labels[a.pk], "status": a.get_status_display()}
            )
        else:
            to_add.append(a)
    if problems:
        raise DossierItemsError(problems)
    return _attach(actor=actor, dossier=locked, assessments=to_add)


@transaction.atomic
def dossier_add_ready(*, actor: Any, dossier: Dossier) -> int:
    """Add every self-assessed assessment that belongs here and is in no dossier."""
    locked = _lock_for_ward(actor=actor, dossier=dossier)
    candidates = list(ready_candidates(locked).select_for_update(of=("self",)).order_by("pk"))
    return _attach(actor=actor, dossier=locked, assessments=candidates)


@transaction.atomic
def dossier_remove_items(*, actor: Any, dossier: Dossier, assessment_ids: Iterable[Any]) -> int:
    """Take items out of the dossier (they stay as they are, outside any dossier).

    Items the reviewer already approved or rejected stay: their decision
    belongs to this dossier.
    """
    locked = _lock_for_ward(actor=actor, dossier=dossier)
    wanted, bad = _parse_ids(assessment_ids)
    if not wanted and not bad:
        raise DossierItemsError([_("choose at least one assessment")])
    found = list(
        Assessment.objects.filter(dossier=locked, public_id__in=wanted)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    problems: list[str] = []
    unknown = len(bad) + len(wanted - {a.public_id for a in found})
    if unknown:
        problems.append(
            ngettext(
                "%(count)s assessment is not in this dossier",
                "%(count)s assessments are not in this dossier",
                unknown,
            )
            % {"count": unknown}
        )
    labels = _labels([a.pk for a in found])
    for a in found:
        if a.status in DECIDED_ITEM_STATES or a.status not in {A.DRAFT, A.READY, A.RETURNED}:
            problems.append(
                _("%(subject)s is “%(status)s” and stays in the dossier")
                % {"subject": labels[a.pk], "status": a.get_status_display()}
            )
    if problems:
        raise DossierItemsError(problems)
    Assessment.objects.filter(pk__in=[a.pk for a in found]).update(dossier=None)
    _touch(locked)
    audit_record(
        actor=actor,
        action="dossier.remove_items",
        obj=locked,
        tenant=locked.tenant,
        unit=locked.proposing_unit,
        after={"count": len(found), "items": [str(a.public_id) for a in found]},
    )
    return len(found)


def _labels(pks: list[int]) -> dict[int, str]:
    rows = Assessment.objects.filter(pk__in=pks).select_related(*SUBJECT_RELATED)
    return {a.pk: subject_label(a) for a in rows}


# --- Progress ---------------------------------------------------------------------


@dataclass(frozen=True)
class DossierProgress:
    registered: int
    assessed: int
    passing: int
    missing_evidence: int
    in_dossier: int
    returned: int
    ready_to_add: int

    def _pct(self, value: int) -> int:
        return round(100 * value / self.registered) if self.registered else 0

    @property
    def assessed_pct(self) -> int:
        return self._pct(self.assessed)

    @property
    def passing_pct(self) -> int:
        return self._pct(self.passing)

    @property
    def missing_evidence_pct(self) -> int:
        return self._pct(self.missing_evidence)

    @property
    def in_dossier_pct(self) -> int:
        return self._pct(self.in_dossier)


def dossier_registrations(dossier: Dossier) -> QuerySet[Registration]:
    qs = Registration.objects.filter(
        tenant_id=dossier.tenant_id,
        proposing_unit_id=dossier.proposing_unit_id,
        title=dossier.title,
        year=dossier.year,
        status=RegistrationStatus.REGISTERED,
    )
    qs = qs.filter(
        Q(assessment__isnull=True) | Q(assessment__criteria_set__scope_level=dossier.scope_level)
    )
    if dossier.title == Title.COMMUNITY and dossier.scope_level:
        qs = qs.filter(subject_unit__level=dossier.scope_level)
    return qs


def dossier_progress(dossier: Dossier) -> DossierProgress:
    """Counts for the builder's progress bars, in a handful of aggregate queries."""
    from django.db.models import Count

    assessments = eligible_assessments(dossier)
    agg = assessments.aggregate(
        assessed=Count("pk", filter=~Q(status=A.DRAFT)),
        passing=Count("pk", filter=~Q(status=A.DRAFT) & Q(self_passed=True)),
        in_dossier=Count("pk", filter=Q(dossier_id=dossier.pk)),
        returned=Count("pk", filter=Q(dossier_id=dossier.pk, status=A.RETURNED)),
        ready=Count("pk", filter=Q(status=A.READY, dossier__isnull=True)),
    )
    missing = assessments.filter(missing_evidence_q()).count()
    return DossierProgress(
        registered=dossier_registrations(dossier).count(),
        assessed=agg["assessed"],
        passing=agg["passing"],
        missing_evidence=missing,
        in_dossier=agg["in_dossier"],
        returned=agg["returned"],
        ready_to_add=agg["ready"],
    )


# --- Submit -----------------------------------------------------------------------


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def submission_snapshot(dossier: Dossier) -> dict[str, Any]:
    """What the reviewer receives: per item its scores, totals, result and files.

    Built from flat value queries (scores and files of the whole dossier in one
    query each), so a dossier of 20,000 items is snapshotted in a few seconds.
    """
    items = (
        Assessment.objects.filter(dossier=dossier).select_related(*SUBJECT_RELATED).order_by("pk")
    )
    indicators = {
        pk: (str(public_id), code)
        for pk, public_id, code in Indicator.objects.filter(
            criterion__criteria_set__in=items.values("criteria_set")
        )
        .order_by("criterion__order", "order")
        .values_list("pk", "public_id", "code")
    }
    order = {pk: n for n, pk in enumerate(indicators)}
    scores: dict[int, list[tuple[int, Any, Any]]] = defaultdict(list)
    for assessment_id, indicator_id, points, level in IndicatorScore.objects.filter(
        assessment__dossier=dossier
    ).values_list("assessment_id", "indicator_id", "self_points", "self_level"):
        scores[assessment_id].append((indicator_id, points, level))
    files: dict[int, list[dict[str, str]]] = defaultdict(list)
    for assessment_id, sha256, name, code in Evidence.objects.filter(
        assessment__dossier=dossier
    ).values_list("assessment_id", "sha256", "original_name", "indicator__code"):
        files[assessment_id].append({"sha256": sha256, "name": name, "indicator": code or ""})
    out: dict[str, Any] = {}
    for a in items:
        out[str(a.public_id)] = {
            "label": subject_label(a),
            "status": a.status,
            "self_total": _dec(a.self_total),
            "self_level": a.self_level,
            "self_grade": a.self_grade,
            "self_passed": a.self_passed,
            "scores": {
                indicators[ind][0]: {
                    "code": indicators[ind][1],
                    "points": _dec(points),
                    "level": level,
                }
                for ind, points, level in sorted(scores[a.pk], key=lambda row: order.get(row[0], 0))
            },
            "evidence": sorted(files[a.pk], key=lambda e: (e["indicator"], e["name"], e["sha256"])),
        }
    return {"items": out}


def submit_problems(dossier: Dossier) -> list[str]:
    """Why ``dossier`` cannot be submitted now (empty when it can).

    Only the items in the way are loaded, so a dossier of thousands of ready
    items costs three small queries.
    """
    items = Assessment.objects.filter(dossier=dossier)
    if not items.exists():
        return [_("the dossier has no items: add the self-assessed assessments first")]
    problems: list[str] = []
    blocking = (
        items.exclude(status__in=SUBMITTABLE_ITEM_STATES)
        .select_related(*SUBJECT_RELATED)
        .order_by("pk")
    )
    for a in blocking:
        if a.status == A.RETURNED:
            problems.append(
                _("%(subject)s was returned: fix it and mark it complete again")
                % {"subject": subject_label(a)}
            )
        else:
            problems.append(
                _("%(subject)s is “%(status)s”: complete its self-assessment")
                % {"subject": subject_label(a), "status": a.get_status_display()}
            )
    if not problems and not items.filter(status=A.READY).exists():
        problems.append(_("no item is waiting to be sent: every item is already decided"))
    return problems


@transaction.atomic
def dossier_submit(
    *, actor: Any, dossier: Dossier, expected_version: int | None = None, base_url: str = ""
) -> Dossier:
    """Send the dossier to the reviewing unit; its READY items lock (SUBMITTED).

    Refused, changing nothing, after the dossier deadline (recognition.locks),
    when it has no item or an item is not self-assessed. Keeps a snapshot
    (submission ``submission_count + 1``) and e-mails the reviewers after commit.
    """
    from recognition.notifications import notify_dossier

    locked = _lock_for_ward(actor=actor, dossier=dossier, expected_version=expected_version)
    problems = submit_problems(locked)
    if problems:
        raise DossierIncompleteError(problems)
    submitted = apply_transition_many(
        queryset=Assessment.objects.filter(dossier=locked, status=A.READY),
        transitions=ASSESSMENT_TRANSITIONS,
        action="submit",
        actor=actor,
        role_unit=locked.proposing_unit,
        changes={"return_reason": ""},
        audit_after={"dossier": str(locked.public_id)},
    )
    number = locked.submission_count + 1
    DossierSubmission.objects.create(
        dossier=locked,
        number=number,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        snapshot=submission_snapshot(locked),
    )
    result = apply_transition(
        obj=locked,
        transitions=DOSSIER_TRANSITIONS,
        action="submit",
        actor=actor,
        role_unit=locked.proposing_unit,
        changes={
            "submission_count": F("submission_count") + 1,
            "submitted_at": timezone.now(),
            "return_reason": "",
        },
        audit_after={"submission": number, "items": submitted},
    )
    notify_dossier(dossier=result, event="submitted", key=f"submitted:{number}", base_url=base_url)
    return result


# --- What changed since the last submission ------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    code: str
    before: str
    after: str


@dataclass
class ItemChange:
    public_id: str
    label: str
    kind: str  # "added", "removed" or "changed"
    scores: list[ScoreChange] = field(default_factory=list)
    evidence_added: list[str] = field(default_factory=list)
    evidence_removed: list[str] = field(default_factory=list)
    total_before: str | None = None
    total_after: str | None = None


@dataclass
class DossierChanges:
    previous: int
    current: int
    items: list[ItemChange]

    @property
    def added(self) -> list[ItemChange]:
        return [i for i in self.items if i.kind == "added"]

    @property
    def removed(self) -> list[ItemChange]:
        return [i for i in self.items if i.kind == "removed"]

    @property
    def changed(self) -> list[ItemChange]:
        return [i for i in self.items if i.kind == "changed"]


def _number(value: str) -> str:
    """``"25.50"`` -> ``"25,5"`` in Vietnamese (no trailing zeros, no exponent)."""
    return formats.number_format(format(Decimal(value).normalize(), "f"), use_l10n=True)


def _score_text(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "—"
    if entry.get("points") is not None:
        return _number(entry["points"])
    if entry.get("level") is not None:
        return _("level %(level)s") % {"level": entry["level"]}
    return "—"


def _total_text(item: dict[str, Any]) -> str | None:
    if item.get("self_total") is not None:
        return _number(item["self_total"])
    if item.get("self_level") is not None:
        return _("level %(level)s") % {"level": item["self_level"]}
    return None


def _compare(key: str, before: dict[str, Any], after: dict[str, Any]) -> ItemChange | None:
    change = ItemChange(public_id=key, label=after.get("label", ""), kind="changed")
    old_scores, new_scores = before.get("scores", {}), after.get("scores", {})
    for ind in sorted(
        set(old_scores) | set(new_scores),
        key=lambda k: (new_scores.get(k) or old_scores.get(k) or {}).get("code", ""),
    ):
        old, new = _score_text(old_scores.get(ind)), _score_text(new_scores.get(ind))
        if old != new:
            code = (new_scores.get(ind) or old_scores.get(ind) or {}).get("code", "")
            change.scores.append(ScoreChange(code=code, before=old, after=new))
    old_files = {e["sha256"]: e for e in before.get("evidence", [])}
    new_files = {e["sha256"]: e for e in after.get("evidence", [])}
    change.evidence_added = [_file_text(new_files[h]) for h in new_files if h not in old_files]
    change.evidence_removed = [_file_text(old_files[h]) for h in old_files if h not in new_files]
    change.total_before, change.total_after = _total_text(before), _total_text(after)
    if change.scores or change.evidence_added or change.evidence_removed:
        return change
    if change.total_before != change.total_after:
        return change
    return None


def _file_text(entry: dict[str, Any]) -> str:
    return f"{entry['indicator']}: {entry['name']}" if entry.get("indicator") else entry["name"]


def dossier_changes(dossier: Dossier) -> DossierChanges | None:
    """Per item, what changed between the last two submissions (``None`` before
    the first resubmission)."""
    if dossier.submission_count < 2:
        return None
    last_two = list(DossierSubmission.objects.filter(dossier=dossier).order_by("-number")[:2])
    if len(last_two) < 2:
        return None
    current, previous = last_two
    old = previous.snapshot.get("items", {})
    new = current.snapshot.get("items", {})
    items: list[ItemChange] = []
    for key in new.keys() - old.keys():
        items.append(ItemChange(public_id=key, label=new[key].get("label", ""), kind="added"))
    for key in old.keys() - new.keys():
        items.append(ItemChange(public_id=key, label=old[key].get("label", ""), kind="removed"))
    for key in new.keys() & old.keys():
        change = _compare(key, old[key], new[key])
        if change is not None:
            items.append(change)
    order = {"changed": 0, "added": 1, "removed": 2}
    items.sort(key=lambda i: (order[i.kind], i.label))
    return DossierChanges(previous=previous.number, current=current.number, items=items)
