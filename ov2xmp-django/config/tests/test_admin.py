"""Every model the admin shows opens, for a superuser, with data in it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from chargepoints.tests.factories import StatusNotificationFactory
from transactions.tests.factories import MeterValueFactory

pytestmark = pytest.mark.django_db


def test_every_changelist_and_change_page_opens(client, admin_user):
    StatusNotificationFactory()
    MeterValueFactory()
    client.force_login(admin_user)
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        first = model.objects.first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def test_reported_data_cannot_be_edited_in_the_admin(client, admin_user):
    notification = StatusNotificationFactory()
    client.force_login(admin_user)
    url = reverse("admin:chargepoints_statusnotification_change", args=[notification.pk])
    client.post(url, {"status": "Faulted"})
    notification.refresh_from_db()
    assert notification.status != "Faulted"
