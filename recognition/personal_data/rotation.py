"""Re-encrypt every stored ID number under the first key, and re-index it.

Run after putting a new key first in ``PERSONAL_DATA_KEYS`` (and before
removing an old one), or after changing ``PERSONAL_DATA_INDEX_KEY``: rows
already under the first key with an up-to-date index are left untouched, so the
command is safe to run twice or to resume after an interruption.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from recognition.models import Citizen
from recognition.personal_data import crypto


@dataclass
class RotationResult:
    checked: int = 0
    reencrypted: int = 0


def rotate_keys(*, batch_size: int = 2000) -> RotationResult:
    """Re-encrypt (first key) and re-index every citizen ID number that needs it."""
    result = RotationResult()
    last = 0
    while True:
        rows = list(
            Citizen.objects.filter(pk__gt=last)
            .exclude(national_id_index="")
            .order_by("pk")
            # The raw token, not the decrypted value: which key wrote it matters.
            .annotate(token=Cast("national_id", TextField()))
            .values_list("pk", "token", "national_id_index")[:batch_size]
        )
        if not rows:
            return result
        last = rows[-1][0]
        stale = []
        for pk, token, index in rows:
            result.checked += 1
            plain = crypto.decrypt(token)
            if crypto.is_under_primary_key(token) and index == crypto.blind_index(plain):
                continue
            stale.append(Citizen(pk=pk, national_id=plain))  # sets the new index too
        if stale:
            with transaction.atomic():
                Citizen.objects.bulk_update(stale, ["national_id", "national_id_index"])
            result.reencrypted += len(stale)
