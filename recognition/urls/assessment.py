"""URLs of the recognition cycle: assessment."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
