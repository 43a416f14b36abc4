"""Fault injection for the tests that kill a real worker (tests/integration/).

A test needs a job to be at a known point when it sends SIGKILL. It starts the
worker with ``XHHT_FAULT_PAUSE="<point>=<seconds>"`` (several separated by
``;``) and ``XHHT_FAULT_MARKER=<file>``: when the job reaches ``<point>`` the
worker writes the point's name to the marker file and sleeps, and the test
kills it then; a point already in the marker file does not pause again, so
the attempt after the kill runs through. Points: ``job.start:<kind>`` (the handler starts) and
``storage.written:<name prefix>`` (a file has been stored, its rows are not
committed yet). ``XHHT_FAULT_RAISE="<point>"`` (with the marker) raises a database
``OperationalError`` at the point once instead, for the retry tests. Honoured
only under the test settings
(``DJANGO_SETTINGS_MODULE=config.settings.test``); in any other process
:func:`fault_point` does nothing.
"""

from __future__ import annotations

import os
import time
from functools import cache


@cache
def _pauses() -> dict[str, float]:
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test":
        return {}
    found: dict[str, float] = {}
    for item in os.environ.get("XHHT_FAULT_PAUSE", "").split(";"):
        point, _sep, seconds = item.strip().rpartition("=")
        if point:
            found[point] = float(seconds)
    return found


@cache
def _raises() -> tuple[str, ...]:
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test":
        return ()
    return tuple(p.strip() for p in os.environ.get("XHHT_FAULT_RAISE", "").split(";") if p.strip())


def fault_point(point: str) -> None:
    """Pause at ``point`` (or raise a database error there, once) when a test asked."""
    for wanted in _raises():
        marker = os.environ.get("XHHT_FAULT_MARKER")
        if point.startswith(wanted) and marker and not _reached(marker, "raise " + wanted):
            with open(marker, "a", encoding="utf-8") as handle:
                handle.write(f"raise {wanted}\n")
            from django.db import OperationalError

            raise OperationalError("injected by XHHT_FAULT_RAISE: the connection was lost")
    pauses = _pauses()
    if not pauses:
        return
    for wanted, seconds in pauses.items():
        if point.startswith(wanted):
            marker = os.environ.get("XHHT_FAULT_MARKER")
            if marker:
                if _reached(marker, wanted):
                    return  # once per marker: the attempt after the kill runs through
                with open(marker, "a", encoding="utf-8") as handle:
                    handle.write(point + "\n")
            time.sleep(seconds)
            return


def _reached(marker: str, wanted: str) -> bool:
    try:
        with open(marker, encoding="utf-8") as handle:
            return any(line.startswith(wanted) for line in handle)
    except FileNotFoundError:
        return False
