"""URLs of recognition decisions (the public verification page is mounted at
the root in config/urls.py)."""

from django.urls import URLPattern, path

from recognition.views import decision as views

urlpatterns: list[URLPattern] = [
    path("decisions/", views.decision_list_view, name="decision-list"),
    path(
        "decisions/issuer/<str:public_id>/",
        views.issuer_profile_view,
        name="decision-issuer-profile",
    ),
    path("decisions/<str:public_id>/", views.decision_detail_view, name="decision-detail"),
    path(
        "decisions/<str:public_id>/preview/",
        views.decision_preview_view,
        name="decision-preview",
    ),
    path(
        "decisions/<str:public_id>/annex/add/",
        views.decision_annex_add_view,
        name="decision-annex-add",
    ),
    path(
        "decisions/<str:public_id>/annex/remove/",
        views.decision_annex_remove_view,
        name="decision-annex-remove",
    ),
    path("decisions/<str:public_id>/issue/", views.decision_issue_view, name="decision-issue"),
    path(
        "decisions/<str:public_id>/preview-pdf/",
        views.decision_preview_pdf_view,
        name="decision-preview-pdf",
    ),
    path(
        "decisions/<str:public_id>/certificates/",
        views.decision_certificates_view,
        name="decision-certificates",
    ),
    path("decisions/<str:public_id>/revoke/", views.decision_revoke_view, name="decision-revoke"),
    path("decisions/<str:public_id>/pdf/", views.decision_pdf_view, name="decision-pdf"),
]
