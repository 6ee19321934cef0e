"""The sign-in throttle as an authentication backend (django-axes)."""

from axes.backends import AxesStandaloneBackend


class ThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out user name or address before any password is checked.

    axes refuses outright a sign-in made without a request; the test client's ``login()`` and
    scripts make those, and they are not web sign-ins an attacker can repeat, so they pass here
    to the next backend. Every sign-in through the portal, the admin and the API's session
    login carries a request and is throttled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
