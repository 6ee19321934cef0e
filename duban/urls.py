from django.urls import path

from . import views

app_name = "duban"
urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/transition/", views.task_transition, name="task_transition"),
    path("tasks/<int:pk>/progress/", views.task_progress, name="task_progress"),
    path("tasks/<int:pk>/steps/<int:step_id>/done/", views.step_done, name="step_done"),
    path("tasks/<int:pk>/sheet.pdf", views.task_sheet, name="task_sheet"),
    path("instructions/", views.instruction_list, name="instruction_list"),
    path("instructions/new/", views.instruction_create, name="instruction_create"),
    path("instructions/<int:pk>/reply/", views.instruction_reply, name="instruction_reply"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/preview.png", views.evidence_preview, name="evidence_preview"),
]
