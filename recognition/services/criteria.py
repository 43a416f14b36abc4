"""Writes on criteria sets: create, clone, new version, edit while draft,
publish (with every problem listed), retire.

A published set is immutable; editing makes a new version and every
assessment keeps the version it was scored under (issue 4, item 2; RULES.md
§12). The shipped national sets (``tenant=None``) are read-only for tenants:
a province adapts one by cloning it (QĐ 448/QĐ-KHVN calls itself "Bộ tiêu chí
khung", a framework localities may adapt — RULES.md §4.1 [S25b]).

Only a tenant administrator at the tenant's root writes. Every write locks the
set row, checks ``edit_version`` (optimistic concurrency: a stale form gets a
clear conflict message and changes nothing), and writes one audit event on the
set, so the set's history lists its criteria and indicator edits too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import ConcurrentEditError
from core.text import fold, nfc
from recognition.exceptions import (
    CriteriaCodeTakenError,
    CriteriaDraftExistsError,
    CriteriaSetError,
    CriteriaSetReadOnlyError,
    IncompleteSetError,
    PublishedSetImmutableError,
    RoleNotAllowedError,
    TransitionError,
)
from recognition.models import (
    AreaClass,
    CriteriaSet,
    Criterion,
    Indicator,
    ScoringMethod,
    SetStatus,
)
from recognition.scoring import requirement_levels
from recognition.selectors.criteria import can_manage_criteria
from recognition.titles import Title
from units.levels import Level
from units.models import Tenant

# --- Fields -------------------------------------------------------------------------

#: Set fields an administrator edits (``code`` names the set across its
#: versions, so it is chosen once, at creation or clone).
SET_FIELDS: tuple[str, ...] = (
    "title",
    "scope_level",
    "name",
    "legal_basis",
    "source_note",
    "year_from",
    "year_to",
    "method",
    "needs_completion",
    "max_total",
    "pass_thresholds",
    "min_indicator_points",
    "grade_bands",
    "levels",
    "validity_years",
    "upgrade_after_months",
)

CRITERION_FIELDS: tuple[str, ...] = ("code", "name", "description", "max_points")

INDICATOR_FIELDS: tuple[str, ...] = (
    "code",
    "text",
    "guidance",
    "max_points",
    "min_points",
    "requirements",
    "evidence_required",
    "needs_completion",
)

FIRST_YEAR, LAST_YEAR = 1990, 2100


def _text(value: Any) -> str:
    """Multi-line user text, NFC line by line; runs of blank lines become one."""
    lines: list[str] = []
    for raw in str(value or "").splitlines():
        line = nfc(raw)
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _number(value: Any, what: str) -> Decimal | None:
    """A non-negative decimal or None; anything else is refused with a message."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise CriteriaSetError(_("%(what)s must be a number.") % {"what": what}) from exc
    if not number.is_finite() or number < 0:
        raise CriteriaSetError(_("%(what)s must be a number of zero or more.") % {"what": what})
    if number >= 10000:
        raise CriteriaSetError(_("%(what)s must be below 10,000.") % {"what": what})
    return number.quantize(Decimal("0.01"))


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def num(value: Any) -> str:
    """A point value as people write it (80, 2,5), for messages."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return formats.number_format(int(number), use_l10n=True)
    return formats.number_format(number.normalize(), use_l10n=True)


def _int_or_none(value: Any, what: str, *, low: int = 0, high: int = 1000) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise CriteriaSetError(_("%(what)s must be a whole number.") % {"what": what}) from exc
    if not low <= number <= high:
        raise CriteriaSetError(
            _("%(what)s must be between %(low)s and %(high)s.")
            % {"what": what, "low": low, "high": high}
        )
    return number


def _clean_thresholds(value: Any) -> dict[str, int | float]:
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise CriteriaSetError(_("The pass thresholds are not in the expected form."))
    cleaned: dict[str, int | float] = {}
    for area, raw in value.items():
        if area not in AreaClass.values:
            raise CriteriaSetError(_("Unknown area class: %(area)s.") % {"area": area})
        number = _number(raw, _("The pass threshold"))
        if number is not None:
            cleaned[area] = _json_number(number)
    return cleaned


def _clean_bands(value: Any) -> list[dict[str, Any]]:
    """Grade bands, highest first, each with a code, a label and a minimum."""
    if not value:
        return []
    if not isinstance(value, list | tuple):
        raise CriteriaSetError(_("The grade bands are not in the expected form."))
    bands: list[dict[str, Any]] = []
    for band in value:
        label = nfc(str(band.get("label", "")))
        minimum = _number(band.get("min"), _("The minimum of a grade band"))
        if not label or minimum is None:
            raise CriteriaSetError(_("Every grade band needs a name and a minimum total."))
        code = nfc(str(band.get("code") or "")) or fold(label).replace(" ", "_")
        bands.append({"code": code[:32], "label": label, "min": _json_number(minimum)})
    if len({b["code"] for b in bands}) != len(bands):
        raise CriteriaSetError(_("Two grade bands have the same name."))
    if len({b["min"] for b in bands}) != len(bands):
        raise CriteriaSetError(_("Two grade bands have the same minimum total."))
    return sorted(bands, key=lambda b: Decimal(str(b["min"])), reverse=True)


def _clean_levels(value: Any) -> list[dict[str, Any]]:
    if not value:
        return []
    if not isinstance(value, list | tuple):
        raise CriteriaSetError(_("The levels are not in the expected form."))
    levels: list[dict[str, Any]] = []
    for item in value:
        number = _int_or_none(item.get("number"), _("A level number"), low=1, high=9)
        label = nfc(str(item.get("label", "")))
        if number is None or not label:
            raise CriteriaSetError(_("Every level needs a number and a name."))
        levels.append({"number": number, "label": label})
    numbers = sorted(lv["number"] for lv in levels)
    if numbers != list(range(1, len(numbers) + 1)):
        raise CriteriaSetError(_("Levels are numbered 1, 2, … without gaps or repeats."))
    return sorted(levels, key=lambda lv: lv["number"])


def _clean_set_fields(fields: Mapping[str, Any], current: CriteriaSet | None) -> dict[str, Any]:
    """Validate and normalise set fields (all of them when creating)."""
    unknown = set(fields) - set(SET_FIELDS) - {"code"}
    if unknown:
        raise CriteriaSetError(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})

    def get(name: str, default: Any = None) -> Any:
        if name in fields:
            return fields[name]
        return getattr(current, name) if current is not None else default

    cleaned: dict[str, Any] = {}
    title = get("title")
    if title not in Title.values:
        raise CriteriaSetError(_("Choose the title the set is for."))
    scope_level = get("scope_level", "") or ""
    if scope_level and scope_level not in Level.values:
        raise CriteriaSetError(_("Unknown subject level."))
    method = get("method")
    if method not in ScoringMethod.values:
        raise CriteriaSetError(_("Choose the scoring method (points or levels)."))
    name = nfc(get("name", ""))
    if not name:
        raise CriteriaSetError(_("The set needs a name."))
    legal_basis = _text(get("legal_basis", ""))
    if not legal_basis:
        raise CriteriaSetError(_("Cite the legal basis of the set (one document per line)."))
    year_from = _int_or_none(get("year_from"), _("The first year"), low=FIRST_YEAR, high=LAST_YEAR)
    if year_from is None:
        raise CriteriaSetError(_("Give the first year the set applies to."))
    year_to = _int_or_none(get("year_to"), _("The last year"), low=FIRST_YEAR, high=LAST_YEAR)
    if year_to is not None and year_to < year_from:
        raise CriteriaSetError(_("The last year cannot be before the first year."))
    cleaned.update(
        title=title,
        scope_level=scope_level,
        method=method,
        name=name[:300],
        legal_basis=legal_basis,
        source_note=_text(get("source_note", "")),
        year_from=year_from,
        year_to=year_to,
        needs_completion=bool(get("needs_completion", False)),
        max_total=_number(get("max_total"), _("The maximum total")),
        pass_thresholds=_clean_thresholds(get("pass_thresholds", {})),
        min_indicator_points=_number(
            get("min_indicator_points"), _("The minimum points of every indicator")
        ),
        grade_bands=_clean_bands(get("grade_bands", [])),
        levels=_clean_levels(get("levels", [])),
        validity_years=_int_or_none(get("validity_years"), _("The validity"), high=50),
        upgrade_after_months=_int_or_none(
            get("upgrade_after_months"), _("The waiting time before a higher level"), high=240
        ),
    )
    if method == ScoringMethod.LEVELS and not cleaned["levels"]:
        cleaned["levels"] = [
            {"number": 1, "label": "Mức độ 1"},
            {"number": 2, "label": "Mức độ 2"},
        ]
    if current is None or "code" in fields:
        code = nfc(str(fields.get("code", "")))
        if not code:
            raise CriteriaSetError(_("The set needs a code."))
        cleaned["code"] = code[:64]
    return cleaned


def _clean_criterion(fields: Mapping[str, Any]) -> dict[str, Any]:
    code = nfc(str(fields.get("code", "")))
    name = nfc(str(fields.get("name", "")))
    if not code or not name:
        raise CriteriaSetError(_("A criterion needs a code and a name."))
    return {
        "code": code[:32],
        "name": name[:500],
        "description": _text(fields.get("description", "")),
        "max_points": _number(fields.get("max_points"), _("The maximum points")),
    }


def _clean_indicator(fields: Mapping[str, Any]) -> dict[str, Any]:
    code = nfc(str(fields.get("code", "")))
    text = _text(fields.get("text", ""))
    if not code or not text:
        raise CriteriaSetError(_("An indicator needs a code and a text."))
    max_points = _number(fields.get("max_points"), _("The maximum points"))
    min_points = _number(fields.get("min_points"), _("The minimum points"))
    if max_points is not None and min_points is not None and min_points > max_points:
        raise CriteriaSetError(
            _("The minimum points (%(min)s) cannot be above the maximum (%(max)s).")
            % {"min": num(min_points), "max": num(max_points)}
        )
    raw = fields.get("requirements") or {}
    if not isinstance(raw, Mapping):
        raise CriteriaSetError(_("The requirements per level are not in the expected form."))
    requirements: dict[str, str] = {}
    for key, value in raw.items():
        if not str(key).isdigit() or int(str(key)) < 1:
            raise CriteriaSetError(_("Requirements are given per level number (1, 2, …)."))
        cleaned = _text(value)
        if cleaned:
            requirements[str(int(str(key)))] = cleaned
    return {
        "code": code[:32],
        "text": text,
        "guidance": _text(fields.get("guidance", "")),
        "max_points": max_points,
        "min_points": min_points,
        "requirements": requirements,
        "evidence_required": bool(fields.get("evidence_required", False)),
        "needs_completion": bool(fields.get("needs_completion", False)),
    }


# --- Snapshots for the audit trail ----------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _set_snapshot(cs: CriteriaSet) -> dict[str, Any]:
    return {
        "code": cs.code,
        "version": cs.version,
        "status": cs.status,
        **{name: _plain(getattr(cs, name)) for name in SET_FIELDS},
    }


def _criterion_snapshot(c: Criterion) -> dict[str, Any]:
    return {"order": c.order, **{n: _plain(getattr(c, n)) for n in CRITERION_FIELDS}}


def _indicator_snapshot(i: Indicator) -> dict[str, Any]:
    return {
        "indicator": str(i.public_id),
        "order": i.order,
        **{n: _plain(getattr(i, n)) for n in INDICATOR_FIELDS},
    }


# --- Guards ---------------------------------------------------------------------------------


def _require_admin(actor: Any, tenant_id: int | None) -> None:
    """The tenant's root administrator (``actor=None`` is the system: the loader)."""
    if actor is None:
        return
    if tenant_id is None or actor.tenant_id != tenant_id or not can_manage_criteria(actor):
        raise RoleNotAllowedError()


