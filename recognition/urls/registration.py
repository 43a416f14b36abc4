"""URLs of the recognition cycle: registration."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
