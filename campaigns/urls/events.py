"""URLs of campaign events (namespace ``campaigns``)."""

from django.urls import URLPattern, path

from campaigns.views import events as views

urlpatterns: list[URLPattern] = [
    path("events/", views.event_list_view, name="event-list"),
    path("events/new/", views.event_create_view, name="event-create"),
    path("events/<str:public_id>/", views.event_detail_view, name="event-detail"),
    path("events/<str:public_id>/edit/", views.event_edit_view, name="event-edit"),
    path("events/<str:public_id>/report/", views.event_report_view, name="event-report"),
    path(
        "event-reports/<str:public_id>/photos/",
        views.event_photo_upload_view,
        name="event-photo-upload",
    ),
    path("event-photos/<str:public_id>/", views.event_photo_view, name="event-photo"),
    path(
        "event-photos/<str:public_id>/delete/",
        views.event_photo_delete_view,
        name="event-photo-delete",
    ),
]
