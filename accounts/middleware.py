"""Holds a signed-in user at the second-factor step until the code is given."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from . import otp

# Pages a user between password and code may still reach: the steps themselves, signing out,
# the language switch, and static files (WhiteNoise serves those before us anyway).
_OPEN_NAMES = ("otp-verify", "otp-enrol", "logout", "login", "set_language")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            need = request.session.get(otp.SESSION_KEY)
            if need is None:  # a session from before the second factor existed
                need = otp.requirement(user)
                request.session[otp.SESSION_KEY] = need
            if need and not self._open(request):
                target = "otp-verify" if need == "verify" else "otp-enrol"
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse(target)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        path = request.path_info
        if path.startswith("/static/"):
            return True
        return any(path == reverse(name) for name in _OPEN_NAMES)
