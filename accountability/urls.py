from django.urls import path

from . import views

app_name = "accountability"
urlpatterns = [
    path("", views.index, name="index"),
    path("departments/<str:code>/", views.department, name="department"),
    path("assessments/<int:assessment_id>/", views.assessment, name="assessment"),
    path(
        "assessments/<int:assessment_id>/bulletin/",
        views.bulletin_new,
        name="bulletin_new",
    ),
    path(
        "assessments/<int:assessment_id>/<str:unit>/",
        views.assessment_unit,
        name="assessment_unit",
    ),
    path("bulletins/<int:bulletin_id>/<str:kind>", views.bulletin_file, name="bulletin_file"),
]
