"""Progress runs and rows are computed by the engine: read-only here, and deleted (to free
space or force a clean recompute) by administrators only. Rows are scoped like every list."""

from django.contrib import admin

from districts import scopes
from districts.admin import SuperuserDeleteMixin

from .models import ProgressRow, ProgressRun


@admin.register(ProgressRun)
class ProgressRunAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "trigger",
        "plan_code",
        "as_of",
        "state",
        "rows_written",
        "duration_ms",
        "started_at",
    )
    list_filter = ("state", "trigger")
    readonly_fields = [f.name for f in ProgressRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProgressRow)
class ProgressRowAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = ("indicator", "org_unit", "period", "value", "target", "status", "completeness")
    list_filter = ("status", "period")
    list_select_related = ("indicator", "org_unit")
    search_fields = ("indicator__code", "org_unit__code")

    def get_queryset(self, request):
        return scopes.filter_in_scope(super().get_queryset(request), request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
