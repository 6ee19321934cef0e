"""Departments and schemes are catalog-like (files, editable here by superusers); allocations
and assessments are scoped like data (districts.scopes)."""

from django.contrib import admin

from districts.admin import ScopedAdmin

from .models import (
    Allocation,
    AllocationChange,
    Assessment,
    AssessmentScheme,
    Department,
    SchemeItem,
)
from .services import allocation_set


class SuperuserEdits(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Department)
class DepartmentAdmin(SuperuserEdits):
    list_display = ("code", "name_zh", "name_en", "city")
    list_filter = ("city",)
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Allocation)
class AllocationAdmin(ScopedAdmin):
    list_display = ("indicator", "org_unit", "target", "deadline", "source", "updated_by")
    list_filter = ("source",)
    search_fields = ("indicator__code", "org_unit__code", "org_unit__name_zh")
    raw_id_fields = ("indicator", "org_unit")
    readonly_fields = ("updated_by",)

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is kept with who, when and why.

        allocation_set(
            indicator=obj.indicator,
            org_unit=obj.org_unit,
            target=obj.target,
            deadline=obj.deadline,
            note=obj.note,
            user=request.user,
            reason="admin",
        )


@admin.register(AllocationChange)
class AllocationChangeAdmin(ScopedAdmin):
    list_display = ("indicator", "org_unit", "old_target", "new_target", "changed_by", "changed_at")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class SchemeItemInline(admin.TabularInline):
    model = SchemeItem
    extra = 0
    raw_id_fields = ("indicator",)


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(SuperuserEdits):
    list_display = ("code", "title_zh", "city", "period", "version")
    inlines = [SchemeItemInline]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("scheme", "number", "period", "published_by", "published_at")

    def has_change_permission(self, request, obj=None):
        return False  # a published assessment is frozen

    def has_add_permission(self, request):
        return False
