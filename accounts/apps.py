from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in: the throttle backend, the second factor (TOTP) and session idleness."""

    name = "accounts"
    verbose_name = "登录（Sign-in）"

    def ready(self):
        from . import signals  # noqa: F401
