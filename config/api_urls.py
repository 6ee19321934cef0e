"""/api/v1/ routes (SPEC §4.5)."""

urlpatterns: list = []
