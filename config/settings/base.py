"""Settings shared by every environment. Everything that differs between machines comes from
environment variables; see README "Configuration"."""

import os
from datetime import timedelta
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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "core",
    "districts",
    "targets",
    "reports",
    "supervision",
    "duban",
    "accountability",
    "demo",
    "accounts",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.RequestContextMiddleware",
    "config.middleware.IdleSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the lockout flag the authentication backend set on the request.
    "axes.middleware.AxesMiddleware",
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
                "districts.context_processors.menu",
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
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The quick start runs jobs on threads beside the requests: WAL lets readers go on while one
    # writes, a busy timeout makes a second writer wait instead of failing with "database is
    # locked", and IMMEDIATE transactions take the write lock at BEGIN (a deferred one that
    # reads, then writes, fails at once when another writer got in between).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "60")),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Validators apply where a person chooses a password (the admin's forms, `changepassword`,
# password-change views). The quick start's admin/admin and the demo logins are set directly by
# `ensure_admin` and the demo seeding, which is why those still work on a laptop.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttle (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name, or
# from one address, further attempts are refused for AXES_COOLOFF_TIME, even with the right
# password. The lock is shown on the login page and lifted by an administrator in the admin
# (Axes › Access attempts: delete the rows) or with `manage.py axes_reset_username NAME`.
# The first backend wraps axes' own so that a sign-in without a request (the test client's
# login(), scripts) is not refused; every sign-in through the web passes a request.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
# Either one locks: a user name tried from many addresses, or one address trying many names.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful sign-in does not wipe the count: axes would wipe every failure from that address,
# so an attacker could sign into an account of their own between guesses at someone else's.
# Failures age out after AXES_COOLOFF_TIME instead.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)  # refusals are in the audit log; keep commands quiet
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a reverse proxy, REMOTE_ADDR is the proxy: name the header it sets (and only then),
# e.g. AXES_IPWARE_META_PRECEDENCE_ORDER=HTTP_X_FORWARDED_FOR,REMOTE_ADDR. A header a client
# could send itself would let it change address at will.
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_IPWARE_META_PRECEDENCE_ORDER", "REMOTE_ADDR")

# Idle sessions end: use pushes the expiry SESSION_IDLE_SECONDS ahead (config.middleware.
# IdleSessionMiddleware, at most one session write a minute), so a session left alone that long
# is over (8 hours: one working day).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Second factor (django-otp, TOTP). Optional for administrators and reviewers: once a user has a
# confirmed device the code is asked after the password on every sign-in. With
# OTP_REQUIRED_FOR_STAFF on, administrators, staff and reviewers without a device are sent to
# enrol before anything else.
OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", False)
OTP_TOTP_ISSUER = "社会建设目标监测平台"

# Content Security Policy (django-csp): no inline script or style anywhere; everything the pages
# run or style with is a file under /static/. ECharts draws on canvas and sets styles through
# the DOM (allowed); the enrolment QR code is a data: image. The API docs' Swagger UI is served
# with its init script as a file (drf-spectacular's split view).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the portal never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HTTPS: off by default (the quick start is plain HTTP on 127.0.0.1); production turns them on
# from the environment under Django's own setting names.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SECURE_SSL_REDIRECT)

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
# Request bodies other than uploaded files (a JSON body to the API, a form): over this the API
# answers 413. Uploaded values files have their own limit, UPLOAD_MAX_BYTES, below.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("API_MAX_BODY_BYTES", str(2_621_440)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Background jobs (core.jobs). With Redis: Celery, a worker and beat. Without (the quick start):
# a few threads in the web process run them after the request returns (JOBS_BACKEND=thread).
REDIS_URL = os.environ.get("REDIS_URL", "")
JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "celery" if REDIS_URL else "thread")
JOBS_THREADS = int(os.environ.get("JOBS_THREADS", "2"))
# A running job whose worker has not beaten for JOB_STALE_AFTER seconds is taken to be dead and
# queued again, until it has been claimed JOB_MAX_ATTEMPTS times, then failed (uploads have
# their own pair below). A queued job the broker never got (it was down) is sent again after
# JOB_ENQUEUE_RETRY_AFTER seconds; one handed over JOB_RESEND_AFTER seconds ago and still not
# taken (the message was lost) is sent again too. The reaper runs every JOB_REAP_INTERVAL
# seconds (beat with Celery, a thread of the quick start's runner without).
JOB_STALE_AFTER = int(os.environ.get("JOB_STALE_AFTER", "300"))
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "3"))
JOB_ENQUEUE_RETRY_AFTER = int(os.environ.get("JOB_ENQUEUE_RETRY_AFTER", "30"))
JOB_RESEND_AFTER = int(os.environ.get("JOB_RESEND_AFTER", "900"))
JOB_REAP_INTERVAL = float(os.environ.get("JOB_REAP_INTERVAL", "60"))
# A request enqueuing a job waits at most about a second for an unreachable broker.
JOBS_PUBLISH_RETRY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

