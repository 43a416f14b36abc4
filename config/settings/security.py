"""Sign-in and browser security (issue 10 §1): two-factor sign-in, brute-force lock-out (django-axes), Content-Security-Policy (django-csp).

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.
"""

from __future__ import annotations

from typing import Any


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""
