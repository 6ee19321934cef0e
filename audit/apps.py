from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only log of sensitive actions (who, when, what, from where)."""

    name = "audit"
    verbose_name = "审计日志（Audit log）"

    def ready(self):
        from . import hooks

        hooks.install()
