"""Admin for 督办: read-only views of tasks, their transitions and instructions (every change
goes through the services, which check roles and record the transition). Non-superuser staff
see only tasks and instructions inside their scope (districts.scopes)."""

from django.contrib import admin

from districts import scopes

from . import selectors
from .models import Evidence, Instruction, Task, TaskAlert, TaskTransition


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return scopes.is_admin(request.user)


class TransitionInline(admin.TabularInline):
    model = TaskTransition
    extra = 0
    can_delete = False
    fields = ("at", "actor", "source", "target", "note")
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(ReadOnly):
    list_display = ("id", "title_zh", "plan", "lead_unit", "deadline", "state", "closed_on")
    list_filter = ("state",)
    search_fields = ("title_zh", "title_en", "plan__code", "lead_unit__code")
    inlines = [TransitionInline]

    def get_queryset(self, request):
        return selectors.tasks_visible(request.user).select_related("plan", "lead_unit")


@admin.register(Instruction)
class InstructionAdmin(ReadOnly):
    list_display = ("id", "author", "addressee", "task", "unit", "done", "created_at")
    list_filter = ("done",)

    def get_queryset(self, request):
        return selectors.instructions_visible(request.user)


@admin.register(Evidence)
class EvidenceAdmin(ReadOnly):
    list_display = ("id", "original_name", "kind", "size", "uploaded_by", "created_at")
    exclude = ("file", "preview")  # files are opened through the scoped view only

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if scopes.is_admin(request.user):
            return qs
        return qs.filter(progress_report__task__in=selectors.tasks_visible(request.user))


@admin.register(TaskAlert)
class TaskAlertAdmin(ReadOnly):
    list_display = ("task", "lamp", "deadline", "recipient", "created_at", "emailed_at")
    list_filter = ("lamp",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if scopes.is_admin(request.user):
            return qs
        return qs.filter(task__in=selectors.tasks_visible(request.user))
