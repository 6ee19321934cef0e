"""Who must give a second factor (TOTP, django-otp) after the password."""

from __future__ import annotations

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from districts.models import RoleAssignment

SESSION_KEY = "otp_required"
"""``"verify"`` (a confirmed device: ask for a code), ``"enrol"`` (must set one up first) or
``""``; decided once at sign-in so that pages pay no query for it."""


def may_enrol(user) -> bool:
    """Administrators, staff and reviewers may add a second factor (SPEC: optional for them)."""
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return RoleAssignment.objects.filter(user=user, role=RoleAssignment.REVIEWER).exists()


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def requirement(user) -> str:
    if has_confirmed_device(user):
        return "verify"
    if settings.OTP_REQUIRED_FOR_STAFF and may_enrol(user):
        return "enrol"
    return ""
