"""Import kind of self-assessment results: one row per registration, one column per indicator.

The upload's options say which title and year (and, for "Cộng đồng học tập",
which level) the file is for: :func:`recognition.selectors.criteria.criteria_set_for`
gives the criteria set in force, and the kind's columns are the subject key
columns of the registration kind followed by one column per indicator of that
set (``"1.1 Trẻ em đến trường"``). The columns therefore belong to an instance
with its context; on the class, :meth:`AssessmentKind.columns` gives the key
columns only.

The rules are those of :mod:`recognition.services.assessment`: values are
parsed by ``parse_score`` (points 0..max with 2 decimals, levels 0..the set's
highest), only assessments in an editable status (``EDITABLE_ASSESSMENT_STATES``)
change, the "assessment" stage deadline must be open, and the result is
computed by :mod:`recognition.scoring` (``compute_result`` when a level is
capped by the upgrade rule). A registration without an assessment gets one,
as ``assessment_start`` would open it (a draft, which the rollups do not count).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.text import fold
from recognition import scoring
from recognition.exceptions import AssessmentNotEditableError, AssessmentYearNotStartedError
from recognition.locks import check_open
from recognition.models import (
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Indicator,
    IndicatorScore,
    Registration,
    RegistrationStatus,
    ScoringMethod,
)
from recognition.models.config import AreaClass, Stage
from recognition.selectors.assessment import assessments_for_user
from recognition.selectors.criteria import criteria_set_for
from recognition.services.assessment import (
    _indicators_of,
    compute_result,
    max_level,
    parse_score,
    scope_levels,
    subject_unit_of,
)
from recognition.titles import SUBJECT_FIELD, TITLE_SUBJECT, SubjectKind, Title
from recognition.transitions import EDITABLE_ASSESSMENT_STATES, WARD_AND_NEIGHBOURHOOD
from spreadsheets import cleaners
from spreadsheets.exceptions import FileRejected
from spreadsheets.kinds.base import CellWidget, Column, ImportContext, ImportKind, RowChange
from spreadsheets.kinds.subject_keys import (
    SUBJECT_KEY_COLUMNS,
    Problem,
    Refused,
    Subject,
    SubjectFinder,
    birth_year_column,
    sees_national_ids,
    subject_cells,
    subject_code_column,
    subject_name_column,
    unit_column,
)
from units.models import AdministrativeUnit

#: Longest indicator name kept in a header (the full text is in the criteria screen).
HEADER_NAME_LENGTH = 40


def short_name(text: str) -> str:
    """The first words of an indicator's text, cut at a word boundary."""
    words = " ".join(str(text).split()).rstrip(".:;")
    if len(words) <= HEADER_NAME_LENGTH:
        return words
    cut = words[:HEADER_NAME_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


class ScoreWidget(CellWidget):
    """One indicator's self-score, checked as the assessment form checks it."""

    def __init__(self, indicator: Indicator, *, method: str, top_level: int) -> None:
        self.indicator = indicator
        self.method = method
        self.top_level = top_level
        super().__init__(cleaners.integer if method == ScoringMethod.LEVELS else cleaners.decimal)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if self.method == ScoringMethod.LEVELS:
            number: Any = cleaners.integer(value)
        else:
            number = cleaners.decimal(value, places=2)
        if number is None:
            return None
        try:
            return parse_score(self.indicator, number, method=self.method, top_level=self.top_level)
        except ApplicationError as exc:
            raise cleaners.CellError(str(exc)) from exc


class IndicatorColumn(Column):
    """An indicator's column: the header is its code and short name; the code alone matches."""

    def __init__(self, indicator: Indicator, *, method: str, top_level: int) -> None:
        if method == ScoringMethod.LEVELS:
            help_text = _("Level reached, 0 to %(max)s.") % {"max": top_level}
        else:
            help_text = _("Points, 0 to %(max)s (at most 2 decimals).") % {
                "max": indicator.max_points if indicator.max_points is not None else "…"
            }
        super().__init__(
            attribute=f"indicator_{indicator.pk}",
            header=f"{indicator.code} {short_name(indicator.text)}",
            header_en=indicator.code,
            widget=ScoreWidget(indicator, method=method, top_level=top_level),
            help=f"{indicator.code}: {indicator.text} — {help_text}",
            width=16,
            number_format="0" if method == ScoringMethod.LEVELS else "0.00",
        )
        self.indicator = indicator

    def matches(self, header: str) -> bool:
        if super().matches(header):
            return True
        folded = " ".join(fold(header).split())
        code = fold(self.indicator.code)
        return folded == code or folded.startswith(code + " ")


class _Columns:
    """``AssessmentKind.columns()``: the key columns on the class (no criteria set yet),
    the key and indicator columns on an instance (from its context's options)."""

    def __get__(self, obj: Any, owner: type[ImportKind]) -> Callable[[], list[Column]]:
        if obj is None:
            return partial(ImportKind.__dict__["columns"].__func__, owner)
        return obj.instance_columns  # type: ignore[no-any-return]


class AssessmentKind(ImportKind):
    """Kết quả tự đánh giá: the self-scores of registered subjects for one title and year."""

    key = "assessments"
    label = gettext_lazy("Self-assessment results")
    natural_key = SUBJECT_KEY_COLUMNS
    roles = WARD_AND_NEIGHBOURHOOD
    instructions = (
        gettext_lazy(
            "The file is for one title and one year, chosen when you upload it: download the "
            "template for that title and year, it has one column per indicator of the "
            "criteria set in force."
        ),
        gettext_lazy(
            "One row per registered subject, found as in the registration file (household "
            "code; clan or organisation name with the managing unit's code; citizen ID "
            "number; community unit code). The subject must be registered for the title and "
            "year."
        ),
        gettext_lazy(
            "Enter the points (or the level reached) of each indicator; an empty cell means "
            "not scored yet. The total and the result are computed by the application."
        ),
        gettext_lazy(
            "Only assessments being assessed or returned for correction can be changed; "
            "a submitted or approved assessment is refused. The self-assessment deadline "
            "of the ward must still be open."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one subject per row, no merged cells, no formulas."
        ),
    )

    subject_code = subject_code_column()
    subject_name = subject_name_column()
    birth_year = birth_year_column()
    unit = unit_column()

    columns = _Columns()  # type: ignore[assignment]

    class Meta:
        model = Assessment
        fields = SUBJECT_KEY_COLUMNS

    def __init__(self, ctx: ImportContext | None = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self._columns: list[Column] | None = None
        self._set: CriteriaSet | None = None
        self._indicators: list[Indicator] = []
        self._finder: SubjectFinder | None = None
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._new: dict[tuple[Any, ...], tuple[Registration, str]] = {}
        self._claimed: dict[int, tuple[Any, ...]] = {}
        self._deadlines: dict[tuple[int, str, int], str] = {}
        self._sets_by_levels: dict[tuple[str, ...], CriteriaSet | None] = {}
        self._disadvantaged: set[int] | None = None
        self._rule: scoring.SetRule | None = None
        self._show_ids = False

    # -- what the file is for
    @property
    def title(self) -> str:
        return self._options()[0]

    @property
    def year(self) -> int:
        return self._options()[1]

    def _options(self) -> tuple[str, int, str]:
        options = self.context.options
        title = str(options.get("title") or "")
        try:
            year = int(options.get("year") or 0)
        except (TypeError, ValueError):
            year = 0
        if title not in Title.values or not year:
            raise FileRejected(_("Choose the title and the year of the assessments to import."))
        level = str(options.get("scope_level") or "")
        if title == Title.COMMUNITY and not level:
            raise FileRejected(
                _("Choose the level of the learning communities (neighbourhood, commune …).")
            )
        return title, year, level

    @property
    def criteria_set(self) -> CriteriaSet:
        if self._set is None:
            title, year, level = self._options()
            found = criteria_set_for(
                tenant=self.context.tenant, title=title, scope_level=level, year=year
            )
            if found is None:
                raise FileRejected(
                    _(
                        "No published criteria set applies to “%(title)s” in %(year)s. "
                        "Ask the administrator to publish one."
                    )
                    % {"title": Title(title).label, "year": year}
                )
            self._set = found
            self._indicators = _indicators_of(found)
        return self._set

    @property
    def score_field(self) -> str:
        return "self_level" if self.criteria_set.method == ScoringMethod.LEVELS else "self_points"

    def instance_columns(self) -> list[Column]:
        if self._columns is None:
            base = ImportKind.__dict__["columns"].__func__(type(self))
            criteria_set = self.criteria_set
            top = max_level(criteria_set)
            self._columns = [
                *base,
                *(
                    IndicatorColumn(indicator, method=criteria_set.method, top_level=top)
                    for indicator in self._indicators
                ),
            ]
        return self._columns

    def _indicator_columns(self) -> list[IndicatorColumn]:
        return [c for c in self.instance_columns() if isinstance(c, IndicatorColumn)]

    @property
    def finder(self) -> SubjectFinder:
        if self._finder is None:
            self._finder = SubjectFinder(self.context)
        return self._finder

    @property
    def subject_kind(self) -> str:
        return TITLE_SUBJECT[Title(self.title)]

    # -- rows
    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        return self.finder.check(self.subject_kind, values)

    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        key = self.finder.ident(self.subject_kind, values)
        self._rows.setdefault(key, values)
        return key

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        rows, self._rows = self._rows, {}
        self._new = {}
        subjects = self.finder.find(keys, {k: rows[k].get("unit") for k in keys})
        registrations = self._registrations(subjects)
        assessments = self._assessments(list(registrations.values()))
        out: dict[tuple[Any, ...], Any] = {}
        for key in keys:
            subject = subjects[key]
            if not isinstance(subject, Subject):
                out[key] = Refused([subject])
                continue
            if self._claimed.setdefault(subject.pk, key) != key:
                out[key] = Refused(
                    [
                        (
                            subject.column,
                            _("Another row of the file already names %(subject)s.")
                            % {"subject": subject.name},
                        )
                    ]
                )
                continue
            registration = registrations.get(subject.pk)
            if registration is None:
                out[key] = Refused(
                    [
                        (
                            subject.column,
                            _(
                                "%(subject)s is not registered for “%(title)s” %(year)s: "
                                "register it first."
                            )
                            % {
                                "subject": subject.name,
                                "title": Title(self.title).label,
                                "year": self.year,
                            },
                        )
                    ]
                )
                continue
            assessment = assessments.get(registration.pk)
            if assessment is not None:
                assessment._import_subject = subject  # type: ignore[attr-defined]
                out[key] = assessment
                continue
            problems = self._startable(registration, subject)
            if problems:
                out[key] = Refused(problems)
            else:
                self._new[key] = (registration, self._area_class(subject_unit_of(registration)))
        return out

    def _registrations(
        self, subjects: dict[tuple[Any, ...], Subject | Problem]
    ) -> dict[int, Registration]:
        pks = [s.pk for s in subjects.values() if isinstance(s, Subject)]
        if not pks:
            return {}
        field = f"{SUBJECT_FIELD[self.subject_kind]}_id"
        qs = Registration.objects.filter(
            tenant_id=self.context.tenant.pk,
            title=self.title,
            year=self.year,
            **{f"{field}__in": pks},
        ).select_related("unit", "proposing_unit", "subject_unit")
        return {getattr(r, field): r for r in qs}

    def _assessments(self, registrations: list[Registration]) -> dict[int, Assessment]:
        """The batch's assessments (locked when applying) with their stored self-scores."""
        if not registrations:
            return {}
        by_pk = {r.pk: r for r in registrations}
        qs = Assessment.objects.filter(registration_id__in=list(by_pk))
        if not self.context.dry_run:
            qs = qs.select_for_update(of=("self",))
        found = {a.registration_id: a for a in qs}
        stored: dict[int, dict[int, tuple[int, Any]]] = {a.pk: {} for a in found.values()}
        scores = IndicatorScore.objects.filter(assessment_id__in=list(stored)).values_list(
            "pk", "assessment_id", "indicator_id", self.score_field
        )
        for pk, assessment_id, indicator_id, value in scores:
            stored[assessment_id][indicator_id] = (pk, value)
        for assessment in found.values():
            assessment.registration = by_pk[assessment.registration_id]
            assessment._import_scores = stored[assessment.pk]  # type: ignore[attr-defined]
        return found

    def _deadline(self, registration: Registration) -> str:
        """ "" when the assessment stage is open for the registration's ward, else why not."""
        proposing = registration.proposing_unit
        key = (proposing.pk, registration.title, registration.year)
        if key not in self._deadlines:
            try:
                check_open(
                    unit=proposing,
                    title=registration.title,
                    year=registration.year,
                    stage=Stage.ASSESSMENT,
                )
                self._deadlines[key] = ""
            except ApplicationError as exc:
                self._deadlines[key] = _(
                    "Self-assessments of %(unit)s for “%(title)s” %(year)s are closed: %(reason)s"
                ) % {
                    "unit": proposing.name,
                    "title": registration.get_title_display(),
                    "year": registration.year,
                    "reason": exc,
                }
        return self._deadlines[key]

    def _startable(self, registration: Registration, subject: Subject) -> list[Problem]:
        """assessment_start's checks of a registration without an assessment."""
        if registration.status != RegistrationStatus.REGISTERED:
            return [
                (
                    subject.column,
                    _("This registration was withdrawn: register the subject again to assess it."),
                )
            ]
        if registration.year > timezone.localdate().year:
            return [
                (
                    subject.column,
                    AssessmentYearNotStartedError.default_message % {"year": registration.year},
                )
            ]
        closed = self._deadline(registration)
        if closed:
            return [(subject.column, closed)]
        levels = tuple(scope_levels(registration))
        if levels not in self._sets_by_levels:
            self._sets_by_levels[levels] = next(
                (
                    found
                    for level in levels
                    if (
                        found := criteria_set_for(
                            tenant=self.context.tenant,
                            title=registration.title,
                            scope_level=level,
                            year=registration.year,
                        )
                    )
                    is not None
                ),
                None,
            )
        if self._sets_by_levels[levels] != self.criteria_set:
            return [(subject.column, self._other_set_message(subject))]
        return []

    def _other_set_message(self, subject: Subject) -> str:
        return _(
            "%(subject)s is assessed under another criteria set than this file's "
            "(%(set)s): import it with the template of its own set."
        ) % {"subject": subject.name, "set": str(self.criteria_set)}

    def _area_class(self, unit: AdministrativeUnit) -> str:
        """area_class_for without a query per row: the tenant's disadvantaged units, once."""
        if self._disadvantaged is None:
            self._disadvantaged = set(
                AdministrativeUnit.objects.filter(
                    tenant_id=self.context.tenant.pk, is_disadvantaged=True
                ).values_list("pk", flat=True)
            )
        ids = {*unit.ancestor_ids(), unit.pk}
        return AreaClass.DISADVANTAGED if ids & self._disadvantaged else AreaClass.NORMAL

    def check_existing(self, obj: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
        if isinstance(obj, Refused):
            return obj.problems
        assessment: Assessment = obj
        subject: Subject = assessment._import_subject  # type: ignore[attr-defined]
        if assessment.criteria_set_id != self.criteria_set.pk:
            return [(subject.column, self._other_set_message(subject))]
        if not self.compare(assessment, values):
            return []
        if assessment.status not in EDITABLE_ASSESSMENT_STATES:
            return [
                (
                    subject.column,
                    AssessmentNotEditableError.default_message
                    % {"status": assessment.get_status_display()},
                )
            ]
        closed = self._deadline(assessment.registration)
        return [(subject.column, closed)] if closed else []

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        stored: dict[int, tuple[int, Any]] = obj._import_scores  # type: ignore[attr-defined]
        changes: dict[str, tuple[Any, Any]] = {}
        for column in self._indicator_columns():
            name = column.attribute or ""
            if name not in values:
                continue
            old = stored.get(column.indicator.pk, (0, None))[1]
            if old != values[name]:
                changes[name] = (old, values[name])
        return changes

    # -- writes
    def _result(self, assessment: Assessment, values: dict[int, Any]) -> dict[str, Any]:
        """The self-result fields, computed by recognition.scoring (compute_result when the
        upgrade rule may cap a level); empty when nothing is scored."""
        if all(v is None for v in values.values()):
            return {"self_total": None, "self_level": None, "self_grade": "", "self_passed": None}
        if self._rule is None:
            self._rule = scoring.rule_from_set(self.criteria_set)
        result: Any = scoring.score(self._rule, values, assessment.area_class)
        if self.criteria_set.method == ScoringMethod.LEVELS and (result.level or 0) >= 2:
            result = compute_result(assessment, values)
        return {
            "self_total": result.total,
            "self_level": result.level,
            "self_grade": result.grade,
            "self_passed": result.passed,
        }

    def _row_values(self, values: dict[str, Any]) -> dict[int, Any]:
        return {
            c.indicator.pk: values[c.attribute]
            for c in self._indicator_columns()
            if c.attribute in values
        }

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        actor = self.context.actor
        assessed_by = actor if getattr(actor, "is_authenticated", False) else None
        now = timezone.now()
        criteria_set = self.criteria_set
        field = self.score_field
        created: list[tuple[Assessment, dict[int, Any]]] = []
        for change in new:
            registration, area_class = self._new.pop(self.key_of(change.values))
            assessment = Assessment(
                tenant_id=self.context.tenant.pk,
                unit_id=registration.unit_id,
                registration=registration,
                criteria_set=criteria_set,
                area_class=area_class,
                status=AssessmentStatus.DRAFT,
                assessed_by=assessed_by,
            )
            values = {i.pk: None for i in self._indicators} | self._row_values(change.values)
            for name, value in self._result(assessment, values).items():
                setattr(assessment, name, value)
            created.append((assessment, values))
        self._rows = {}
        Assessment.objects.bulk_create([a for a, _v in created], batch_size=1000)
        new_scores = [
            IndicatorScore(assessment_id=a.pk, indicator_id=pk, **{field: value})
            for a, values in created
            for pk, value in values.items()
        ]
        updated_scores: list[IndicatorScore] = []
        updated: list[Assessment] = []
        for change in changed:
            assessment = change.obj
            stored: dict[int, tuple[int, Any]] = assessment._import_scores
            row = self._row_values(change.values)
            for indicator_pk, value in row.items():
                if indicator_pk not in stored:
                    new_scores.append(
                        IndicatorScore(
                            assessment_id=assessment.pk,
                            indicator_id=indicator_pk,
                            **{field: value},
                        )
                    )
                elif stored[indicator_pk][1] != value:
                    updated_scores.append(
                        IndicatorScore(pk=stored[indicator_pk][0], **{field: value})
                    )
            values = {i.pk: stored.get(i.pk, (0, None))[1] for i in self._indicators} | row
            for name, value in self._result(assessment, values).items():
                setattr(assessment, name, value)
            assessment.assessed_by = assessed_by
            assessment.updated_at = now
            assessment.version += 1
            updated.append(assessment)
        IndicatorScore.objects.bulk_create(new_scores, batch_size=2000)
        if updated_scores:
            IndicatorScore.objects.bulk_update(updated_scores, [field], batch_size=2000)
        if updated:
            Assessment.objects.bulk_update(
                updated,
                [
                    "self_total",
                    "self_level",
                    "self_grade",
                    "self_passed",
                    "assessed_by",
                    "updated_at",
                    "version",
                ],
                batch_size=1000,
            )

    # -- exports
    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        self._show_ids = sees_national_ids(user, unit)
        kind = self.subject_kind
        related = ["registration"] + (
            ["registration__subject_unit"]
            if kind == SubjectKind.UNIT
            else [f"registration__{SUBJECT_FIELD[kind]}"]
        )
        return (
            assessments_for_user(user)
            .filter(
                unit__path__startswith=unit.path,
                criteria_set=self.criteria_set,
                registration__title=self.title,
                registration__year=self.year,
            )
            .select_related(*related)
            .prefetch_related("scores")
            .order_by("registration__pk")
        )

    def export_values(self, obj: Model) -> list[Any]:
        assessment: Assessment = obj  # type: ignore[assignment]
        field = self.score_field
        scores = {s.indicator_id: getattr(s, field) for s in assessment.scores.all()}
        return [
            *subject_cells(assessment.registration, self.finder, show_national_id=self._show_ids),
            *(scores.get(c.indicator.pk) for c in self._indicator_columns()),
        ]
