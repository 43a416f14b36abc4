"""The score form's inputs are rendered in Python (``PlainTextInput``) for speed;
they must give exactly the markup Django's ``input.html`` template gives."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from recognition.forms.assessment import PlainTextInput

CASES = [
    ({"form": "score-form", "inputmode": "decimal", "autocomplete": "off", "size": "6"}, "7,5"),
    ({"form": "score-form", "hx-post": "/x/?a=1&b=2", "hx-trigger": "input changed"}, ""),
    ({"class": "form-control is-invalid", "aria-invalid": "true", "required": True}, None),
    ({"disabled": False, "readonly": True, "maxlength": "20"}, 'say "<b>hi</b>" & go'),
]


@pytest.mark.parametrize(("attrs", "value"), CASES)
def test_plain_input_renders_what_the_template_renders(attrs, value):
    plain = PlainTextInput(attrs=attrs).render("score_abc", value, attrs={"id": "id_score_abc"})
    template = forms.TextInput(attrs=attrs).render("score_abc", value, attrs={"id": "id_score_abc"})
    assert parse_html(plain) == parse_html(template)
    assert "<b>" not in plain  # values are escaped


def test_bound_field_with_errors_keeps_its_aria_attributes():
    class F(forms.Form):
        score = forms.CharField(max_length=2, widget=PlainTextInput)

    form = F(data={"score": "123"})
    assert not form.is_valid()
    html = form["score"].as_widget(attrs={"class": "form-control is-invalid"})
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_score_error"' in html
    assert 'value="123"' in html
