"""URLs of award nominations (namespace ``campaigns``)."""

from django.urls import URLPattern, path

from campaigns.views import nominations as views

urlpatterns: list[URLPattern] = [
    path("nominations/", views.nomination_list_view, name="nomination-list"),
    path("nominations/new/", views.nomination_create_view, name="nomination-create"),
    path(
        "nominations/award-decision/",
        views.nomination_award_decision_view,
        name="nomination-award-decision",
    ),
    path("nominations/<str:public_id>/", views.nomination_detail_view, name="nomination-detail"),
    path("nominations/<str:public_id>/edit/", views.nomination_edit_view, name="nomination-edit"),
    path(
        "nominations/<str:public_id>/review/",
        views.nomination_review_view,
        name="nomination-review",
    ),
    path(
        "nominations/<str:public_id>/approve/",
        views.nomination_approve_view,
        name="nomination-approve",
    ),
    path(
        "nominations/<str:public_id>/reject/",
        views.nomination_reject_view,
        name="nomination-reject",
    ),
]
