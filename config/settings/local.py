"""The quick start: embedded SQLite, jobs on threads of the web process (core.jobs), a fixed
development key."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "quick-start-only-not-secret"
# SQLite ignores the covering columns of the dashboard index; PostgreSQL uses them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
