from django.urls import path

from . import views

app_name = "districts"
urlpatterns = [
    path("", views.index, name="index"),
    path("entry/", views.entry, name="entry"),
    path("entry/check/", views.entry_check, name="entry_check"),
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/template/", views.upload_template_view, name="upload_template"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/status/", views.upload_status, name="upload_status"),
    path("uploads/<int:pk>/errors.csv", views.upload_errors, name="upload_errors"),
    path("uploads/<int:pk>/rollback/", views.upload_rollback_view, name="upload_rollback"),
    path("review/", views.review, name="review"),
    path("values/<int:pk>/history/", views.value_history, name="value_history"),
]
