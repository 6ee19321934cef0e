from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.index, name="index"),
    path("overdue/", views.overdue, name="overdue"),
    path("units/<str:code>/", views.unit, name="unit_status"),
    path("units/<str:code>/reopen/", views.reopen, name="reopen"),
    path("schedules/", views.schedules, name="schedules"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
