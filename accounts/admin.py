"""Users and second-factor devices in the admin: only administrators (superusers) hand out
administrator rights or see a device's secret.

A staff user given the model permission to change users could otherwise tick
"superuser status" on their own account, or give themselves any permission, and so leave their
scope; and a TOTP device's key is the second factor itself.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

User = get_user_model()
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


class ScopedUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in PRIVILEGE_FIELDS if f not in fields]
        return fields

    def _may_touch(self, request, obj) -> bool:
        # Only an administrator edits or deletes an administrator or another staff user.
        return request.user.is_superuser or obj is None or not (obj.is_superuser or obj.is_staff)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)


class SuperuserTOTPDeviceAdmin(TOTPDeviceAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


for model, model_admin in ((User, ScopedUserAdmin), (TOTPDevice, SuperuserTOTPDeviceAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
