"""Admin for the org-unit tree, roles, values and uploads.

Non-superuser staff act only inside their scope: the admin obeys the same rule as the portal
(districts.scopes). Lists are filtered by the read scope; every add, change and delete is checked
against it (the object as it stands and as it would be saved); every org-unit choice offered is
limited to it; and roles follow the granting rule (scopes.can_grant, through
services.role_grant and role_remove).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from core.text import bilingual

from . import scopes
from .models import DataValue, DataValueChange, OrgUnit, OrgUnitGroup, RoleAssignment, UploadJob
from .services import orgunit_save, role_grant, role_remove

OUT_OF_SCOPE = bilingual("超出您的管辖范围", "outside your scope")


class ScopedAdmin(admin.ModelAdmin):
    """Keeps a scoped staff user inside their scope.

    ``scope_field`` names the org-unit relation ("" for OrgUnit itself); ``scope_allows(request,
    obj)`` says whether ``obj`` (as it stands, or as it would be saved) is inside the user's
    scope. It is asked before a change or delete, in the form's clean(), and again in
    save_model() so that nothing outside the scope is written even if a form is bypassed.
    """

    scope_field = "org_unit"

    def get_queryset(self, request):
        return scopes.filter_in_scope(
            super().get_queryset(request), request.user, scopes.READ, self.scope_field
        )

    def scope_allows(self, request, obj) -> bool:
        unit = getattr(obj, self.scope_field) if self.scope_field else obj
        return unit is not None and scopes.can(request.user, scopes.READ, unit)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self.scope_allows(request, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self.scope_allows(request, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.related_model is OrgUnit and not scopes.is_admin(request.user):
            field.queryset = field.queryset.filter(scopes.scope_q(request.user, field=""))
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        admin_ = self

        class ScopedForm(form):
            def _post_clean(self):
                # After the model form has copied the cleaned data onto the instance: the check
                # is on the object as it would be saved.
                super()._post_clean()
                if not self.errors and not scopes.is_admin(request.user):
                    if not admin_.scope_allows(request, self.instance):
                        self.add_error(None, ValidationError(OUT_OF_SCOPE))

        return ScopedForm

    def save_model(self, request, obj, form, change):
        self.check_scope(request, obj)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self.check_scope(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.check_scope(request, obj)
        super().delete_queryset(request, queryset)

    def check_scope(self, request, obj) -> None:
        if not scopes.is_admin(request.user) and not self.scope_allows(request, obj):
            raise PermissionDenied(OUT_OF_SCOPE)


class SuperuserDeleteMixin:
    """Records kept for history: only an administrator deletes them."""

    def has_delete_permission(self, request, obj=None):
        return scopes.is_admin(request.user) and super().has_delete_permission(request, obj)


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

    def scope_allows(self, request, obj) -> bool:
        # A unit may be edited only below the top of the user's subtree, and only put under a
        # parent inside it (the parent as submitted, and the unit as stored before the change).
        if obj.pk is not None:
            stored = OrgUnit.objects.filter(pk=obj.pk).first()
            if stored is not None and not scopes.can_manage_unit(request.user, stored):
                return False
        if obj.parent_id is None:
            return scopes.is_admin(request.user)
        parent = OrgUnit.objects.filter(pk=obj.parent_id).first()
        return parent is not None and scopes.can(request.user, scopes.READ, parent)

    def has_change_permission(self, request, obj=None):
        allowed = admin.ModelAdmin.has_change_permission(self, request, obj)
        return allowed and (obj is None or scopes.can_manage_unit(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = admin.ModelAdmin.has_delete_permission(self, request, obj)
        return allowed and (obj is None or scopes.can_manage_unit(request.user, obj))

    def save_model(self, request, obj, form, change):

        self.check_scope(request, obj)
        orgunit_save(unit=obj)

    def delete_model(self, request, obj):
        if not scopes.can_manage_unit(request.user, obj):
            raise PermissionDenied(OUT_OF_SCOPE)
        obj.delete()

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if not scopes.can_manage_unit(request.user, obj):
                raise PermissionDenied(OUT_OF_SCOPE)
        queryset.delete()


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
    """Roles are granted and removed through districts.services (the granting rule and the
    audit log); a role is not edited in place: remove it and grant another."""

    list_display = ("user", "role", "org_unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "org_unit__code", "org_unit__name_zh")
    raw_id_fields = ("org_unit", "user")

    def scope_allows(self, request, obj) -> bool:
        if obj.org_unit_id is None or not obj.role:
            return False
        unit = OrgUnit.objects.filter(pk=obj.org_unit_id).first()
        return unit is not None and scopes.can_grant(request.user, obj.role, unit)

    def has_change_permission(self, request, obj=None):
        # Existing rows are shown read-only: changing a role in place would skip the rule for
        # taking the old one away.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):

        if change:
            raise PermissionDenied
        _user, assignment, _created = role_grant(
            username=obj.user.get_username(),
            role=obj.role,
            org_unit_code=obj.org_unit.code,
            actor=request.user,
        )
        obj.pk = assignment.pk
        obj.created_at = assignment.created_at

    def delete_model(self, request, obj):

        role_remove(assignment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):

        for obj in queryset.select_related("user", "org_unit"):
            role_remove(assignment=obj, actor=request.user)


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
class DataValueAdmin(SuperuserDeleteMixin, ScopedAdmin):
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
class DataValueChangeAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
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
class UploadJobAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
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
