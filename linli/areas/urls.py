from django.urls import path
from django.views.generic import TemplateView

app_name = "areas"
urlpatterns = [
    path("map/", TemplateView.as_view(template_name="core/home.html"), name="map"),
    path("", TemplateView.as_view(template_name="core/home.html"), name="list"),
    path("import/", TemplateView.as_view(template_name="core/home.html"), name="import"),
]