def _lock(criteria_set: CriteriaSet) -> CriteriaSet:
    return CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)


def _editable(actor: Any, criteria_set: CriteriaSet, expected_version: int) -> CriteriaSet:
    """Lock the set and check it may be edited by ``actor`` now, or raise."""
    if criteria_set.tenant_id is None:
        if actor is not None and not can_manage_criteria(actor):
            raise RoleNotAllowedError()
        raise CriteriaSetReadOnlyError()
    _require_admin(actor, criteria_set.tenant_id)
    locked = _lock(criteria_set)
    if locked.status != SetStatus.DRAFT:
        raise PublishedSetImmutableError()
    if locked.edit_version != expected_version:
        raise ConcurrentEditError()
    return locked


def _touch(locked: CriteriaSet, **changes: Any) -> CriteriaSet:
    CriteriaSet.objects.filter(pk=locked.pk).update(edit_version=F("edit_version") + 1, **changes)
    locked.refresh_from_db()
    return locked


def _audit(actor: Any, action: str, cs: CriteriaSet, **kwargs: Any) -> None:
    audit_record(actor=actor, action=action, obj=cs, tenant=cs.tenant, **kwargs)


def _owned_by(tenant_id: int | None) -> QuerySet[CriteriaSet]:
    """The sets of a tenant (``None``: the shipped ones)."""
    if tenant_id is None:
        return CriteriaSet.objects.filter(tenant__isnull=True)
    return CriteriaSet.objects.filter(tenant_id=tenant_id)


