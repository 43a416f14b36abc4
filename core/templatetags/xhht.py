"""Small template helpers for the XHHT layout.

``{{ field|with_class }}`` renders a bound form field with the Bootstrap 5 class
that fits its widget (``form-control``, ``form-select``, ``form-check-input``)
and ``is-invalid`` when it has errors, so templates never need to know the
widget type. Django itself adds ``aria-invalid`` and ``aria-describedby``
(pointing at ``<id>_helptext`` and ``<id>_error``); ``templates/_form.html``
renders elements with those ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField

register = template.Library()

_BASE_CLASSES = {"form-control", "form-select", "form-check-input"}
_SINCE_ALWAYS = dt.date(1900, 1, 1)


def widget_kind(field: BoundField) -> str:
    """``check``, ``choices`` (radios, checkbox lists), ``select`` or ``input``."""
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.CheckboxInput):
        return "check"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "select"
    return "input"


@register.filter
def with_class(field: Any, css: str = "") -> Any:
    """Render ``field`` with the Bootstrap class for its widget plus ``css``.

    A ``form-control`` given in ``css`` is swapped for the class that fits the
    widget: selects get ``form-select``, checkboxes and radios
    ``form-check-input``. Anything that is not a bound field is returned as is.
    """
    if not isinstance(field, BoundField):
        return field
    kind = widget_kind(field)
    base = {
        "check": "form-check-input",
        "choices": "form-check-input",
        "select": "form-select",
    }.get(kind, "form-control")
    extra = [c for c in css.split() if c not in _BASE_CLASSES]
    existing = field.field.widget.attrs.get("class", "")
    classes = [base, existing, *extra]
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(c for c in classes if c)})


@register.filter
def field_kind(field: Any) -> str:
    """The widget kind of a bound field (see ``widget_kind``), for wrapper markup."""
    if not isinstance(field, BoundField):
        return ""
    return widget_kind(field)


@register.filter
def nav_active(url: str, path: str) -> bool:
    """Whether a navigation link to ``url`` is the current section of ``path``."""
    if not url or not path:
        return False
    if url == "/":
        return path == "/"
    return path.startswith(url)


@register.filter
def role_label(value: str) -> str:
    """The translated label of a role value (``tenant_admin`` → "Administrator")."""
    from units.roles import Role

    try:
        return str(Role(value).label)
    except ValueError:
        return value


@register.filter
def known_date(value: Any) -> Any:
    """``None`` for the "since always" sentinel date (1900-01-01), else the value.

    Units whose start is not recorded carry ``valid_from = 1900-01-01``; showing
    that date would mislead, so ``{{ d|known_date|date:"d/m/Y"|default:"—" }}``.
    """
    if isinstance(value, dt.date) and value <= _SINCE_ALWAYS:
        return None
    return value


@register.filter
def initials(name: str) -> str:
    """ "Nguyễn Văn Quản" -> "NQ": the first letters of the family and given names."""
    words = str(name or "").split()
    if not words:
        return ""
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
