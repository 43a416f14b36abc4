"""The declarative transition map of award nominations (STYLE.md §3).

Applied through :func:`recognition.transitions.apply_transition`, so every
status change locks the row, checks the actor's role over the unit and writes
its audit event in the same transaction.
"""

from __future__ import annotations

from campaigns.models import NominationStatus as N
from recognition.transitions import REVIEWER, Transition

NOMINATION_TRANSITIONS: dict[str, Transition] = {
    # The reviewing unit checks the proposal (thẩm định hồ sơ khen thưởng)…
    "review": Transition(frozenset({N.PROPOSED}), N.REVIEWED, REVIEWER),
    # …and approves it, or does not, with a note.
    "approve": Transition(frozenset({N.REVIEWED}), N.APPROVED, REVIEWER),
    "reject": Transition(frozenset({N.PROPOSED, N.REVIEWED}), N.REJECTED, REVIEWER),
    # Issuing the award decision (decisions machinery) awards it; revoking
    # that decision puts it back to approved.
    "award": Transition(frozenset({N.APPROVED}), N.AWARDED, REVIEWER),
    "unaward": Transition(frozenset({N.AWARDED}), N.APPROVED, REVIEWER),
}
