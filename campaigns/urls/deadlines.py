"""URLs of campaign deadlines and the calendar."""

from django.urls import URLPattern, path

from campaigns.views import deadlines as views

urlpatterns: list[URLPattern] = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("plans/<str:public_id>/deadlines/", views.deadline_list_view, name="deadline-list"),
    path("deadlines/<str:public_id>/", views.deadline_detail_view, name="deadline-detail"),
    path("deadlines/<str:public_id>/delete/", views.deadline_delete_view, name="deadline-delete"),
    path("deadlines/<str:public_id>/extend/", views.deadline_extend_view, name="deadline-extend"),
    path(
        "deadlines/<str:public_id>/extensions/revoke/",
        views.deadline_extension_revoke_view,
        name="deadline-extension-revoke",
    ),
]
