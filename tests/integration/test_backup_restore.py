"""Restore drill: back up a database holding an issued decision (its PDF in the
media), restore it into a fresh database with ``scripts/restore.sh`` and check
the counts and the PDF's SHA-256 in the copy.

PostgreSQL only (pg_dump/pg_restore/psql on PATH); skipped on SQLite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from core.models import AuditEvent
from recognition.models import Assessment, Decision, DecisionStatus, Household
from tests.integration.conftest import database_url
from tests.recognition.conftest import cycle  # noqa: F401 - the fixture
from tests.recognition.decision_support import issued_decision, read_file
from units.models import AdministrativeUnit

BASE_DIR = Path(__file__).resolve().parents[2]
TOOLS = ("pg_dump", "pg_restore", "psql")

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the backup scripts work on PostgreSQL"
    ),
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in TOOLS), reason="pg_dump/pg_restore/psql missing"
    ),
    pytest.mark.django_db(transaction=True),  # the dump reads committed rows only
]


def _run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(BASE_DIR / "scripts" / script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def _url_of(url: str, name: str) -> str:
    base, _, _db = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def fresh_database() -> Any:
    """The name of a database that does not exist yet; dropped afterwards."""
    name = f"xhht_restore_{uuid.uuid4().hex[:10]}"
    yield name
    _psql(database_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_restores_into_a_fresh_database_with_counts_and_the_pdf(
    cycle: Any,  # noqa: F811
    settings: Any,
    tmp_path: Path,
    fresh_database: str,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    setup = issued_decision(cycle, count=3)
    decision = Decision.objects.get(pk=setup.decision.pk)
    assert decision.status == DecisionStatus.ISSUED and decision.pdf
    pdf_sha = hashlib.sha256(read_file(decision.pdf)).hexdigest()
    expected = {
        "units_administrativeunit": AdministrativeUnit.objects.count(),
        "recognition_household": Household.objects.count(),
        "recognition_assessment": Assessment.objects.count(),
        "recognition_decision": Decision.objects.count(),
        "core_auditevent": AuditEvent.objects.count(),
    }
    assert expected["recognition_decision"] == 1 and expected["core_auditevent"] > 0

    url = database_url()
    backup = Path(
        _run(
            "backup.sh",
            str(tmp_path / "backups"),
            DATABASE_URL=url,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
        ).stdout.strip()
    )
    assert {p.name for p in backup.iterdir()} == {
        "db.dump",
        "media.tar",
        "counts.tsv",
        "media.sha256",
        "files.sha256",
    }
    manifest = dict(line.split("\t") for line in (backup / "counts.tsv").read_text().splitlines())
    assert {table: int(manifest[table]) for table in expected} == expected
    assert f"{pdf_sha}  ./{decision.pdf.name}" in (backup / "media.sha256").read_text()

    restored_media = tmp_path / "restored-media"
    out = _run("restore.sh", str(backup), fresh_database, str(restored_media), DATABASE_URL=url)
    assert "Restore verified" in out.stdout

    copy = _url_of(url, fresh_database)
    for table, count in expected.items():
        assert int(_psql(copy, f"SELECT count(*) FROM {table}")) == count, table  # noqa: S608
    name = _psql(copy, f"SELECT pdf FROM recognition_decision WHERE id = {decision.pk}")  # noqa: S608
    assert name == decision.pdf.name
    restored_pdf = (restored_media / name).read_bytes()
    assert hashlib.sha256(restored_pdf).hexdigest() == pdf_sha
    assert restored_pdf.startswith(b"%PDF")
    # The copy keeps the append-only guard on the audit table.
    assert (
        _psql(copy, "SELECT count(*) FROM pg_trigger WHERE tgname = 'core_auditevent_append_only'")
        == "1"
    )


def test_restore_refuses_an_existing_database_and_a_tampered_archive(
    tmp_path: Path, settings: Any, fresh_database: str
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "decisions").mkdir(parents=True)
    (tmp_path / "media" / "decisions" / "a.pdf").write_bytes(b"%PDF-1.4 test")
    url = database_url()
    backup = Path(
        _run(
            "backup.sh", str(tmp_path / "b"), DATABASE_URL=url, MEDIA_ROOT=str(settings.MEDIA_ROOT)
        ).stdout.strip()
    )
    script = str(BASE_DIR / "scripts" / "restore.sh")
    env = {**os.environ, "DATABASE_URL": url}
    current = connection.settings_dict["NAME"]
    refused = subprocess.run(
        ["bash", script, str(backup), current, str(tmp_path / "m1")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "exists" in refused.stderr

    with (backup / "media.tar").open("ab") as handle:
        handle.write(b"tampered")
    tampered = subprocess.run(
        ["bash", script, str(backup), fresh_database, str(tmp_path / "m2")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert tampered.returncode != 0
    assert "FAILED" in tampered.stdout + tampered.stderr
    left = f"SELECT count(*) FROM pg_database WHERE datname = '{fresh_database}'"  # noqa: S608
    assert _psql(url, left) == "0"