def _code_taken(tenant_id: int | None, code: str) -> bool:
    return _owned_by(tenant_id).filter(code=code).exists()


def _lock_owner(tenant_id: int | None) -> None:
    """Serialise set creation per tenant so the code check cannot race."""
    if tenant_id is not None:
        Tenant.objects.select_for_update().filter(pk=tenant_id).first()


# --- Creating ----------------------------------------------------------------------------------


def _copy_content(source: CriteriaSet, target: CriteriaSet) -> None:
    """Copy the criteria and indicators of ``source`` into ``target`` (new ids)."""
    for criterion in Criterion.objects.filter(criteria_set=source).order_by("order"):
        copy = Criterion.objects.create(
            criteria_set=target,
            order=criterion.order,
            **{n: getattr(criterion, n) for n in CRITERION_FIELDS},
        )
        Indicator.objects.bulk_create(
            Indicator(
                criterion=copy,
                order=indicator.order,
                **{n: getattr(indicator, n) for n in INDICATOR_FIELDS},
            )
            for indicator in Indicator.objects.filter(criterion=criterion).order_by("order")
        )


def _insert(tenant_id: int | None, values: dict[str, Any]) -> CriteriaSet:
    try:
        with transaction.atomic():
            return CriteriaSet.objects.create(tenant_id=tenant_id, **values)
    except IntegrityError as exc:
        raise CriteriaCodeTakenError(
            CriteriaCodeTakenError.default_message % {"code": values["code"]}
        ) from exc


