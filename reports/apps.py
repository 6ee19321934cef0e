from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("进度与报表")

    def ready(self) -> None:
        # The worker finds reports.tasks by autodiscovery; the report-pack tasks live in their
        # own module and are registered here.
        from . import pack_tasks  # noqa: F401
