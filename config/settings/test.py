"""The test suite: real PostgreSQL and Redis started by scripts/test.sh (DATABASE_URL, REDIS_URL)."""

import os

from .base import *  # noqa: F403
from .base import SECRET_KEY

SECRET_KEY = SECRET_KEY or "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user fixtures
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; tests marked `celery` switch to the live worker themselves.
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", "/tmp/tracker-test-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files through the finders (WhiteNoise's autorefresh), never from a collected
# STATIC_ROOT: without this every request warns that the directory is missing.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
