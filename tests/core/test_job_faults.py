"""Jobs under failure (issue 10 §4), in-process: transient errors are retried with
back-off and jitter up to a maximum, a killed attempt's files are removed when a
new attempt takes over, files are never half-written, and a job the queue
refuses ends "failed" with the reason instead of waiting forever."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.test import override_settings
from django.utils import translation
from kombu.exceptions import OperationalError as KombuOperationalError

from core import job_journal, jobs
from core.jobs import JobTransientError, QueueUnavailableError, job_create, job_run
from core.models import Job, JobStatus
from core.storage import AtomicFileSystemStorage
from core.tasks import retry_delay, run_job

KIND = "export.build"


def _job(cast: Any, status: str = JobStatus.PENDING, **kwargs: Any) -> Job:
    return Job.objects.create(
        tenant_id=cast.tenant.pk, unit=cast.district, kind=KIND, label="t", status=status, **kwargs
    )


def _handler(monkeypatch: pytest.MonkeyPatch, handler: Any) -> None:
    monkeypatch.setattr(jobs, "_handler", lambda kind: handler)


def _files_of(job: Job) -> list[str]:
    directory = f"jobs/{job.tenant_id}/{job.public_id.hex}"
    if not default_storage.exists(directory):
        return []
    return sorted(default_storage.listdir(directory)[1])


def test_a_transient_error_puts_the_job_back_for_a_retry(cast, monkeypatch) -> None:
    job = _job(cast)

    def lose_database(job: Job) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    _handler(monkeypatch, lose_database)
    with translation.override("en"), pytest.raises(JobTransientError):
        job_run(job.pk, final_attempt=False)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.message == (
        "A temporary problem interrupted the work; it will be retried automatically in a moment."
    )


def test_the_last_attempt_ends_the_job_failed(cast, monkeypatch) -> None:
    job = _job(cast)
    _handler(monkeypatch, lambda job: (_ for _ in ()).throw(OperationalError("down")))
    with pytest.raises(JobTransientError):
        job_run(job.pk, final_attempt=False)
    assert job_run(job.pk, final_attempt=True) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 2
    assert job.finished_at is not None


def test_a_missing_file_is_not_retried(cast, monkeypatch) -> None:
    job = _job(cast)
    _handler(monkeypatch, lambda job: (_ for _ in ()).throw(FileNotFoundError("gone")))
    assert job_run(job.pk, final_attempt=False) == "failed"


def test_the_task_retries_with_backoff_then_gives_up(cast, monkeypatch, settings) -> None:
    """The Celery task: JobTransientError -> self.retry(countdown=jittered back-off)."""
    settings.JOB_MAX_RETRIES = 3
    job = _job(cast)
    _handler(monkeypatch, lambda job: (_ for _ in ()).throw(OperationalError("down")))
    countdowns: list[int] = []

    class Retried(Exception):
        pass

    def retry(*, exc: Exception, countdown: int) -> Exception:
        countdowns.append(countdown)
        return Retried()

    monkeypatch.setattr(run_job, "retry", retry)
    for attempt in range(3):
        run_job.push_request(retries=attempt, is_eager=False, delivery_info={})
        try:
            with pytest.raises(Retried):
                run_job.run(job.pk)
        finally:
            run_job.pop_request()
    run_job.push_request(retries=3, is_eager=False, delivery_info={})
    try:
        assert run_job.run(job.pk) == "failed"
    finally:
        run_job.pop_request()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 4
    assert len(countdowns) == 3
    assert all(0 <= c <= settings.JOB_RETRY_BACKOFF * 2**i for i, c in enumerate(countdowns))


def test_retry_delay_is_exponential_capped_and_jittered(settings) -> None:
    settings.JOB_RETRY_BACKOFF = 5
    settings.JOB_RETRY_BACKOFF_MAX = 60
    for retries in range(8):
        samples = {retry_delay(retries) for _ in range(200)}
        assert min(samples) >= 0 and max(samples) <= min(60, 5 * 2**retries)
        if retries >= 2:
            assert len(samples) > 3  # jitter: not one fixed delay for every worker


def test_a_failed_job_leaves_no_file_it_wrote(cast, monkeypatch) -> None:
    job = _job(cast)

    def write_then_break(job: Job) -> None:
        default_storage.save(f"jobs/{job.tenant_id}/{job.public_id.hex}/out.pdf", ContentFile(b"x"))
        raise RuntimeError("bug after the write")

    _handler(monkeypatch, write_then_break)
    assert job_run(job.pk) == "failed"
    assert _files_of(job) == []


def test_a_finished_job_keeps_its_file_and_drops_its_journal(cast, monkeypatch) -> None:
    job = _job(cast)

    def attach(job: Job) -> None:
        jobs.job_attach(job, content=b"%PDF-1.4", file_name="out.pdf")

    _handler(monkeypatch, attach)
    assert job_run(job.pk) == "done"
    job.refresh_from_db()
    assert _files_of(job) == ["out.pdf"]  # no .written.json left
    assert default_storage.open(job.file.name).read() == b"%PDF-1.4"


def test_taking_over_a_dead_attempt_removes_its_unreferenced_files(cast, monkeypatch) -> None:
    """A worker died after storing a file but before its commit: the job is still
    "running" and the manifest names the orphan; the redelivered task takes over."""
    job = _job(cast, JobStatus.RUNNING, attempts=1)
    kept = _job(cast, JobStatus.DONE)
    with job_journal.journal(job):
        orphan = default_storage.save(
            f"jobs/{job.tenant_id}/{job.public_id.hex}/half.pdf", ContentFile(b"orphan")
        )
        # A file the dead attempt wrote and committed on a row stays.
        jobs.job_attach(kept, content=b"committed", file_name="kept.pdf")
    kept.refresh_from_db()
    assert set(job_journal.read(job)) == {orphan, kept.file.name}

    ran: list[int] = []
    _handler(monkeypatch, lambda job: ran.append(job.attempts))
    if jobs._leases_are_exclusive():
        assert job_run(job.pk) == "done"
    else:
        assert job_run(job.pk) == "skipped"  # no lease on SQLite: only a redelivery takes over
        assert job_run(job.pk, recover=True) == "done"
    assert ran == [2]
    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept.file.name)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2


def test_a_finished_job_is_never_run_again(cast, monkeypatch) -> None:
    job = _job(cast, JobStatus.DONE)
    _handler(monkeypatch, lambda job: pytest.fail("ran twice"))
    assert job_run(job.pk, recover=True) == "skipped"


class _BrokenContent(ContentFile):
    def chunks(self, chunk_size: int | None = None):  # type: ignore[override]
        yield b"%PDF-1.4 first half"
        raise OSError("disk full")


def test_an_interrupted_write_leaves_neither_the_file_nor_a_partial(tmp_path) -> None:
    storage = AtomicFileSystemStorage(location=tmp_path)
    with pytest.raises(OSError, match="disk full"):
        storage.save("decisions/1/abc.pdf", _BrokenContent(b""))
    assert not storage.exists("decisions/1/abc.pdf")
    assert storage.listdir("decisions/1") == ([], [])
    name = storage.save("decisions/1/abc.pdf", ContentFile(b"whole"))
    assert name == "decisions/1/abc.pdf" and storage.open(name).read() == b"whole"
    # Never overwrites: a second file gets a new name.
    other = storage.save("decisions/1/abc.pdf", ContentFile(b"second"))
    assert other != name and storage.open(name).read() == b"whole"


def test_partial_files_of_a_killed_writer_are_found(tmp_path) -> None:
    storage = AtomicFileSystemStorage(location=tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / ".r.pdf.0123abcd.partial").write_bytes(b"half")
    (tmp_path / "reports" / ".other.pdf.0123abcd.partial").write_bytes(b"half")
    assert storage.partial_names("reports/r.pdf") == ["reports/.r.pdf.0123abcd.partial"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_with_the_queue_down_the_job_fails_with_the_reason(cast, monkeypatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(run_job, "delay", refuse)
    job = job_create(kind=KIND, actor=None, unit=cast.district, label="export")
    with translation.override("en"), pytest.raises(QueueUnavailableError) as raised:
        jobs.job_enqueue(job)
    assert raised.value.http_status == 503
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    with translation.override("en"):
        assert "task queue is unavailable" in str(raised.value)
    # The row says why (in the worker's language at the time: Vietnamese by default).
    assert job.message


def test_a_storage_that_may_overwrite_replaces_atomically(tmp_path) -> None:
    storage = AtomicFileSystemStorage(location=tmp_path, allow_overwrite=True)
    assert storage.save("a.txt", ContentFile(b"one")) == "a.txt"
    assert storage.save("a.txt", ContentFile(b"two")) == "a.txt"
    assert storage.open("a.txt").read() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_the_beat_sends_again_the_jobs_left_behind(cast, monkeypatch) -> None:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    sent: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda job: sent.append(job.pk))
    long_ago = timezone.now() - dt.timedelta(hours=2)
    lost = _job(cast)
    Job.objects.filter(pk=lost.pk).update(created_at=long_ago)
    _job(cast)  # pending for a moment only: its message is on the way
    orphan = _job(cast, JobStatus.RUNNING, started_at=long_ago)
    _job(cast, JobStatus.RUNNING, started_at=timezone.now())  # just started
    _job(cast, JobStatus.DONE, started_at=long_ago)

    result = jobs.jobs_recover(stale_after_s=3600)
    if connection.vendor == "postgresql":
        assert result == {"running": 1, "pending": 1}
        assert sorted(sent) == sorted([lost.pk, orphan.pk])
    else:  # no advisory locks: a running job is only taken over on redelivery
        assert result == {"running": 0, "pending": 1} and sent == [lost.pk]


def test_the_beat_leaves_a_job_a_live_worker_holds(cast, monkeypatch) -> None:
    import datetime as dt

    import psycopg
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    sent: list[int] = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda job: sent.append(job.pk))
    busy = _job(cast, JobStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=2))
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [jobs.ADVISORY_NAMESPACE, busy.pk])
        assert jobs.jobs_recover(stale_after_s=3600) == {"running": 0, "pending": 0}
        assert job_run(busy.pk) == "busy"
    finally:
        other.close()
    assert sent == []
