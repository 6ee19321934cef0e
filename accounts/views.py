"""Sign-in pages: the login page (with the throttle explained), the second-factor step after
the password, and enrolment of an authenticator app."""

from __future__ import annotations

import base64

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record

from . import otp


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["cooloff_minutes"] = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return context


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _token(request) -> str:
    return "".join(request.POST.get("token", "").split())


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code from the authenticator app, after the password."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    error = False
    if request.method == "POST":
        device = django_otp.match_token(request.user, _token(request))
        if device is not None and device.confirmed:
            django_otp.login(request, device)
            audit_record(actor=request.user, action="signin.second_factor", request=request)
            return redirect(_next_url(request))
        audit_record(
            actor=request.user, action="signin.second_factor_failed", request=request, detail={}
        )
        error = True
    return render(
        request,
        "registration/otp_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up an authenticator app: a QR code (drawn here, no outside service) and a code to
    confirm it. Once confirmed, every sign-in asks for a code."""
    if not otp.may_enrol(request.user):
        raise PermissionDenied
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if confirmed and request.user.is_verified():
        return render(request, "registration/otp_enrol.html", {"enrolled": True})
    if confirmed:  # a device exists: prove it first, then (if wanted) replace it in the admin
        return redirect("otp-verify")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    error = False
    if request.method == "POST":
        if device.verify_token(_token(request)):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            request.session[otp.SESSION_KEY] = "verify"
            audit_record(
                actor=request.user,
                action="otp.enrolled",
                target=device,
                request=request,
            )
            return redirect(_next_url(request))
        error = True
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "registration/otp_enrol.html",
        {
            "qr": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "error": error,
            "required": request.session.get(otp.SESSION_KEY) == "enrol",
        },
        status=400 if error else 200,
    )
