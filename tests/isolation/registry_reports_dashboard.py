"""Isolation registry of the steering dashboard (tests/test_isolation.py).

The dashboard takes its unit as a query parameter (``?unit=``), which the
registry walk does not fill: the walk checks sign-in and that the page answers
for the user's own default unit; tests/reports/test_dashboard.py checks that a
unit of another subtree or another tenant (page and XLSX export) is a 404.
"""

from __future__ import annotations

from tests.isolation.base import Entry

HTML_REGISTRY: dict[str, Entry] = {
    "reports:dashboard": Entry(),
}

API_REGISTRY: dict[str, Entry] = {}
