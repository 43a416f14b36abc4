"""The import engine: stream a file through a kind, a batch at a time.

One pass does everything: read (streaming, :func:`spreadsheets.readers.open_table`),
match the headers, clean every cell through the kind's columns, run the kind's
cross-column checks, find duplicate keys inside the file, look the batch's
existing rows up in one query, classify each row as new / changed / unchanged,
and — when applying — write the batch. The caller runs an apply inside one
transaction and rolls it back if any error was found (all or nothing), so the
preview (``apply=False``) and the apply see the same rules.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any, BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from spreadsheets.cleaners import CellError
from spreadsheets.exceptions import FileRejected
from spreadsheets.kinds.base import Column, ImportContext, ImportKind, RowChange, UnitRef
from spreadsheets.readers import open_table

#: Errors kept in the run for the preview screen; all of them go to the report file.
ERRORS_SHOWN = 1000
#: Errors written to the report file (a file of a million bad rows stops here).
ERRORS_REPORTED = 200_000
#: New/changed rows kept as samples for the preview.
SAMPLES_SHOWN = 50

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Outcome:
    total: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    #: The errors as a CSV (UTF-8 with BOM) in a temporary file, or None if there were none.
    report: IO[bytes] | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "error": self.error_rows,
        }


class _ErrorSink:
    """Collects errors: the first ones in memory, all of them in a spooled CSV file."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self._file: IO[bytes] | None = None
        self._text: io.TextIOWrapper | None = None
        self._writer: Any = None

    def add(self, error: RowError) -> None:
        outcome = self.outcome
        outcome.error_count += 1
        if len(outcome.errors) < ERRORS_SHOWN:
            outcome.errors.append(error)
        if outcome.error_count > ERRORS_REPORTED:
            return
        if self._writer is None:
            self._file = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
            self._text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
            self._writer = csv.writer(self._text)
            self._writer.writerow([_("Row"), _("Column"), _("Error")])
        self._writer.writerow([error.row, error.column, error.message])

    def close(self) -> None:
        if self._text is not None and self._file is not None:
            self._text.flush()
            self._text.detach()
            self._file.seek(0)
            self.outcome.report = self._file


