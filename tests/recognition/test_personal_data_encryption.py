"""National ID numbers are encrypted at rest and found through their blind index
(Luật 91/2025/QH15, issue 10 §2): the column never holds the plain number, by any
write path (service, import through the COPY writer, bulk update), keys rotate,
the migration encrypts existing rows and decrypts them back, and production
refuses to start without keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from config.settings import personal_data as pd_settings
from recognition.exceptions import DuplicateSubjectError
from recognition.models import Citizen, LabourGroup
from recognition.personal_data import crypto
from recognition.services.subjects import citizen_create
from tests.recognition.test_subjects_helpers import citizen
from tests.spreadsheets.support import import_file

NUMBER = "079123456789"


def raw_column(pk: int) -> tuple[str, str]:
    """The stored national_id and national_id_index, read with raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, national_id_index FROM recognition_citizen WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def all_raw_ids() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM recognition_citizen")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_the_column_holds_a_token_and_the_index_an_hmac(cast):
    c = citizen(cast, national_id=NUMBER)
    stored, index = raw_column(c.pk)
    assert NUMBER not in stored and stored.startswith(crypto.TOKEN_PREFIX)
    assert index == crypto.blind_index(NUMBER) and len(index) == 64 and NUMBER not in index
    assert Citizen.objects.get(pk=c.pk).national_id == NUMBER  # decrypted on read
    # Randomised: the same number encrypts differently each time.
    assert crypto.encrypt(NUMBER) != crypto.encrypt(NUMBER)


@pytest.mark.django_db
def test_no_number_stays_empty_in_both_columns(cast):
    c = citizen(cast, national_id="")
    assert raw_column(c.pk) == ("", "")


@pytest.mark.django_db
def test_lookups_on_the_ciphertext_are_refused_and_go_through_the_index(cast):
    c = citizen(cast, national_id=NUMBER)
    with pytest.raises(FieldError, match="national_id_index"):
        list(Citizen.objects.filter(national_id=NUMBER))
    found = Citizen.objects.get(national_id_index=crypto.blind_index(NUMBER))
    assert found == c


@pytest.mark.django_db
def test_uniqueness_per_tenant_through_the_blind_index(cast):
    citizen(cast, national_id=NUMBER)
    with pytest.raises(DuplicateSubjectError):
        citizen_create(
            actor=None,
            unit=cast.ward,
            full_name="Người khác",
            birth_year=1990,
            labour_group=LabourGroup.FARMERS,
            national_id="079 123 456 789",
        )
    # The same number in another tenant is another person's record there.
    other = citizen_create(
        actor=None,
        unit=cast.other_tenant_ward,
        full_name="Người ở tỉnh khác",
        birth_year=1990,
        labour_group=LabourGroup.FARMERS,
        national_id=NUMBER,
    )
    assert other.national_id_index == crypto.blind_index(NUMBER)


@pytest.mark.django_db
def test_an_edit_reencrypts_and_reindexes(cast):
    c = citizen(cast, national_id=NUMBER)
    c.national_id = "001099000111"
    Citizen.objects.bulk_update([c], ["national_id", "national_id_index"])
    stored, index = raw_column(c.pk)
    assert "001099000111" not in stored and index == crypto.blind_index("001099000111")


@pytest.mark.django_db
def test_imports_write_no_plain_number(cast):
    """Through the engine (on PostgreSQL: the COPY writer of core.bulk)."""
    rows = [
        ["Nguyễn Văn Nhập", 1981, "Nông dân, lao động nông thôn", "079123456001", "27184-KP01"],
        ["Lê Thị Nhập", 1982, "Nông dân, lao động nông thôn", "079123456002", "27184-KP01"],
    ]
    outcome = import_file("citizens", cast.ward_official, cast.ward, rows, apply=True)
    assert not outcome.errors if hasattr(outcome, "errors") else True
    stored = all_raw_ids()
    assert len(stored) == 2
    assert all(s.startswith(crypto.TOKEN_PREFIX) for s in stored)
    assert not any("079123456" in s for s in stored)
    found = Citizen.objects.get(national_id_index=crypto.blind_index("079123456002"))
    assert found.full_name == "Lê Thị Nhập"
    # A second import matches the stored citizen by its number (blind index).
    rows[1][0] = "Lê Thị Nhập Sửa"
    import_file("citizens", cast.ward_official, cast.ward, rows, apply=True)
    assert Citizen.objects.count() == 2
    assert Citizen.objects.get(pk=found.pk).full_name == "Lê Thị Nhập Sửa"
    assert raw_column(found.pk)[1] == crypto.blind_index("079123456002")


