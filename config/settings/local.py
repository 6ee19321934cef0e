"""The quick start: embedded SQLite, jobs on threads of the web process (core.jobs), a fixed
development key.

DEBUG is off unless a developer asks for it with ``DEBUG=1``, so a user of the quick start sees
the portal's own error pages, never Django's debug page. With DEBUG off ``runserver`` serves no
static files; WhiteNoise serves them straight from the finders (no collectstatic needed) and
picks up edits.
"""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = SECRET_KEY or "quick-start-only-not-secret"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Hashed names need collectstatic; the finders serve the files under their own names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# SQLite ignores the covering columns of the dashboard index; PostgreSQL uses them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
