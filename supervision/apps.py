from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("督查督办")

    def ready(self):
        # The values layer announces rejections; supervision tells the submitters (districts
        # never imports supervision, which builds on it).
        from districts.signals import values_rejected

        from .services import on_values_rejected

        values_rejected.connect(on_values_rejected, dispatch_uid="supervision-rejection-notice")
