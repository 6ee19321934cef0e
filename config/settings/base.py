"""Settings shared by every environment. Everything that differs between machines comes from
environment variables; see README "Configuration"."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY") or os.environ.get("DJANGO_SECRET_KEY") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "districts",
    "targets",
    "reports",
    "supervision",
    "accountability",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The quick start uses an embedded SQLite file; tests and production use PostgreSQL.
# CONN_MAX_AGE stays on: a new connection per request cost 2.6x in throughput here.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / '.run' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".run" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Celery: a Redis broker in production and tests; the quick start runs tasks in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "recompute-all-progress-nightly": {
        "task": "reports.tasks.recompute_all_progress",
        "schedule": crontab(hour=2, minute=0),
    },
    # Supervision (督查督办): reminders before and after deadlines and escalation, every
    # morning; idempotent, so a second beat or a redelivered task sends nothing twice.
    "supervision-send-reminders-daily": {
        "task": "supervision.tasks.send_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
    # Uploads whose worker died (killed, OOM, host lost) are queued again or failed; cheap (one
    # query on the running uploads), so every minute keeps an official's wait short.
    "districts-reap-stale-uploads": {
        "task": "districts.tasks.reap_stale_uploads",
        "schedule": 60.0,
        "options": {"expires": 60},  # runs piled up while no worker was up are dropped
    },
}

# Uploads (districts.uploading). A running upload's worker writes a heartbeat on the job row
# every UPLOAD_STALE_AFTER / 10 seconds, from a thread outside the write transaction; a running
# upload without one for UPLOAD_STALE_AFTER seconds is taken to have lost its worker and is
# queued again, until it has been claimed UPLOAD_MAX_ATTEMPTS times, then failed.
UPLOAD_STALE_AFTER = int(os.environ.get("UPLOAD_STALE_AFTER", "300"))
UPLOAD_MAX_ATTEMPTS = int(os.environ.get("UPLOAD_MAX_ATTEMPTS", "3"))

# The period the leadership pages, packs and exports show when none is asked for
# (reports.selectors.default_as_of): the latest whose approved completeness reaches this
# percentage, or half of it once the period's reporting deadline has passed.
ASOF_COMPLETENESS_THRESHOLD = float(os.environ.get("ASOF_COMPLETENESS_THRESHOLD", "80"))

# Supervision reminders. Deadlines, reminder days and escalation delays are per schedule
# (supervision.ReportingSchedule, seeded by `manage.py seed_schedules`); these are global.
REMINDER_HORIZON_DAYS = int(os.environ.get("REMINDER_HORIZON_DAYS", "366"))
"""Periods whose deadline is older than this are no longer listed as late or chased."""
REMINDER_EMAIL_ENABLED = env_bool("REMINDER_EMAIL_ENABLED", True)
REMINDER_EMAIL_SUBJECT_PREFIX = os.environ.get(
    "REMINDER_EMAIL_SUBJECT_PREFIX", "[社会建设目标监测平台] "
)
REMINDER_PORTAL_URL = os.environ.get("REMINDER_PORTAL_URL", "http://127.0.0.1:8000")
"""The portal's address as users reach it, for the links in reminder e-mails."""

REST_FRAMEWORK = {
    # Token first: an anonymous request is answered 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 100,
    # Ordering is a whitelisted `ordering` filter inside each app's FilterSet (filtersets.py).
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "core.api.CSVRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_THROTTLE_RATE", "10000/hour")},
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.TrackerAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Policy Target Tracker API · 社会建设目标监测平台",
    "DESCRIPTION": (
        "Plans, indicators, data values, uploads and progress, scoped by org unit (SPEC §4.5, "
        "§5). Authenticate with `Authorization: Token <key>` (`manage.py drf_create_token "
        "USERNAME`) or the web session. JSON by default, `?format=csv` for CSV. Errors share "
        "one shape: `detail`, `code`, `request_id` (also the `X-Request-ID` header) and, for a "
        "400, `errors` by field."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ComparatorEnum": "targets.models.COMPARATORS",
        "ProgressStatusEnum": "reports.models.STATUS_CHOICES",
        "OrgUnitLevelEnum": "districts.levels.LEVEL_CHOICES",
        "DataValueStateEnum": "districts.models.DataValue.STATE_CHOICES",
        "WritableStateEnum": "districts.api.WRITE_STATES",
        "UploadStateEnum": "districts.models.UploadJob.STATE_CHOICES",
    },
    # No request leaves the intranet: assets from drf-spectacular-sidecar, no online validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tracker@localhost")