@transaction.atomic
def criteria_set_create(
    *, actor: Any, tenant: Tenant | None, fields: Mapping[str, Any]
) -> CriteriaSet:
    """A new, empty draft set of ``tenant`` (``None``: a shipped set, system only)."""
    tenant_id = tenant.pk if tenant is not None else None
    if tenant_id is None and actor is not None:
        raise CriteriaSetReadOnlyError()
    _require_admin(actor, tenant_id)
    values = _clean_set_fields(fields, None)
    _lock_owner(tenant_id)
    if _code_taken(tenant_id, values["code"]):
        raise CriteriaCodeTakenError(
            CriteriaCodeTakenError.default_message % {"code": values["code"]}
        )
    cs = _insert(tenant_id, {**values, "version": 1, "status": SetStatus.DRAFT})
    _audit(actor, "criteria_set.create", cs, after=_set_snapshot(cs))
    return cs


@transaction.atomic
def criteria_set_import(*, tenant: Tenant | None, data: Mapping[str, Any]) -> CriteriaSet:
    """Create a set with its criteria and indicators from a definition (the shipped
    sets of ``recognition/shipped/``); the system is the actor. The set stays a
    draft unless the definition asks for publication and nothing is missing."""
    fields = {k: v for k, v in data.items() if k in SET_FIELDS or k == "code"}
    tenant_id = tenant.pk if tenant is not None else None
    values = _clean_set_fields(fields, None)
    version = int(data.get("version", 1))
    if _owned_by(tenant_id).filter(code=values["code"], version=version).exists():
        raise CriteriaCodeTakenError(
            CriteriaCodeTakenError.default_message % {"code": values["code"]}
        )
    cs = _insert(tenant_id, {**values, "version": version, "status": SetStatus.DRAFT})
    for c_order, c_data in enumerate(data.get("criteria", []), start=1):
        criterion = Criterion.objects.create(
            criteria_set=cs, order=c_order, **_clean_criterion(c_data)
        )
        for i_order, i_data in enumerate(c_data.get("indicators", []), start=1):
            Indicator.objects.create(criterion=criterion, order=i_order, **_clean_indicator(i_data))
    if data.get("status") == SetStatus.PUBLISHED and not publish_problems(cs):
        cs = _touch(cs, status=SetStatus.PUBLISHED, published_at=timezone.now())
    _audit(None, "criteria_set.import", cs, after=_set_snapshot(cs))
    return cs


