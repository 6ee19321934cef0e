"""The catalog is published policy, readable by all staff. Only administrators (superusers)
change it here, whatever model permissions a staff user was given: plans are edited as YAML files
and loaded with load_plans (an edit here would be overwritten by the next load), and a plan, goal,
indicator or element is not tied to one org unit, so the scope rule cannot bound such an edit —
a city's reviewer could otherwise change another city's targets."""

from django.contrib import admin

from .models import DataElement, Goal, Indicator, Plan


class CatalogAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(DataElement)
class DataElementAdmin(CatalogAdmin):
    list_display = (
        "code",
        "name_zh",
        "unit",
        "value_type",
        "period_type",
        "aggregation",
        "temporal",
        "level",
    )
    list_filter = ("aggregation", "temporal", "period_type", "value_type")
    search_fields = ("code", "name_zh", "name_en")


class GoalInline(admin.TabularInline):
    model = Goal

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    extra = 0
    fields = ("code", "title_zh", "title_en", "position")


@admin.register(Plan)
class PlanAdmin(CatalogAdmin):
    list_display = ("code", "title_zh", "city", "document_number", "issued_on", "horizon", "method")
    search_fields = ("code", "title_zh", "document_number")
    inlines = [GoalInline]


@admin.register(Indicator)
class IndicatorAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "plan", "kind", "comparator", "target", "unit", "deadline")
    list_filter = ("kind", "plan")
    search_fields = ("code", "name_zh", "name_en", "quote")
    list_select_related = ("plan",)
    raw_id_fields = ("goal", "same_as")


@admin.register(Goal)
class GoalAdmin(CatalogAdmin):
    list_display = ("code", "title_zh", "plan")
    list_filter = ("plan",)
