"""URLs of the registration screen: /recognition/registrations/…"""

from django.urls import URLPattern, path

from recognition.views import registration as views

urlpatterns: list[URLPattern] = [
    path("registrations/", views.registration_list, name="registration-list"),
    path("registrations/new/", views.registration_create, name="registration-create"),
    path("registrations/bulk/", views.registration_bulk, name="registration-bulk"),
    path(
        "registrations/<str:public_id>/withdraw/",
        views.registration_withdraw,
        name="registration-withdraw",
    ),
]
