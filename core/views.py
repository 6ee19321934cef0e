"""The view decorator every app's pages use."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render


def scoped_by(forbidden_template: str):
    """A view decorator: login required, and a PermissionDenied from a selector or service
    becomes the 403 page ``forbidden_template`` (each app's page links back to its own start)."""

    def scoped(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return render(request, forbidden_template, {"reason": str(exc or "")}, status=403)

        return wrapper

    return scoped
