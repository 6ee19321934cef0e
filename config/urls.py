from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/verify/", account_views.verify, name="otp-verify"),
    path("accounts/two-factor/", account_views.enrol, name="otp-enrol"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", report_views.healthz, name="healthz"),
    path("reports/", include("reports.urls")),
    path("data/", include("districts.urls")),
    path("supervision/", include("supervision.urls")),
    path("catalog/", include("targets.urls")),
    path("duban/", include("duban.urls")),
    path("accountability/", include("accountability.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as its own response (?script), so the
    # page needs no inline script under the Content Security Policy.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

# Friendly pages in both languages (templates/403.html, 404.html, 500.html). The 500 view is
# Django's own: it renders without a request context, so a failing context processor or database
# cannot break the error page itself.
handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "django.views.defaults.server_error"