CELERY_BROKER_URL = REDIS_URL or "memory://"


def _cache_url(broker_url: str) -> str:
    """The broker's Redis with the next database number (db 0 → 1): the cache's keys and a
    cache.clear() (FLUSHDB) never touch Celery's queues."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(broker_url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


# The cache is shared by every web process when Redis is configured (the API throttle's
# counters live there: per-process counters would let N processes allow N times the rate);
# CACHE_URL overrides the database it uses. The quick start keeps one process's memory.
CACHE_URL = os.environ.get("CACHE_URL") or (_cache_url(REDIS_URL) if REDIS_URL else "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "tracker",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2"))
CELERY_RESULT_BACKEND = None
# Eager tasks stay available (the unit tests); the quick start runs jobs on threads instead.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # The nightly full recompute, one task per plan, shared by every worker (reports.fanout).
    "recompute-all-progress-nightly": {
        "task": "reports.tasks.recompute_progress_fanout",
        "schedule": crontab(hour=2, minute=0),
    },
    # Supervision (督查督办): reminders before and after deadlines and escalation, every
    # morning; idempotent, so a second beat or a redelivered task sends nothing twice.
    "supervision-send-reminders-daily": {
        "task": "supervision.tasks.send_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
    # 督办: alert lead units and leaders when a task turns yellow or red (once per change).
    "duban-alert-task-lamps-daily": {
        "task": "duban.tasks.alert_task_lamps",
        "schedule": crontab(hour=8, minute=40),
    },
    # Jobs of every kind whose worker died (killed, OOM, host lost) are queued again or failed,
    # and queued jobs whose message never reached the broker are sent again; cheap (a query per
    # kind on its queued and running rows), so every minute keeps an official's wait short.
    "jobs-reap-stale": {
        "task": "core.tasks.reap_stale_jobs",
        "schedule": JOB_REAP_INTERVAL,
        "options": {
            "expires": JOB_REAP_INTERVAL
        },  # runs piled up while no worker was up are dropped
    },
}

# Uploads (districts.intake). A running upload's worker writes a heartbeat on the job row
# every UPLOAD_STALE_AFTER / 10 seconds, from a thread outside the write transaction; a running
# upload without one for UPLOAD_STALE_AFTER seconds is taken to have lost its worker and is
# queued again, until it has been claimed UPLOAD_MAX_ATTEMPTS times, then failed.
UPLOAD_STALE_AFTER = int(os.environ.get("UPLOAD_STALE_AFTER", "300"))
UPLOAD_MAX_ATTEMPTS = int(os.environ.get("UPLOAD_MAX_ATTEMPTS", "3"))
# The period the leadership pages, packs and exports show when none is asked for
# (reports.selectors.default_as_of): the latest whose approved completeness reaches this
# percentage, or half of it once the period's reporting deadline has passed.
ASOF_COMPLETENESS_THRESHOLD = float(os.environ.get("ASOF_COMPLETENESS_THRESHOLD", "80"))

# A folder holding the plans' document texts (a plan's `source` names its file there): when set,
# the indicator page links to the text with the quoted clause highlighted. Empty: no such page.
PLAN_TEXTS_DIR = os.environ.get("PLAN_TEXTS_DIR", "")

# 督办 evidence files (PDF, PNG, JPEG, DOCX, XLSX): the largest accepted, in bytes.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))

# Files sent to the portal (values, org units; districts.intake.tables.Limits): refused in
# seconds, with nothing written, beyond UPLOAD_MAX_BYTES (also refused with 413 at the web
# layer, page and API, by Content-Length before the body is read); an XLSX beyond what it inflates to in
# all or per compressed byte (a zip bomb), or with a DTD; beyond UPLOAD_MAX_ROWS lines (Excel's
# limit). Plan YAML files (targets.plan_schema) beyond PLAN_MAX_BYTES or with YAML aliases.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
UPLOAD_MAX_INFLATED_BYTES = int(os.environ.get("UPLOAD_MAX_INFLATED_BYTES", str(512 * 1024 * 1024)))
UPLOAD_MAX_RATIO = int(os.environ.get("UPLOAD_MAX_RATIO", "200"))
UPLOAD_MAX_ROWS = int(os.environ.get("UPLOAD_MAX_ROWS", "1048576"))
PLAN_MAX_BYTES = int(os.environ.get("PLAN_MAX_BYTES", str(2 * 1024 * 1024)))

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
        "PlanKindEnum": "targets.models.Plan.KINDS",
        "IndicatorKindEnum": "targets.models.Indicator.KINDS",
        "TaskStateEnum": "duban.models.STATE_CHOICES",
        "TaskLampEnum": "duban.models.LAMP_CHOICES",
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
