"""URLs of the subjects: /recognition/subjects/<kind>/… (names ``<kind>-list`` …)."""

from django.urls import URLPattern, path

from recognition.titles import SubjectKind
from recognition.views import subjects as views

#: URL segment of each kind of subject.
SEGMENTS = {
    SubjectKind.HOUSEHOLD: "households",
    SubjectKind.CLAN: "clans",
    SubjectKind.ORGANISATION: "organisations",
    SubjectKind.CITIZEN: "citizens",
}

urlpatterns: list[URLPattern] = []
for _kind, _segment in SEGMENTS.items():
    _base = f"subjects/{_segment}/"
    _k = {"kind": str(_kind)}
    urlpatterns += [
        path(_base, views.subject_list, _k, name=f"{_kind}-list"),
        path(f"{_base}new/", views.subject_create, _k, name=f"{_kind}-create"),
        path(f"{_base}<str:public_id>/", views.subject_detail, _k, name=f"{_kind}-detail"),
        path(f"{_base}<str:public_id>/edit/", views.subject_edit, _k, name=f"{_kind}-edit"),
        path(
            f"{_base}<str:public_id>/active/",
            views.subject_set_active,
            _k,
            name=f"{_kind}-set-active",
        ),
    ]
