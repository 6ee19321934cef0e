"""What the main menu offers: only the pages the signed-in user's roles can use (a leader is not
offered 数据填报 or 审核, an official not 审核), by the one permission rule (districts.scopes)."""

from __future__ import annotations

from . import scopes


def _has(user, action: str) -> bool:
    return scopes.is_admin(user) or bool(scopes.scope_paths(user, action))


def menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu_can_write": False, "menu_can_review": False}
    return {
        "menu_can_write": _has(user, scopes.WRITE),
        "menu_can_review": _has(user, scopes.REVIEW),
    }
