"""Issue 17 — menus by role, friendly error pages, and the quick start's settings."""

from __future__ import annotations

import importlib

import pytest
from django.test import override_settings
from django.urls import reverse


def nav_links(client, cast, name) -> str:
    client.force_login(cast[name])
    html = client.get(reverse("home")).content.decode()
    return html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]


def test_leader_is_not_offered_entry_or_review(client, cast):
    nav = nav_links(client, cast, "carol")
    assert reverse("districts:index") not in nav
    assert reverse("districts:review") not in nav


def test_official_is_offered_entry_not_review(client, cast):
    nav = nav_links(client, cast, "alice")
    assert reverse("districts:index") in nav
    assert reverse("districts:review") not in nav


def test_the_data_pages_tabs_offer_review_only_to_reviewers(client, cast):
    client.force_login(cast["alice"])
    assert (
        reverse("districts:review") not in client.get(reverse("districts:index")).content.decode()
    )
    client.force_login(cast["bob"])
    assert reverse("districts:review") in client.get(reverse("districts:index")).content.decode()


def test_every_role_is_offered_the_accountability_pages(client, cast):
    for name in ("alice", "bob", "carol"):
        assert reverse("accountability:index") in nav_links(client, cast, name)


def test_reviewer_is_offered_review(client, cast):
    nav = nav_links(client, cast, "bob")
    assert reverse("districts:review") in nav


@override_settings(DEBUG=False)
def test_404_is_friendly_and_bilingual(client, cast):
    client.force_login(cast["alice"])
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and "Page not found" in body
    assert reverse("home") in body


@override_settings(DEBUG=False)
def test_403_is_friendly_and_bilingual(rf, cast):
    from django.views.defaults import permission_denied

    request = rf.get("/x/")
    request.user = cast["carol"]
    body = permission_denied(request, Exception("no")).content.decode()
    assert "无权访问" in body and "Access denied" in body


def test_500_renders_without_a_request_context(rf):
    from config import urls

    handler = importlib.import_module(urls.handler500.rsplit(".", 1)[0])
    view = getattr(handler, urls.handler500.rsplit(".", 1)[1])
    body = view(rf.get("/")).content.decode()
    assert "系统出错" in body and "Something went wrong" in body


@pytest.mark.parametrize(("env", "debug"), [({}, False), ({"DEBUG": "1"}, True)])
def test_quick_start_debug_is_off_unless_asked(monkeypatch, env, debug):
    monkeypatch.delenv("DEBUG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import config.settings.local as local

    local = importlib.reload(local)
    assert local.DEBUG is debug
    assert local.WHITENOISE_USE_FINDERS is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in local.MIDDLEWARE
