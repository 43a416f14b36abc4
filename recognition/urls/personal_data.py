"""URLs of personal data on request and the access log (names ``<kind>-personal-data-…``)."""

from django.urls import URLPattern, path

from recognition.titles import SubjectKind
from recognition.views import personal_data as views

SEGMENTS = {SubjectKind.HOUSEHOLD: "households", SubjectKind.CITIZEN: "citizens"}

urlpatterns: list[URLPattern] = [
    path("personal-data/access-log/", views.access_log, name="personal-data-access-log"),
]
for _kind, _segment in SEGMENTS.items():
    _base = f"subjects/{_segment}/<str:public_id>/personal-data/"
    _k = {"kind": str(_kind)}
    urlpatterns += [
        path(
            f"{_base}export/",
            views.person_data_export,
            _k,
            name=f"{_kind}-personal-data-export",
        ),
        path(
            f"{_base}erase/",
            views.person_data_erase,
            _k,
            name=f"{_kind}-personal-data-erase",
        ),
    ]
