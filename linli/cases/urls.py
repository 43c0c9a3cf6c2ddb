"""Routes of the cases app. Each views module adds its own block."""

from django.urls import path  # noqa: F401 - used by the blocks below

app_name = "cases"

urlpatterns = [
    # report.py
    # case.py
    # lists.py
    # imports.py
]
