"""URLs of the recognition cycle: subjects."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