@transaction.atomic
def criteria_set_clone(
    *, actor: Any, source: CriteriaSet, tenant: Tenant, code: str, name: str = ""
) -> CriteriaSet:
    """Copy a shipped set or one of the tenant's sets into the tenant as a new
    draft (version 1), criteria and indicators included; the "needs completion"
    marks travel with the copy."""
    _require_admin(actor, tenant.pk)
    if source.tenant_id not in (None, tenant.pk):
        raise RoleNotAllowedError()
    code = nfc(code)[:64]
    if not code:
        raise CriteriaSetError(_("The set needs a code."))
    _lock_owner(tenant.pk)
    if _code_taken(tenant.pk, code):
        raise CriteriaCodeTakenError(CriteriaCodeTakenError.default_message % {"code": code})
    owner = source.tenant.name if source.tenant else _("national set shipped with XHHT")
    origin = _("Cloned from “%(name)s” (code %(code)s, version %(version)s, %(owner)s).") % {
        "name": source.name,
        "code": source.code,
        "version": source.version,
        "owner": owner,
    }
    values = {name_: getattr(source, name_) for name_ in SET_FIELDS}
    values.update(
        code=code,
        name=nfc(name)[:300] or source.name,
        source_note=_text(f"{origin}\n{source.source_note}"),
        version=1,
        status=SetStatus.DRAFT,
    )
    cs = _insert(tenant.pk, values)
    _copy_content(source, cs)
    _audit(
        actor,
        "criteria_set.clone",
        cs,
        before={"source": str(source.public_id), "code": source.code, "version": source.version},
        after=_set_snapshot(cs),
    )
    return cs


@transaction.atomic
def criteria_set_new_version(*, actor: Any, criteria_set: CriteriaSet) -> CriteriaSet:
    """A draft copy of a published (or retired) set as the next version.

    The published version stays as it is, with every assessment scored under it.
    """
    if criteria_set.tenant_id is None:
        if actor is not None and not can_manage_criteria(actor):
            raise RoleNotAllowedError()
        raise CriteriaSetReadOnlyError()
    _require_admin(actor, criteria_set.tenant_id)
    _lock_owner(criteria_set.tenant_id)
    source = _lock(criteria_set)
    if source.status == SetStatus.DRAFT:
        raise CriteriaSetError(_("This set is still a draft: edit it directly."))
    versions = _owned_by(source.tenant_id).filter(code=source.code)
    draft = versions.filter(status=SetStatus.DRAFT).order_by("-version").first()
    if draft is not None:
        raise CriteriaDraftExistsError(
            CriteriaDraftExistsError.default_message % {"version": draft.version}
        )
    number = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
    values = {name_: getattr(source, name_) for name_ in SET_FIELDS}
    values.update(code=source.code, version=number, previous=source, status=SetStatus.DRAFT)
    cs = _insert(source.tenant_id, values)
    _copy_content(source, cs)
    _audit(
        actor,
        "criteria_set.new_version",
        cs,
        before={"previous": str(source.public_id), "version": source.version},
        after=_set_snapshot(cs),
    )
    return cs


# --- Editing a draft --------------------------------------------------------------------------


@transaction.atomic
def criteria_set_update(
    *, actor: Any, criteria_set: CriteriaSet, expected_version: int, fields: Mapping[str, Any]
) -> CriteriaSet:
    """Change the set's own fields (not its code) while it is a draft."""
    if "code" in fields:
        raise CriteriaSetError(_("The code of a set cannot be changed."))
    locked = _editable(actor, criteria_set, expected_version)
    before = _set_snapshot(locked)
    values = _clean_set_fields(fields, locked)
    locked = _touch(locked, **values)
    _audit(actor, "criteria_set.update", locked, before=before, after=_set_snapshot(locked))
    return locked


def _renumber_criteria(cs: CriteriaSet) -> None:
    for number, criterion in enumerate(
        Criterion.objects.filter(criteria_set=cs).order_by("order"), start=1
    ):
        if criterion.order != number:
            Criterion.objects.filter(pk=criterion.pk).update(order=number)


def _renumber_indicators(criterion: Criterion) -> None:
    for number, indicator in enumerate(
        Indicator.objects.filter(criterion=criterion).order_by("order"), start=1
    ):
        if indicator.order != number:
            Indicator.objects.filter(pk=indicator.pk).update(order=number)


