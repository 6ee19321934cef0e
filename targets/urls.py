from django.urls import path

from . import views

app_name = "targets"
urlpatterns = [
    path("extract/", views.extract_page, name="extract"),
    path("extract/save/", views.extract_save, name="extract_save"),
    path("extract/drafts/<str:name>", views.draft_download, name="draft"),
    path("extract/drafts/<str:name>/load/", views.draft_load_view, name="draft_load"),
]
