from django.urls import path

from . import views

app_name = "reports"
urlpatterns: list = [
    path("", views.home, name="home"),
    path("city/<str:code>/", views.city, name="city"),
    path("unit/<str:code>/", views.unit, name="unit"),
    path("indicator/<str:code>/", views.indicator, name="indicator"),
    path("plan/<str:code>/text/", views.plan_text, name="plan_text"),
    path("compare/", views.compare, name="compare"),
    path("packs/", views.pack_list, name="packs"),
    path("packs/<int:pack_id>/", views.pack_detail, name="pack"),
    path("packs/<int:pack_id>/status.json", views.pack_status, name="pack_status"),
    path("packs/<int:pack_id>/<str:kind>", views.pack_file, name="pack_file"),
]
