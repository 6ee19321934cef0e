from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DubanConfig(AppConfig):
    name = "duban"
    verbose_name = _("督办")
