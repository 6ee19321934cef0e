"""The request being served, so that a service deep below a view can say where an action came
from without every signature carrying the request."""

from contextvars import ContextVar

current_request: ContextVar = ContextVar("audit_current_request", default=None)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
