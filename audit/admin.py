"""The audit log in the admin: readable by administrators, never added to, changed or deleted."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "ip",
    )
    list_filter = ("action", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("actor_username", "object_id", "object_repr", "ip")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_per_page = 100

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
