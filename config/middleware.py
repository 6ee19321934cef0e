"""Request-wide behaviour shared by every page."""

from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose English on the switch (the language cookie).

    Django's own middleware would follow the browser's Accept-Language, so a portal opened in
    an English-language browser would start in English; the product is Chinese first.
    """

    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` (settings.PERMISSIONS_POLICY): camera, microphone, location
    and the like are switched off for the portal, so a script that got in could not ask for them."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


class IdleSessionMiddleware:
    """Keeps an active session alive and lets an idle one lapse (SESSION_IDLE_SECONDS).

    A session's expiry is set when it is saved; saving on every request (Django's
    SESSION_SAVE_EVERY_REQUEST) would cost a write per page. Touching the session at most once a
    minute gives the same idle limit to within that minute for one write a minute.
    """

    TOUCH_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            last = session.get("last_seen")
            if not isinstance(last, int) or now - last >= self.TOUCH_EVERY:
                session["last_seen"] = now
        return self.get_response(request)
