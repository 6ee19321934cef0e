"""The in-portal notification list: one's own only, marked read one by one or all at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from supervision import selectors
from supervision.models import Notification
from supervision.services import reminders_send

pytestmark = pytest.mark.django_db

URL = reverse("supervision:notifications")


def test_officials_see_their_reminders(client, setup):
    reminders_send(as_of=date(2025, 4, 1))
    client.force_login(setup["cast"]["alice"])
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "东城社区A" in html and "已逾期" in html and "2025-03-31" in html
    assert "石碣" not in html
    assert selectors.unread_count(setup["cast"]["alice"]) == 3


def test_marking_one_and_all_read(client, setup):
    reminders_send(as_of=date(2025, 4, 1))
    alice = setup["cast"]["alice"]
    client.force_login(alice)
    first = Notification.objects.filter(recipient=alice).first()
    client.post(reverse("supervision:notifications_read"), {"id": first.pk})
    assert selectors.unread_count(alice) == 2
    dave_note = Notification.objects.filter(recipient__username="dave").first()
    client.post(reverse("supervision:notifications_read"), {"id": dave_note.pk})
    assert Notification.objects.get(pk=dave_note.pk).read_at is None  # not alice's to mark
    client.post(reverse("supervision:notifications_read"), {"all": "1"})
    assert selectors.unread_count(alice) == 0
    assert selectors.unread_count(setup["cast"]["dave"]) == 2
    assert "东城社区A" in client.get(URL).content.decode()
    assert "东城社区A" not in client.get(URL, {"unread": "1"}).content.decode()


def test_anonymous_users_have_no_notifications(client, setup):
    assert client.get(URL).status_code == 302
