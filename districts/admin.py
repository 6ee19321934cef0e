"""Admin for the org-unit tree, roles, values and uploads. Non-superuser staff see only rows
inside their scope: the admin obeys the same rule as the portal (districts.scopes)."""

from django.contrib import admin

from . import scopes
from .models import DataValue, DataValueChange, OrgUnit, OrgUnitGroup, RoleAssignment, UploadJob


class ScopedAdmin(admin.ModelAdmin):
    """Filters the changelist by the user's read scope; ``scope_field`` names the org-unit
    relation ("" for OrgUnit itself)."""

    scope_field = "org_unit"

    def get_queryset(self, request):
        return scopes.filter_in_scope(
            super().get_queryset(request), request.user, scopes.READ, self.scope_field
        )


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdmin):
    scope_field = ""
    list_display = ("indented_name", "code", "level", "population", "is_generated")
    list_filter = ("level", "is_generated")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("path", "depth")
    raw_id_fields = ("parent", "predecessors")
    list_per_page = 200

    @admin.display(description="名称 / name", ordering="path")
    def indented_name(self, obj):
        return f"{'— ' * obj.depth}{obj.name_zh}"

    def save_model(self, request, obj, form, change):
        from .services import orgunit_save

        orgunit_save(unit=obj)


@admin.register(OrgUnitGroup)
class OrgUnitGroupAdmin(admin.ModelAdmin):
    """Groups are catalog data (readable by all); members are picked by id, as the tree holds
    thousands of units."""

    list_display = ("code", "name_zh", "name_en", "group_set", "member_count")
    list_filter = ("group_set",)
    search_fields = ("code", "name_zh", "name_en")
    raw_id_fields = ("units",)

    @admin.display(description="单位数 / units")
    def member_count(self, obj):
        return obj.units.count()


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdmin):
    list_display = ("user", "role", "org_unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "org_unit__code", "org_unit__name_zh")
    raw_id_fields = ("org_unit", "user")


class ChangeInline(admin.TabularInline):
    model = DataValueChange
    extra = 0
    can_delete = False
    fields = (
        "at",
        "action",
        "old_value",
        "new_value",
        "old_state",
        "new_state",
        "actor",
        "source",
        "comment",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataValue)
class DataValueAdmin(ScopedAdmin):
    list_display = ("element", "org_unit", "period", "value", "state", "source", "updated_at")
    list_filter = ("state", "source", "element__period_type")
    search_fields = ("element__code", "org_unit__code", "org_unit__name_zh", "period")
    list_select_related = ("element", "org_unit")
    raw_id_fields = ("org_unit", "element", "upload", "created_by", "updated_by", "reviewed_by")
    inlines = [ChangeInline]

    def has_change_permission(self, request, obj=None):
        # Values change through the portal's services so that history and scopes are kept.
        return False

    def has_add_permission(self, request):
        return False


@admin.register(DataValueChange)
class DataValueChangeAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "action",
        "element_code",
        "org_unit_code",
        "period",
        "old_value",
        "new_value",
        "actor",
        "source",
    )
    list_filter = ("action", "source")
    search_fields = ("element_code", "org_unit_code", "period")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        paths = scopes.scope_paths(request.user, scopes.READ)
        if paths is None:
            return qs
        codes = scopes.units_in_scope(request.user).values("code")
        return qs.filter(org_unit_code__in=codes)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(UploadJob)
class UploadJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "original_name",
        "created_by",
        "state",
        "percent",
        "total_rows",
        "error_count",
        "created_at",
    )
    list_filter = ("state",)
    readonly_fields = [f.name for f in UploadJob._meta.fields]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if scopes.is_admin(request.user):
            return qs
        return qs.filter(created_by=request.user)

    def has_add_permission(self, request):
        return False
