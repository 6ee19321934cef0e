from django.apps import AppConfig
from django.core.signals import request_started


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "核心 / core"

    def ready(self) -> None:
        from . import jobs

        # The quick start runs jobs on threads of the process serving requests; it starts them
        # with the first request (a management command never does, and runs its jobs inline).
        request_started.connect(jobs.start_runner, dispatch_uid="core.jobs.start_runner")
