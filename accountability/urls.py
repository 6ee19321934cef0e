from django.urls import path

from . import views

app_name = "accountability"
urlpatterns = [
    path("", views.index, name="index"),
    path("departments/<str:code>/", views.department, name="department"),
    path("assessments/<int:assessment_id>/", views.assessment, name="assessment"),
    path(
        "assessments/<int:assessment_id>/<str:unit>/",
        views.assessment_unit,
        name="assessment_unit",
    ),
]
