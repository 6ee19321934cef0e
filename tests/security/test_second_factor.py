"""The optional TOTP second factor (django-otp) for administrators and reviewers."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import PASSWORD


def _code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _sign_in(client, username):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


@pytest.fixture
def bob_device(cast):
    return TOTPDevice.objects.create(user=cast["bob"], name="phone", confirmed=True)


def test_a_user_with_a_device_must_give_the_code_after_the_password(client, bob_device):
    _sign_in(client, "bob")
    response = client.get("/data/review/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/?next=")
    assert client.get("/api/docs/").status_code == 302

    wrong = client.post("/accounts/verify/", {"token": "000000", "next": "/data/review/"})
    assert wrong.status_code == 400
    assert AuditEvent.objects.filter(action="signin.second_factor_failed").count() == 1
    # A wrong code holds the device back for a moment (django-otp's throttle), right code or not.
    refused = client.post("/accounts/verify/", {"token": _code(bob_device)})
    assert refused.status_code == 400
    bob_device.refresh_from_db()
    bob_device.throttle_reset()

    right = client.post("/accounts/verify/", {"token": _code(bob_device), "next": "/data/review/"})
    assert right.status_code == 302 and right["Location"] == "/data/review/"
    assert client.get("/data/review/").status_code == 200


def test_the_verify_step_does_not_send_to_another_site(client, bob_device):
    _sign_in(client, "bob")
    response = client.post(
        "/accounts/verify/", {"token": _code(bob_device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_user_without_a_device_signs_in_with_the_password_alone(client, cast):
    _sign_in(client, "bob")
    assert client.get("/data/review/").status_code == 200


def test_a_reviewer_enrols_with_a_qr_code_drawn_by_the_portal(client, cast):
    client.force_login(cast["bob"])
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=cast["bob"], confirmed=False)
    assert client.post("/accounts/two-factor/", {"token": "000000"}).status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # the wrong code's pause, which the test does not wait out
    assert client.post("/accounts/two-factor/", {"token": _code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="otp.enrolled", actor=cast["bob"]).exists()
    # The next sign-in asks for a code.
    client.logout()
    _sign_in(client, "bob")
    assert client.get("/").status_code == 302


def test_an_official_has_no_second_factor_page(client, cast):
    client.force_login(cast["alice"])
    assert client.get("/accounts/two-factor/").status_code == 403


@override_settings(OTP_REQUIRED_FOR_STAFF=True)
def test_when_required_an_administrator_must_enrol_before_anything_else(client, cast):
    _sign_in(client, "admin")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")
    assert "要求您的账号启用两步验证" in client.get(response["Location"]).content.decode()
    # An official is not asked.
    other = client.__class__()
    _sign_in(other, "alice")
    assert other.get("/data/").status_code == 200
