# The API fixtures (catalog, progress rows, token clients) serve these tests too.
from tests.api.conftest import catalog, client_for, progress, tokens  # noqa: F401
