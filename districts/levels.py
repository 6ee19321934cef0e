"""Org-unit levels. Pure: used by models, parsers and the progress engine alike."""

from django.utils.translation import gettext_lazy as _

LEVEL_CHOICES = [
    ("country", _("国家")),
    ("province", _("省")),
    ("city", _("市")),
    ("district", _("区")),
    ("town", _("镇")),
    ("subdistrict", _("街道")),
    ("community", _("社区")),
    ("village", _("村")),
    ("grid", _("网格")),
]
LEVELS = [code for code, _label in LEVEL_CHOICES]

# A coverage "level" names a tier: towns and subdistricts (镇/街道) sit at one tier, and so do
# communities and villages (社区/村), so "every community" counts both.
COVERAGE_LEVEL_MEMBERS = {
    "district": {"district"},
    "town": {"town", "subdistrict"},
    "community": {"community", "village"},
    "grid": {"grid"},
}
