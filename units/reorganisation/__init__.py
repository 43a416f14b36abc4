"""Administrative reorganisation: dated merges, splits, renames, re-codes, moves and
the abolition of a level (the 2025 two-tier change), with history kept.

The one principle: **paths are history**. A unit row never changes parent or
code because of a reform. Applying a plan closes the old rows (``valid_to =
effective_on - 1 day``) and creates successor rows (``valid_from =
effective_on``) linked by :class:`units.models.UnitSuccession`. In-force
descendants of a closed unit (neighbourhoods) get successor copies (same code,
name and kind; succession kind "move") under the successor. So assessments,
dossiers, decisions and past registrations keep the units they were made under,
and ``reports.services.rollups_rebuild`` keeps producing the old figures under
the old units ("as the units were then"). Subjects (households, clans,
organisations, citizens) and open registrations (year >= the plan's year, no
assessment beyond draft/ready/returned, not in a sent dossier) move to the
successors; self-assessments in a draft dossier of a closed unit leave that
dossier. Role assignments follow a single successor; on a split source or an
abolished unit they stay and are flagged (:class:`RoleReassignment`).
Registrations whose subject is a merged or split unit itself (the commune's
"Cộng đồng học tập") follow the rules of ``community``: open ones go to the
successor, one per title and year, the others withdrawn naming the plan. Form
locks, issuer profiles and the rows of running campaigns (targets, events)
follow the rules of ``links``; both are laid out by the preview (counts and
``notices``) and written in apply's transaction.

Modules: ``models`` (imported by ``units/models.py``; migrations in ``units``),
``preview`` (the pure read that lays a plan out and lists conflicts), ``apply``
(the bulk writer), ``community`` (community registrations of closed units),
``links`` (form locks, issuer profiles, campaign rows), ``services`` (writes),
``selectors`` (reads), ``exceptions``.

API for screens, imports, reports and the demo
-----------------------------------------------
Models (``units.reorganisation.models``, also importable from ``units.models``):

- ``Reorganisation``: ``public_id``, ``tenant``, ``name``, ``legal_basis``,
  ``effective_on``, ``abolish_level`` (blank or ``units.levels.Level``),
  ``status`` (``ReorganisationStatus``: draft|applied|cancelled), ``source``
  (``ReorganisationSource``: manual|import), ``created_by/at``,
  ``applied_by/at``, ``version`` (pass it back as ``expected_version``),
  ``result`` (dict of counts written by apply: units_created, units_closed,
  neighbourhoods_copied, successions, households, clans, organisations,
  citizens, assessments, assessments_left_dossier, registrations,
  registrations_proposing, community_moved, community_withdrawn, form_locks,
  issuer_profiles, targets, events, roles_moved, roles_flagged,
  units_abolished, rollup_rows).
- ``ReorganisationStep``: ``plan``, ``position`` (1, 2, …), ``kind``
  (``StepKind``: merge|split|rename|recode|move), ``sources`` (list of unit
  pks), ``targets`` (list of ``{"code", "name", "kind", "parent",
  "neighbourhoods", "default"}``; ``parent`` is a unit pk (int), the code of
  another target of the plan (str) or None = the source's parent or its
  successor).
- ``ReorganisationMapping`` (``plan``, ``old_unit``, ``new_unit``,
  ``exclusive``): where each closed unit's subjects went.
- ``RoleReassignment`` (``public_id``, ``plan``, ``assignment`` (None once
  resolved), ``user``, ``role``, ``unit`` (the closed unit), ``reason``
  (``ReassignmentReason``: split|abolished), ``resolved_at``, ``resolved_by``).

Services (``units.reorganisation.services``; all keyword-only and atomic;
``actor=None`` is the system; a non-admin gets ``PermissionDenied``, another
tenant ``Http404``; a plan that is not a draft ``ReorganisationStateError``
(409); a stale ``expected_version`` ``core.exceptions.ConcurrentEditError``)::

    reorganisation_create(*, actor, name: str, effective_on: date, legal_basis="",
                          abolish_level="", source="manual", tenant=None) -> Reorganisation
    step_add(*, actor, plan, kind: str, sources: Sequence[AdministrativeUnit],
             targets: Sequence[TargetInput | Mapping] = (),
             expected_version: int | None = None) -> ReorganisationStep
    steps_add(*, actor, plan, steps: Sequence[StepInput],
              expected_version: int | None = None) -> list[ReorganisationStep]
    step_remove(*, actor, step, expected_version: int | None = None) -> None
    reorganisation_cancel(*, actor, plan, expected_version: int) -> Reorganisation
    reorganisation_preview(*, plan) -> Preview          # a pure read (no actor check)
    reorganisation_apply(*, actor, plan, expected_version: int) -> Reorganisation
    role_reassignment_resolve(*, actor, reassignment, units: Iterable[AdministrativeUnit])
        -> list[RoleAssignment]

``TargetInput(code="", name="", kind="", parent=None | AdministrativeUnit | "code",
neighbourhoods=[units], default=False)`` and ``StepInput(kind, sources, targets)``
are dataclasses; ``targets`` may also be plain dicts with the same keys. For
rename, re-code and move a blank code/name/kind is the source's (move needs a
parent). ``step_add``/``steps_add`` refuse malformed steps with ``StepError``
(wrong number of sources or targets for the kind, unknown kind); everything else
is a conflict in the preview. ``reorganisation_apply`` raises
``ReorganisationConflictError`` (409; ``.conflicts`` and
``.params["conflicts"]`` as dicts) and changes nothing when the preview has any
conflict.

``Preview`` (``units.reorganisation.preview``): ``steps`` (list of
``StepPreview(position, kind, closes: [UnitRef(pk, code, name, kind)], creates:
[NewUnit(code, name, kind, level, parent_label, …)], copies: int, counts)``),
``abolished`` ([UnitRef]), ``conflicts`` ([``Conflict(step, unit_code, message,
code)``]; ``message`` is translated), ``counts`` (Counter: households, clans,
organisations, citizens, registrations, registrations_kept, community_moved,
community_withdrawn, form_locks, issuer_profiles, targets, events,
roles_moved, roles_flagged, units_closed, units_created,
neighbourhoods_copied), ``notices`` ([``Notice(step, unit_code, message,
code)``]: what to check, never a refusal; codes community_duplicate,
community_split, community_abolished, issuer_profile_missing,
target_split_count, target_abolished, event_split, event_stays,
plan_issuer_closed, nominations_open) and ``can_apply``. Conflict codes: source_not_in_force, source_unknown,
unit_in_two_steps, step_empty, sources_mixed_levels, split_default,
split_targets, split_child_unknown, split_child_twice, target_incomplete,
target_level, one_target, step_changes_nothing, code_twice_in_plan, code_in_use,
abolish_level_invalid, abolished_unit_in_step, abolished_level_not_closed,
child_starts_later, no_parent, choose_parent, parent_closed,
parent_not_in_force, parent_unknown, parent_cycle, placement.

Selectors (``units.reorganisation.selectors``)::

    reorganisations_for_user(user) -> QuerySet[Reorganisation]   # tenant admins only
    get_reorganisation_for_user(user, public_id) -> Reorganisation  # else Http404
    plan_steps(plan) -> list[tuple[ReorganisationStep, list[AdministrativeUnit]]]
    get_step_for_user(user, plan, step_id) -> ReorganisationStep
    reassignments_for_user(user, *, open_only=True) -> QuerySet[RoleReassignment]
    get_reassignment_for_user(user, public_id) -> RoleReassignment
    successor_choices(reassignment) -> QuerySet[AdministrativeUnit]
    predecessors_of(unit) / successors_of(unit) -> QuerySet[AdministrativeUnit]
    successors_in_force(unit, *, on=None) -> list[AdministrativeUnit]
    today_map(*, tenant, on=None) -> dict[int, int]   # old unit pk -> unit in force
    lineage_links(tenant) -> dict[int, list[int]]     # predecessor pk -> successor pks

"As the units were then" is the stored rollups unchanged. "Mapped onto today's
units": take a past year's counts per unit of registration (the leaf counts
``rollups_rebuild`` groups by ``unit_id``), send each to ``today_map(...).get(pk,
pk)`` and add them up over that unit's in-force ancestors (never map subtree
totals, they would be counted twice).
"""
