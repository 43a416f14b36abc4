"""URLs of the recognition cycle: dossier."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