@transaction.atomic
def criterion_add(
    *,
    actor: Any,
    criteria_set: CriteriaSet,
    expected_version: int,
    fields: Mapping[str, Any],
) -> Criterion:
    """Append a criterion at the end of a draft set."""
    locked = _editable(actor, criteria_set, expected_version)
    values = _clean_criterion(fields)
    top = Criterion.objects.filter(criteria_set=locked).aggregate(top=Max("order"))["top"] or 0
    criterion = Criterion.objects.create(criteria_set=locked, order=top + 1, **values)
    _touch(locked)
    _audit(actor, "criterion.add", locked, after=_criterion_snapshot(criterion))
    return criterion


@transaction.atomic
def criterion_update(
    *, actor: Any, criterion: Criterion, expected_version: int, fields: Mapping[str, Any]
) -> Criterion:
    locked = _editable(actor, criterion.criteria_set, expected_version)
    current = Criterion.objects.get(pk=criterion.pk, criteria_set=locked)
    before = _criterion_snapshot(current)
    Criterion.objects.filter(pk=current.pk).update(**_clean_criterion(fields))
    current.refresh_from_db()
    _touch(locked)
    _audit(actor, "criterion.update", locked, before=before, after=_criterion_snapshot(current))
    return current


@transaction.atomic
def criterion_remove(*, actor: Any, criterion: Criterion, expected_version: int) -> None:
    """Remove a criterion of a draft set with its indicators; the rest move up."""
    locked = _editable(actor, criterion.criteria_set, expected_version)
    current = Criterion.objects.get(pk=criterion.pk, criteria_set=locked)
    before = {
        **_criterion_snapshot(current),
        "indicators": [i.code for i in current.indicators.order_by("order")],
    }
    current.delete()
    _renumber_criteria(locked)
    _touch(locked)
    _audit(actor, "criterion.remove", locked, before=before)


def _swap(model: Any, first: Any, second: Any) -> None:
    """Swap the ``order`` of two rows without breaking the unique order."""
    a, b = first.order, second.order
    model.objects.filter(pk=first.pk).update(order=0)
    model.objects.filter(pk=second.pk).update(order=a)
    model.objects.filter(pk=first.pk).update(order=b)


@transaction.atomic
def criterion_move(
    *, actor: Any, criterion: Criterion, expected_version: int, up: bool
) -> Criterion:
    """Move a criterion one place up or down (nothing happens at either end)."""
    locked = _editable(actor, criterion.criteria_set, expected_version)
    current = Criterion.objects.get(pk=criterion.pk, criteria_set=locked)
    siblings = Criterion.objects.filter(criteria_set=locked)
    neighbour = (
        siblings.filter(order__lt=current.order).order_by("-order").first()
        if up
        else siblings.filter(order__gt=current.order).order_by("order").first()
    )
    if neighbour is None:
        return current
    before = {"code": current.code, "order": current.order}
    _swap(Criterion, current, neighbour)
    current.refresh_from_db()
    _touch(locked)
    _audit(
        actor,
        "criterion.move",
        locked,
        before=before,
        after={"code": current.code, "order": current.order},
    )
    return current


@transaction.atomic
def indicator_add(
    *, actor: Any, criterion: Criterion, expected_version: int, fields: Mapping[str, Any]
) -> Indicator:
    """Append an indicator at the end of a criterion of a draft set."""
    locked = _editable(actor, criterion.criteria_set, expected_version)
    current = Criterion.objects.get(pk=criterion.pk, criteria_set=locked)
    values = _clean_indicator(fields)
    top = Indicator.objects.filter(criterion=current).aggregate(top=Max("order"))["top"] or 0
    indicator = Indicator.objects.create(criterion=current, order=top + 1, **values)
    _touch(locked)
    _audit(
        actor,
        "indicator.add",
        locked,
        after={"criterion": current.code, **_indicator_snapshot(indicator)},
    )
    return indicator


@transaction.atomic
def indicator_update(
    *, actor: Any, indicator: Indicator, expected_version: int, fields: Mapping[str, Any]
) -> Indicator:
    locked = _editable(actor, indicator.criterion.criteria_set, expected_version)
    current = Indicator.objects.get(pk=indicator.pk, criterion__criteria_set=locked)
    before = _indicator_snapshot(current)
    Indicator.objects.filter(pk=current.pk).update(**_clean_indicator(fields))
    current.refresh_from_db()
    _touch(locked)
    _audit(actor, "indicator.update", locked, before=before, after=_indicator_snapshot(current))
    return current


