"""Every change made through the admin, and every API token made or deleted, is also an audit
event.

The admin writes its LogEntry rows through ``LogEntry.objects.log_actions``; deleting several
objects at once writes them with ``bulk_create``, which sends no ``post_save``, so the manager
method itself is wrapped rather than a signal used: one place that sees every admin add, change
and delete, of this project's models and of Django's (users, groups, tokens) alike.
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry, LogEntryManager

from .context import current_request
from .services import audit_record

_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def _record(entries) -> None:
    from django.contrib.auth import get_user_model

    users = {}
    for entry in entries:
        if entry.user_id not in users:
            users[entry.user_id] = get_user_model().objects.filter(pk=entry.user_id).first()
        audit_record(
            actor=users[entry.user_id],
            action=_ACTIONS.get(entry.action_flag, "admin.other"),
            object_type=entry.content_type.model_class()._meta.label_lower
            if entry.content_type and entry.content_type.model_class()
            else "",
            object_id=entry.object_id,
            detail={"repr": entry.object_repr, "message": entry.get_change_message()},
        )


def install() -> None:
    connect_token_signals()
    if getattr(LogEntryManager.log_actions, "_audited", False):
        return
    original = LogEntryManager.log_actions

    def log_actions(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        _record([result] if isinstance(result, LogEntry) else list(result or []))
        return result

    log_actions._audited = True
    LogEntryManager.log_actions = log_actions


def _token_saved(sender, instance, created, **kwargs):
    if not created:
        return

    request = current_request.get()
    actor = getattr(request, "user", None) if request is not None else None
    audit_record(
        actor=actor,
        action="token.create",
        object_type="authtoken.token",
        object_id=instance.user_id,
        detail={"user": instance.user.get_username(), "via": "web" if request else "command"},
    )


def _token_deleted(sender, instance, **kwargs):

    request = current_request.get()
    audit_record(
        actor=getattr(request, "user", None) if request is not None else None,
        action="token.delete",
        object_type="authtoken.token",
        object_id=instance.user_id,
        detail={"user": instance.user.get_username()},
    )


def connect_token_signals() -> None:
    """An API token, however made (``drf_create_token``, the admin, the API), is an audit event:
    the key itself is never recorded, only whose it is and who made it."""
    from django.db.models.signals import post_delete, post_save
    from rest_framework.authtoken.models import Token

    post_save.connect(_token_saved, sender=Token, dispatch_uid="audit.token_saved")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="audit.token_deleted")
