"""URLs of the recognition cycle: criteria sets (``/recognition/criteria/``)."""

from django.urls import URLPattern, path

from recognition.views import criteria as views

urlpatterns: list[URLPattern] = [
    path("criteria/", views.set_list, name="criteria-list"),
    path("criteria/new/", views.set_create, name="criteria-create"),
    path(
        "criteria/indicators/<str:public_id>/edit/",
        views.indicator_edit,
        name="criteria-indicator-edit",
    ),
    path(
        "criteria/indicators/<str:public_id>/remove/",
        views.indicator_remove,
        name="criteria-indicator-remove",
    ),
    path(
        "criteria/indicators/<str:public_id>/move/",
        views.indicator_move,
        name="criteria-indicator-move",
    ),
    path("criteria/<str:public_id>/", views.set_detail, name="criteria-detail"),
    path("criteria/<str:public_id>/edit/", views.set_edit, name="criteria-edit"),
    path("criteria/<str:public_id>/clone/", views.set_clone, name="criteria-clone"),
    path(
        "criteria/<str:public_id>/new-version/",
        views.set_new_version,
        name="criteria-new-version",
    ),
    path("criteria/<str:public_id>/publish/", views.set_publish, name="criteria-publish"),
    path("criteria/<str:public_id>/retire/", views.set_retire, name="criteria-retire"),
    path("criteria/<str:public_id>/preview/", views.set_preview, name="criteria-preview"),
    path(
        "criteria/<str:public_id>/criterion/", views.criterion_edit, name="criteria-criterion-edit"
    ),
    path(
        "criteria/<str:public_id>/criterion/remove/",
        views.criterion_remove,
        name="criteria-criterion-remove",
    ),
    path(
        "criteria/<str:public_id>/criterion/move/",
        views.criterion_move,
        name="criteria-criterion-move",
    ),
    path(
        "criteria/<str:public_id>/indicator/new/",
        views.indicator_add,
        name="criteria-indicator-add",
    ),
]
