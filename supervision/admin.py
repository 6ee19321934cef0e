"""Admin for schedules and the read-only records of the reminder job. Non-superuser staff see
only reminders, notifications and reopenings inside their scope, and change or delete a schedule
only when its root unit lies inside their scope (districts.scopes); the records of what the job
and reviewers did are deleted by administrators only."""

from django.contrib import admin

from districts import scopes
from districts.admin import ScopedAdmin, SuperuserDeleteMixin
from districts.models import OrgUnit

from .models import Notification, PeriodReopen, Reminder, ReminderRun, ReportingSchedule


@admin.register(ReportingSchedule)
class ReportingScheduleAdmin(ScopedAdmin):
    list_display = (
        "code",
        "name_zh",
        "period_type",
        "element",
        "plan",
        "root",
        "deadline_rule",
        "due_months_after",
        "due_day",
        "due_days_after_end",
        "escalate_after_days",
        "is_active",
    )
    list_filter = ("period_type", "is_active", "deadline_rule")
    search_fields = ("code", "name_zh", "name_en", "element__code", "plan__code")
    raw_id_fields = ("element", "plan", "root")
    scope_field = "root"

    def get_queryset(self, request):
        # Schedules are published rules: every staff user may read them all, including those
        # for the whole tree (no root); editing is what the scope limits.
        return admin.ModelAdmin.get_queryset(self, request)

    def scope_allows(self, request, obj) -> bool:
        if obj.root_id is None:  # a schedule for the whole tree
            return scopes.is_admin(request.user)
        root = OrgUnit.objects.filter(pk=obj.root_id).first()
        return root is not None and scopes.can(request.user, scopes.READ, root)


class ReadOnlyScopedAdmin(SuperuserDeleteMixin, ScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "created_at",
        "org_unit",
        "period",
        "kind",
        "recipient",
        "audience",
        "deadline",
        "missing",
        "email_state",
    )
    list_filter = ("audience", "email_state", "schedule")
    search_fields = ("org_unit__code", "org_unit__name_zh", "recipient__username", "period")
    list_select_related = ("org_unit", "recipient")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "recipient", "kind", "org_unit", "period", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "org_unit__code", "period")
    list_select_related = ("org_unit", "recipient")


@admin.register(PeriodReopen)
class PeriodReopenAdmin(ReadOnlyScopedAdmin):
    list_display = ("at", "org_unit", "period", "actor", "value_count", "reason")
    search_fields = ("org_unit__code", "org_unit__name_zh", "period", "reason")
    list_select_related = ("org_unit", "actor")


@admin.register(ReminderRun)
class ReminderRunAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "as_of",
        "trigger",
        "state",
        "units_late",
        "claimed",
        "emailed",
        "email_failed",
    )
    list_filter = ("state", "trigger")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
