"""Writing the audit log. Called inside the acting service's transaction, so an action that
rolls back leaves no event behind."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import models

from .context import current_request
from .models import AuditEvent


def _client_ip(request) -> str | None:
    ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    request=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Record that ``actor`` (a user, or None for an anonymous attempt) did ``action`` (a dotted
    name such as ``role.grant``) to ``target``. ``request`` defaults to the request being
    served (audit.context), for the address and browser."""
    if request is None:
        request = current_request.get()
    user = actor if getattr(actor, "is_authenticated", False) else None
    object_repr = ""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = target.pk
        object_repr = str(target)[:200]
    return AuditEvent.objects.create(
        actor=user,
        actor_username=user.get_username() if user else "",
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:64],
        object_repr=object_repr,
        detail=detail or {},
        ip=_client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""),
    )
