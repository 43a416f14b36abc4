"""URLs of the recognition cycle: the self-assessment and its evidence."""

from django.urls import URLPattern, path

from recognition.views import assessment as views

urlpatterns: list[URLPattern] = [
    path("assessments/", views.assessment_list_view, name="assessment-list"),
    path(
        "assessments/start/<str:public_id>/",
        views.assessment_start_view,
        name="assessment-start",
    ),
    path(
        "assessments/files/<str:public_id>/",
        views.evidence_download_view,
        name="assessment-evidence-download",
    ),
    path(
        "assessments/files/<str:public_id>/delete/",
        views.evidence_delete_view,
        name="assessment-evidence-delete",
    ),
    path("assessments/<str:public_id>/", views.assessment_detail_view, name="assessment-detail"),
    path(
        "assessments/<str:public_id>/preview/",
        views.assessment_preview_view,
        name="assessment-preview",
    ),
    path(
        "assessments/<str:public_id>/complete/",
        views.assessment_complete_view,
        name="assessment-complete",
    ),
    path(
        "assessments/<str:public_id>/reopen/",
        views.assessment_reopen_view,
        name="assessment-reopen",
    ),
    path(
        "assessments/<str:public_id>/copy-previous/",
        views.assessment_copy_previous_view,
        name="assessment-copy-previous",
    ),
    path(
        "assessments/<str:public_id>/evidence/",
        views.evidence_upload_view,
        name="assessment-evidence-upload",
    ),
    path(
        "assessments/<str:public_id>/timeline/",
        views.assessment_timeline_view,
        name="assessment-timeline",
    ),
]
