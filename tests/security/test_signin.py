"""Defect 9 and the sign-in standard: wrong passwords lock a user name and an address (django-axes),
the lock is explained and lifted by an administrator; sign-ins and failures are recorded;
sessions lapse when idle; passwords chosen through forms are checked."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from audit.models import AuditEvent
from tests.conftest import PASSWORD


def _sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT="pytest-browser",
    )


def test_the_right_password_is_refused_after_repeated_wrong_ones(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "alice", "wrong").status_code == 200
    assert _sign_in(client, "alice", "wrong").status_code == 429  # the one that locks
    response = _sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "登录已暂停" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_the_user_name_from_another_address(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "alice", "wrong", ip="10.0.0.1")
    assert _sign_in(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 429


def test_one_address_trying_many_names_is_locked(client, cast):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, f"guess{n}", "wrong", ip="10.0.0.9")
    assert _sign_in(client, "dave", PASSWORD, ip="10.0.0.9").status_code == 429
    assert _sign_in(client, "dave", PASSWORD, ip="10.0.0.10").status_code == 302


def test_signing_into_ones_own_account_does_not_reset_the_count_against_another(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "alice", "wrong", ip="10.0.0.5")
    assert _sign_in(client, "dave", PASSWORD, ip="10.0.0.5").status_code == 302
    client.logout()
    assert _sign_in(client, "alice", "wrong", ip="10.0.0.5").status_code == 429


def test_an_administrator_sees_and_lifts_the_lock_in_the_admin(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "alice", "wrong")
    admin = client.__class__()
    admin.force_login(cast["admin"])
    listing = admin.get("/admin/axes/accessattempt/").content.decode()
    assert "alice" in listing
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert _sign_in(client, "alice", PASSWORD).status_code == 302


def test_the_login_page_explains_the_lock(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert f"连续 {settings.AXES_FAILURE_LIMIT} 次登录失败" in page


def test_sign_ins_and_failures_are_recorded_with_address_and_browser(client, cast):
    _sign_in(client, "alice", "wrong", ip="10.1.2.3")
    _sign_in(client, "alice", PASSWORD, ip="10.1.2.3")
    failed = AuditEvent.objects.get(action="signin.failed")
    assert failed.detail == {"username": "alice"}
    assert (failed.ip, failed.user_agent) == ("10.1.2.3", "pytest-browser")
    signed_in = AuditEvent.objects.get(action="signin")
    assert signed_in.actor == cast["alice"] and signed_in.ip == "10.1.2.3"


def test_an_idle_session_lapses_and_a_used_one_is_kept_alive(client, cast, monkeypatch):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600  # SESSION_IDLE_SECONDS default
    client.force_login(cast["alice"])
    session = client.session
    session["last_seen"] = int(time.time()) - 3600  # an hour since the last page
    session.set_expiry(None)
    session.save()
    from django.contrib.sessions.models import Session

    before = Session.objects.get(session_key=session.session_key).expire_date
    response = client.get("/data/")
    assert response.status_code == 200
    after = Session.objects.get(session_key=session.session_key).expire_date
    assert after > before  # pushed SESSION_IDLE_SECONDS ahead of now
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE

    Session.objects.filter(session_key=session.session_key).update(
        expire_date=before.replace(year=2000)
    )
    assert client.get("/data/").status_code == 302  # back to the login page


@pytest.mark.parametrize("password", ["demo", "admin", "12345678901", "password123"])
def test_weak_passwords_are_refused_where_a_person_chooses_one(password, db):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_the_quick_start_logins_still_work(client, db):
    call_command("ensure_admin", "--username", "admin", "--password", "admin")
    assert get_user_model().objects.get(username="admin").check_password("admin")
    assert _sign_in(client, "admin", "admin").status_code == 302
