"""Production: PostgreSQL, Redis, gunicorn, a Celery worker and beat. Fails loudly when the
secret key is missing or short rather than starting with a guessable one.

HTTPS comes from the environment under Django's names (base.py): SECURE_SSL_REDIRECT=1 also makes
the session and CSRF cookies secure; SECURE_HSTS_SECONDS=31536000 sends HSTS. With both,
`manage.py check --deploy --fail-level WARNING` is clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, SECURE_SSL_REDIRECT, env_bool

if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY (or DJANGO_SECRET_KEY) for production.")
# Django's own deploy check asks for 50 characters with at least 5 different ones.
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY is too short for production: use at least 50 random characters, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

DEBUG = env_bool("DEBUG", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The HSTS preload list is for hosts on the public internet; an intranet portal cannot be on it,
# so Django's reminder to opt in (security.W021) does not apply. SECURE_HSTS_PRELOAD=1 still
# sends the flag for a public deployment.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Cookies go over HTTPS only when the portal is served over HTTPS (SECURE_SSL_REDIRECT); the older
# SECURE_COOKIES switch still decides both when it is set.
_secure_cookies = env_bool("SECURE_COOKIES", SECURE_SSL_REDIRECT)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure_cookies)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _secure_cookies)