@pytest.mark.django_db
def test_keys_rotate_and_the_command_reencrypts(cast):
    c = citizen(cast, national_id=NUMBER)
    old_token = raw_column(c.pk)[0]
    new_key = Fernet.generate_key().decode()
    with override_settings(PERSONAL_DATA_KEYS=[new_key, *settings.PERSONAL_DATA_KEYS]):
        assert Citizen.objects.get(pk=c.pk).national_id == NUMBER  # old key still decrypts
        assert not crypto.is_under_primary_key(old_token)
        call_command("personal_data_rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        token = raw_column(c.pk)[0]
        assert token != old_token and crypto.is_under_primary_key(token)
    # Only the new key left: the row still reads.
    with override_settings(PERSONAL_DATA_KEYS=[new_key]):
        assert Citizen.objects.get(pk=c.pk).national_id == NUMBER
    # A value no configured key decrypts is a clear configuration error.
    stranger = [Fernet.generate_key().decode()]
    with override_settings(PERSONAL_DATA_KEYS=stranger), pytest.raises(crypto.PersonalDataKeyError):
        Citizen.objects.get(pk=c.pk)


@pytest.mark.django_db
def test_a_new_index_key_is_applied_by_the_rotation(cast):
    c = citizen(cast, national_id=NUMBER)
    with override_settings(PERSONAL_DATA_INDEX_KEY="another-index-key-of-at-least-32-chars"):
        call_command("personal_data_rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert Citizen.objects.get(national_id_index=crypto.blind_index(NUMBER)) == c


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_its_reverse_decrypts(cast):
    c = citizen(cast, national_id=NUMBER)
    before, after = (
        ("recognition", "0006_citizen_national_id_idx"),
        (
            "recognition",
            "0007_citizen_national_id_encrypted",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        assert all_raw_ids() == [NUMBER]  # decrypted back into the old column
        executor.loader.build_graph()
        executor.migrate([after])
        stored, index = raw_column(c.pk)
        assert stored.startswith(crypto.TOKEN_PREFIX) and index == crypto.blind_index(NUMBER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Citizen.objects.get(pk=c.pk).national_id == NUMBER


def test_production_keys_are_required(monkeypatch):
    monkeypatch.delenv("PERSONAL_DATA_KEYS", raising=False)
    monkeypatch.delenv("PERSONAL_DATA_INDEX_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="PERSONAL_DATA_KEYS"):
        pd_settings.load_keys(production=True)
    monkeypatch.setenv("PERSONAL_DATA_KEYS", pd_settings.DEV_KEYS[0])
    monkeypatch.setenv("PERSONAL_DATA_INDEX_KEY", "x" * 40)
    with pytest.raises(ImproperlyConfigured, match="development"):
        pd_settings.load_keys(production=True)
    monkeypatch.setenv("PERSONAL_DATA_KEYS", "not-a-key")
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        pd_settings.load_keys(production=False)
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("PERSONAL_DATA_KEYS", f"{new}, {old}")
    assert pd_settings.load_keys(production=True) == ([new, old], "x" * 40)
    # Outside production the fixed development keys serve.
    monkeypatch.delenv("PERSONAL_DATA_KEYS")
    monkeypatch.delenv("PERSONAL_DATA_INDEX_KEY")
    assert pd_settings.load_keys(production=False) == (
        pd_settings.DEV_KEYS,
        pd_settings.DEV_INDEX_KEY,
    )


def test_production_settings_refuse_to_start_without_keys():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERSONAL_DATA_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="s" * 60)
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "PERSONAL_DATA_KEYS" in done.stderr


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL regular expressions")
def test_postgresql_holds_no_twelve_digit_number_in_the_column(cast):
    for i in range(5):
        citizen(cast, name=f"Người {i}", national_id=f"07912345670{i}")
    import_file(
        "citizens",
        cast.ward_official,
        cast.ward,
        [["Người nhập", 1980, "Nông dân, lao động nông thôn", "001234567890", "27184-KP01"]],
        apply=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE national_id ~ '[0-9]{12}'),"
            " count(*) FILTER (WHERE national_id_index ~ '^[0-9a-f]{64}$')"
            " FROM recognition_citizen"
        )
        total, plain, indexed = cursor.fetchone()
    assert (total, plain, indexed) == (6, 0, 6)
