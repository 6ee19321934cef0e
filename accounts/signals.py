"""Sign-ins and refused sign-ins go to the audit log; the second-factor requirement and the
idle clock are set on the new session."""

import time

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from audit.services import audit_record

from . import otp

IDLE_KEY = "last_seen"


@receiver(user_logged_in, dispatch_uid="accounts.signed_in")
def signed_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    request.session[otp.SESSION_KEY] = otp.requirement(user)
    request.session[IDLE_KEY] = int(time.time())
    audit_record(actor=user, action="signin", request=request)


@receiver(user_login_failed, dispatch_uid="accounts.sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_record(
        actor=None,
        action="signin.locked_out" if locked else "signin.failed",
        request=request,
        detail={"username": str(username)[:150]},
    )
