"""Personal data (issue 10 §2, Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): encryption of national ID numbers at rest, access log, retention.

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.
"""

from __future__ import annotations

from typing import Any


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""