@transaction.atomic
def indicator_remove(*, actor: Any, indicator: Indicator, expected_version: int) -> None:
    locked = _editable(actor, indicator.criterion.criteria_set, expected_version)
    current = Indicator.objects.get(pk=indicator.pk, criterion__criteria_set=locked)
    criterion = current.criterion
    before = {"criterion": criterion.code, **_indicator_snapshot(current)}
    current.delete()
    _renumber_indicators(criterion)
    _touch(locked)
    _audit(actor, "indicator.remove", locked, before=before)


@transaction.atomic
def indicator_move(
    *, actor: Any, indicator: Indicator, expected_version: int, up: bool
) -> Indicator:
    """Move an indicator one place up or down within its criterion."""
    locked = _editable(actor, indicator.criterion.criteria_set, expected_version)
    current = Indicator.objects.get(pk=indicator.pk, criterion__criteria_set=locked)
    siblings = Indicator.objects.filter(criterion_id=current.criterion_id)
    neighbour = (
        siblings.filter(order__lt=current.order).order_by("-order").first()
        if up
        else siblings.filter(order__gt=current.order).order_by("order").first()
    )
    if neighbour is None:
        return current
    before = {"code": current.code, "order": current.order}
    _swap(Indicator, current, neighbour)
    current.refresh_from_db()
    _touch(locked)
    _audit(
        actor,
        "indicator.move",
        locked,
        before=before,
        after={"code": current.code, "order": current.order},
    )
    return current


# --- Publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetTransition:
    sources: frozenset[str]
    target: str


#: The declarative map of a set's status (STYLE.md §3).
SET_TRANSITIONS: dict[str, SetTransition] = {
    "publish": SetTransition(frozenset({SetStatus.DRAFT}), SetStatus.PUBLISHED),
    "retire": SetTransition(frozenset({SetStatus.DRAFT, SetStatus.PUBLISHED}), SetStatus.RETIRED),
}


Content = list[tuple[Criterion, list[Indicator]]]


def _points_problems(cs: CriteriaSet, content: Content) -> Iterable[str]:
    thresholds = cs.pass_thresholds or {}
    if thresholds.get(AreaClass.NORMAL) in (None, ""):
        yield _("The pass threshold for normal areas is missing.")
    indicators = [i for _c, items in content for i in items]
    total = Decimal(0)
    for indicator in indicators:
        if indicator.max_points is None or indicator.max_points <= 0:
            yield _("Indicator %(code)s has no maximum points.") % {"code": indicator.code}
            continue
        total += indicator.max_points
        if indicator.min_points is not None and indicator.min_points > indicator.max_points:
            yield _("Indicator %(code)s: its minimum (%(min)s) is above its maximum (%(max)s).") % {
                "code": indicator.code,
                "min": num(indicator.min_points),
                "max": num(indicator.max_points),
            }
        elif (
            indicator.min_points is None
            and cs.min_indicator_points is not None
            and cs.min_indicator_points > indicator.max_points
        ):
            yield _(
                "Indicator %(code)s: the minimum every indicator must reach (%(min)s) is "
                "above its maximum (%(max)s)."
            ) % {
                "code": indicator.code,
                "min": num(cs.min_indicator_points),
                "max": num(indicator.max_points),
            }
    for criterion, items in content:
        if criterion.max_points is None:
            continue
        points = [i.max_points for i in items if i.max_points]
        if len(points) == len(items) and sum(points) != criterion.max_points:
            yield _(
                "Criterion %(code)s: its indicators add up to %(sum)s points, "
                "not its maximum of %(max)s."
            ) % {"code": criterion.code, "sum": num(sum(points)), "max": num(criterion.max_points)}
    complete = all(i.max_points and i.max_points > 0 for i in indicators)
    ceiling = cs.max_total if cs.max_total is not None else (total if complete else None)
    if cs.max_total is not None and complete and total != cs.max_total:
        yield _(
            "The maximum points of the indicators add up to %(sum)s, not the set's "
            "maximum total of %(total)s."
        ) % {"sum": num(total), "total": num(cs.max_total)}
    for area, value in thresholds.items():
        if ceiling is not None and Decimal(str(value)) > ceiling:
            yield _(
                "The pass threshold for %(area)s (%(value)s) is above the maximum total (%(total)s)."
            ) % {"area": AreaClass(area).label, "value": num(value), "total": num(ceiling)}


