"""S3-compatible storage with the job journal (see core/storage.py).

An S3 ``PutObject`` creates the object whole or not at all, so only the journal
is added: a job killed between its upload and its database commit has the
object deleted when the job is swept (core/job_journal.py). Use it in
``STORAGES["default"]["BACKEND"]`` instead of ``storages.backends.s3.S3Storage``.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from core.storage import JournalledStorageMixin


class JournalledS3Storage(JournalledStorageMixin, S3Storage):
    """S3Storage whose writes are noted in the running job's journal."""
