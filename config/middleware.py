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