def match_headers(kind: ImportKind, headers: list[str]) -> list[tuple[Column, int]]:
    """Map the file's header row onto the kind's columns, or refuse the file saying what is wrong."""
    columns = kind.columns()
    mapping: list[tuple[Column, int]] = []
    used: dict[int, Column] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        column = next((c for c in columns if c.matches(header)), None)
        if column is None:
            unknown.append(f"{header} ({column_letter(index)})")
            continue
        if any(c is column for c in used.values()):
            raise FileRejected(
                _("Column %(header)s appears twice (column %(letter)s).")
                % {"header": column.header, "letter": column_letter(index)}
            )
        used[index] = column
        mapping.append((column, index))
    missing = [c.header for c in columns if c.required and all(c is not m for m, _i in mapping)]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(_("missing columns: %(list)s") % {"list": ", ".join(missing)})
        if unknown:
            parts.append(_("columns not in the template: %(list)s") % {"list": ", ".join(unknown)})
        raise FileRejected(
            _(
                "The header row does not match the template (%(problems)s). "
                "Download the template and keep its first row as it is."
            )
            % {"problems": "; ".join(parts)}
        )
    return mapping


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (Excel's column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _batches(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    while batch := list(islice(rows, size)):
        yield batch


def _sample_value(value: Any) -> Any:
    if isinstance(value, UnitRef):
        return value.code
    if hasattr(value, "isoformat"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def run_import(
    *,
    kind: ImportKind,
    file: BinaryIO,
    filename: str,
    ctx: ImportContext,
    apply: bool,
    progress: Progress | None = None,
) -> Outcome:
    """Validate (and, with ``apply``, write) a whole file; see the module docstring.

    With ``apply`` the caller must hold a transaction and roll it back when the
    outcome has errors: batches before the first error are already written.
    """
    outcome = Outcome()
    sink = _ErrorSink(outcome)
    total_hint = estimate_rows(file, filename)
    seen: dict[bytes, int] = {}
    try:
        with open_table(file, filename=filename) as table:
            mapping = match_headers(kind, table.headers)
            for batch in _batches(table.rows, kind.batch_size):
                _process(kind, ctx, mapping, batch, outcome, sink, seen, apply=apply)
                if progress is not None:
                    progress(outcome.total, total_hint)
        if apply and not outcome.error_count:
            kind.finish()
    finally:
        sink.close()
    return outcome


def _process(
    kind: ImportKind,
    ctx: ImportContext,
    mapping: list[tuple[Column, int]],
    batch: list[tuple[int, list[Any]]],
    outcome: Outcome,
    sink: _ErrorSink,
    seen: dict[bytes, int],
    *,
    apply: bool,
) -> None:
    headers = {c.attribute: c.header for c, _i in mapping}
    valid: list[tuple[int, dict[str, Any], tuple[Any, ...]]] = []
    for number, cells in batch:
        outcome.total += 1
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        for column, index in mapping:
            row = {column.column_name: cells[index] if index < len(cells) else None}
            try:
                values[column.attribute] = column.clean(row, ctx=ctx)
            except (CellError, ValueError) as exc:
                errors.append(RowError(number, _column(column, index), str(exc)))
            except ValidationError as exc:
                errors.append(RowError(number, _column(column, index), " ".join(exc.messages)))
        if not errors:
            for attribute, message in kind.check_row(values):
                errors.append(RowError(number, headers.get(attribute, attribute), message))
        key: tuple[Any, ...] = ()
        if not errors:
            key = kind.key_of(values)
            digest = hashlib.blake2b(repr(key).encode(), digest_size=12).digest()
            first = seen.get(digest)
            if first is not None:
                names = ", ".join(headers.get(n, n) for n in kind.natural_key)
                errors.append(
                    RowError(
                        number,
                        names,
                        _("The same %(key)s as row %(row)s: each row must be unique in the file.")
                        % {"key": names, "row": first},
                    )
                )
            else:
                seen[digest] = number
        if errors:
            outcome.error_rows += 1
            for error in errors:
                sink.add(error)
        else:
            valid.append((number, values, key))
    if not valid:
        return
    stored = kind.existing([key for _n, _v, key in valid])
    new: list[RowChange] = []
    changed: list[RowChange] = []
    for number, values, key in valid:
        obj = stored.get(key)
        problems = kind.check_existing(obj, values) if obj is not None else []
        if problems:
            outcome.error_rows += 1
            for attribute, message in problems:
                sink.add(RowError(number, headers.get(attribute, attribute), message))
            continue
        if obj is None:
            outcome.new += 1
            new.append(RowChange(number, values))
            _sample(outcome, number, "new", key, {})
            continue
        diff = kind.compare(obj, values)
        if diff:
            outcome.changed += 1
            changed.append(RowChange(number, values, obj, diff))
            _sample(outcome, number, "changed", key, diff)
        else:
            outcome.unchanged += 1
    if apply and not outcome.error_count and (new or changed):
        kind.write(new, changed)


def _sample(
    outcome: Outcome, number: int, status: str, key: tuple[Any, ...], diff: dict[str, Any]
) -> None:
    if len(outcome.samples) >= SAMPLES_SHOWN:
        return
    outcome.samples.append(
        {
            "row": number,
            "status": status,
            "key": " · ".join(str(_sample_value(k)) for k in key),
            "changes": {
                name: [_sample_value(old), _sample_value(new)] for name, (old, new) in diff.items()
            },
        }
    )


def _column(column: Column, index: int) -> str:
    return f"{column.header} ({column_letter(index)})"


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def estimate_rows(file: BinaryIO, filename: str) -> int | None:
    """Rows in the file, for the progress bar: an XLSX says it in its sheet's <dimension>;
    a CSV is estimated from its size and its first lines. None when unknown."""
    try:
        file.seek(0)
        head = file.read(4)
        file.seek(0)
        if head.startswith(b"PK"):
            with zipfile.ZipFile(file) as archive:
                names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
                for name in sorted(names)[:1]:
                    with archive.open(name) as sheet:
                        match = _DIMENSION.search(sheet.read(4096))
                        if match:
                            return max(0, int(match.group(1)) - 1)
            return None
        sample = file.read(256 * 1024)
        size = file.seek(0, io.SEEK_END)
        lines = sample.count(b"\n")
        if not lines:
            return None
        return max(1, int(size / (len(sample) / lines)) - 1)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    finally:
        file.seek(0)
