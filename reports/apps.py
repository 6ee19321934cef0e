from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("进度与报表")

    def ready(self):
        # Progress counts approved values: the values layer announces their changes, progress
        # recomputes (the values layer never imports this app).
        from districts.signals import approved_values_changed

        from .triggers import on_approved_values_changed

        approved_values_changed.connect(on_approved_values_changed, dispatch_uid="progress")
