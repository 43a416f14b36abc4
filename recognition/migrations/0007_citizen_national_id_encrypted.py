"""Citizen ID numbers encrypted at rest, with a blind index (Luật 91/2025/QH15, issue 10 §2).

Existing plain numbers are encrypted in place under the first key of
``PERSONAL_DATA_KEYS`` and indexed under ``PERSONAL_DATA_INDEX_KEY``; the reverse
decrypts them back into the old 12-character column. Households and citizens
gain ``erased_at`` (erasure on request).
"""

from django.db import migrations, models
from django.db.models import Q

import recognition.personal_data.fields

BATCH = 2000


def _rows(Citizen):
    last = 0
    while True:
        batch = list(
            Citizen.objects.filter(pk__gt=last).order_by("pk").only("pk", "national_id")[:BATCH]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def encrypt_existing(apps, schema_editor):
    from recognition.personal_data import crypto

    Citizen = apps.get_model("recognition", "Citizen")
    for batch in _rows(Citizen):
        changed = []
        for citizen in batch:
            plain = citizen.national_id or ""
            if plain.startswith(crypto.TOKEN_PREFIX):
                continue  # already encrypted (the migration was interrupted and re-run)
            citizen.national_id = crypto.encrypt(plain)
            citizen.national_id_index = crypto.blind_index(plain)
            changed.append(citizen)
        Citizen.objects.bulk_update(changed, ["national_id", "national_id_index"])


def decrypt_existing(apps, schema_editor):
    from recognition.personal_data import crypto

    Citizen = apps.get_model("recognition", "Citizen")
    for batch in _rows(Citizen):
        changed = []
        for citizen in batch:
            token = citizen.national_id or ""
            if not token.startswith(crypto.TOKEN_PREFIX):
                continue
            citizen.national_id = crypto.decrypt(token)
            citizen.national_id_index = ""
            changed.append(citizen)
        Citizen.objects.bulk_update(changed, ["national_id", "national_id_index"])


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0006_citizen_national_id_idx"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="citizen", name="citizen_national_id_idx"),
        migrations.AddField(
            model_name="citizen",
            name="erased_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="erased"
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="erased_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="erased"
            ),
        ),
        migrations.AddField(
            model_name="citizen",
            name="national_id_index",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="citizen",
            name="national_id",
            field=models.TextField(blank=True, default="", verbose_name="citizen ID number"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
        migrations.AlterField(
            model_name="citizen",
            name="national_id",
            field=recognition.personal_data.fields.EncryptedIdField(
                blank=True, index_field="national_id_index", verbose_name="citizen ID number"
            ),
        ),
        migrations.AddConstraint(
            model_name="citizen",
            constraint=models.UniqueConstraint(
                condition=Q(("national_id_index", ""), _negated=True),
                fields=("tenant", "national_id_index"),
                name="citizen_unique_national_id",
            ),
        ),
    ]