def _levels_problems(cs: CriteriaSet, content: Content) -> Iterable[str]:
    numbers = [int(lv["number"]) for lv in cs.levels or []]
    if not numbers:
        yield _("The set has no levels.")
        return
    lowest = min(numbers)
    for _criterion, items in content:
        for indicator in items:
            stated = requirement_levels(indicator.requirements)
            if lowest not in stated:
                yield _("Indicator %(code)s has no requirement for level %(level)s.") % {
                    "code": indicator.code,
                    "level": lowest,
                }
            for level in sorted(stated - set(numbers)):
                yield _(
                    "Indicator %(code)s states a requirement for level %(level)s, "
                    "which the set does not have."
                ) % {"code": indicator.code, "level": level}


def publish_problems(criteria_set: CriteriaSet) -> list[str]:
    """Everything that stops the set from being published, in Vietnamese, in order.

    An empty list means it may be published.
    """
    problems: list[str] = []
    if criteria_set.needs_completion:
        problems.append(
            _(
                "The set is marked as a draft whose official text was not all found: "
                "complete it, then untick “needs completion” in the set's details."
            )
        )
    indicators: dict[int, list[Indicator]] = {}
    for indicator in Indicator.objects.filter(criterion__criteria_set=criteria_set).order_by(
        "order"
    ):
        indicators.setdefault(indicator.criterion_id, []).append(indicator)
    content: Content = [
        (criterion, indicators.get(criterion.pk, []))
        for criterion in Criterion.objects.filter(criteria_set=criteria_set).order_by("order")
    ]
    if not content:
        problems.append(_("The set has no criteria."))
    for criterion, items in content:
        if not items:
            problems.append(_("Criterion %(code)s has no indicators.") % {"code": criterion.code})
        for indicator in items:
            if indicator.needs_completion:
                problems.append(
                    _(
                        "Indicator %(code)s is still marked as not found in the official "
                        "text: complete it and untick “text not found yet”."
                    )
                    % {"code": indicator.code}
                )
    if criteria_set.method == ScoringMethod.POINTS:
        problems.extend(_points_problems(criteria_set, content))
    else:
        problems.extend(_levels_problems(criteria_set, content))
    if criteria_set.year_to is not None and criteria_set.year_to < criteria_set.year_from:
        problems.append(_("The last year cannot be before the first year."))
    return problems


def _transition(
    *, actor: Any, criteria_set: CriteriaSet, expected_version: int, action: str
) -> tuple[CriteriaSet, str]:
    rule = SET_TRANSITIONS[action]
    if criteria_set.tenant_id is None:
        if actor is not None and not can_manage_criteria(actor):
            raise RoleNotAllowedError()
        raise CriteriaSetReadOnlyError()
    _require_admin(actor, criteria_set.tenant_id)
    locked = _lock(criteria_set)
    if locked.status not in rule.sources:
        raise TransitionError(
            TransitionError.default_message % {"status": locked.get_status_display()},
            current=locked.status,
        )
    if locked.edit_version != expected_version:
        raise ConcurrentEditError()
    return locked, locked.status


@transaction.atomic
def criteria_set_publish(
    *, actor: Any, criteria_set: CriteriaSet, expected_version: int
) -> CriteriaSet:
    """Publish a complete draft; refused with the full list of problems otherwise.

    From then on the set is immutable and new assessments of its title and
    years are scored under it (the newest published version wins).
    """
    locked, state = _transition(
        actor=actor, criteria_set=criteria_set, expected_version=expected_version, action="publish"
    )
    problems = publish_problems(locked)
    if problems:
        raise IncompleteSetError(
            IncompleteSetError.default_message % {"problems": "; ".join(problems)},
            problems=problems,
        )
    locked = _touch(
        locked,
        status=SET_TRANSITIONS["publish"].target,
        published_at=timezone.now(),
        published_by=actor,
    )
    _audit(
        actor,
        "criteria_set.publish",
        locked,
        before={"status": state},
        after={"status": locked.status, "version": locked.version},
    )
    return locked


@transaction.atomic
def criteria_set_retire(
    *, actor: Any, criteria_set: CriteriaSet, expected_version: int
) -> CriteriaSet:
    """Stop using a set: no new assessment is scored under it; assessments
    already scored under it keep it."""
    locked, state = _transition(
        actor=actor, criteria_set=criteria_set, expected_version=expected_version, action="retire"
    )
    locked = _touch(locked, status=SET_TRANSITIONS["retire"].target)
    _audit(
        actor,
        "criteria_set.retire",
        locked,
        before={"status": state},
        after={"status": locked.status},
    )
    return locked
