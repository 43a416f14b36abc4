"""File storage that never leaves a half-written file (issue 10 §4).

Django's ``FileSystemStorage`` writes a new file in place: a worker killed in the
middle of a PDF leaves a truncated file under the final name. Here the content
goes to a hidden partial file next to it, is flushed to disk, and only then gets
its final name with ``os.link`` (which, like Django, never overwrites another
file). A reader sees the whole file or no file. Names are noted in the running
job's journal (:mod:`core.job_journal`) before anything is written, so a job
killed between the write and its database commit has its file removed later.

S3-compatible storages write an object in one request (it exists whole or not
at all); :class:`JournalledS3Storage` adds only the journal.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage

from core import job_journal
from core.faults import fault_point

PARTIAL_SUFFIX = ".partial"


class JournalledStorageMixin:
    """Note every name in the running job's journal before writing it."""

    def _save(self, name: str, content: Any) -> str:
        job_journal.note(name)
        return super()._save(name, content)  # type: ignore[misc]


class AtomicFileSystemStorage(JournalledStorageMixin, FileSystemStorage):
    def partial_name(self, name: str, token: str) -> str:
        """The hidden name a file is written under before it is complete."""
        path = Path(name)
        return str(path.with_name(f".{path.name}.{token}{PARTIAL_SUFFIX}"))

    def partial_names(self, name: str) -> list[str]:
        """Partial files of ``name`` left by writers that were killed."""
        path = Path(name)
        directory = str(path.parent) if str(path.parent) != "." else ""
        prefix = f".{path.name}."
        try:
            _dirs, files = self.listdir(directory)
        except FileNotFoundError:
            return []
        return [
            str(Path(directory) / item) if directory else item
            for item in files
            if item.startswith(prefix) and item.endswith(PARTIAL_SUFFIX)
        ]

    def _save(self, name: str, content: Any) -> str:
        job_journal.note(name)
        final = self.path(name)
        directory = os.path.dirname(final)
        os.makedirs(directory, exist_ok=True)
        if self.directory_permissions_mode is not None:
            os.chmod(directory, self.directory_permissions_mode)
        partial = self.path(self.partial_name(name, uuid.uuid4().hex))
        self._write_fully(partial, content)
        try:
            while True:
                if getattr(self, "_allow_overwrite", False):
                    os.replace(partial, final)  # atomic replacement, as configured
                    partial = ""
                    break
                try:
                    os.link(partial, final)  # atomic; fails if the name is taken
                    break
                except FileExistsError:
                    # Taken since get_available_name (a concurrent writer): a new name.
                    name = self.get_available_name(name)
                    job_journal.note(name)
                    final = self.path(name)
        finally:
            if partial:
                os.unlink(partial)
        if self.file_permissions_mode is not None:
            os.chmod(final, self.file_permissions_mode)
        fault_point(f"storage.written:{name}")
        return str(name).replace("\\", "/")

    @staticmethod
    def _write_fully(path: str, content: Any) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            os.unlink(path)
            raise

    def replace_file(self, name: str, data: bytes) -> None:
        """Write ``name`` whole, replacing what was there (small bookkeeping files)."""
        final = self.path(name)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        temporary = f"{final}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
