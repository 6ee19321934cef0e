"""The values services the API calls (issue 12): the API maps their outcomes to HTTP and does no
domain work of its own — existence, not_above, locking and the version check live here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.periods import Period
from districts import services
from districts.models import DataValue


def test_value_put_says_whether_it_created(cast, catalog, tree):
    pop = catalog["elements"]["population.resident"]
    key = dict(element=pop, org_unit=tree["441900003001"], period=Period.parse("2016"))
    row, created = services.value_put(actor=cast["alice"], value=Decimal(10), **key)
    assert created and row.version == 1 and row.source == "api"
    row, created = services.value_put(actor=cast["alice"], value=Decimal(11), **key)
    assert not created and row.version == 2


def test_value_put_with_must_exist_refuses_to_create(cast, catalog, tree):
    pop = catalog["elements"]["population.resident"]
    with pytest.raises(services.StaleVersionError):
        services.value_put(
            actor=cast["alice"], element=pop, org_unit=tree["441900003001"],
            period=Period.parse("2016"), value=Decimal(1), must_exist=True,
        )  # fmt: skip
    assert not DataValue.objects.exists()


def test_not_above_is_checked_by_the_service(cast, values, catalog, tree):
    vol = catalog["elements"]["volunteers.registered"]
    unit, period = tree["441900003001"], Period.parse("2015")
    limit = values["441900003001"].value
    with pytest.raises(ValidationError) as caught:
        services.value_check_not_above(element=vol, org_unit=unit, period=period, value=limit + 1)
    assert "population.resident" in caught.value.message_dict["value"][0]
    services.value_check_not_above(element=vol, org_unit=unit, period=period, value=limit)
    with pytest.raises(ValidationError):
        services.value_put(
            actor=cast["alice"], element=vol, org_unit=unit, period=period, value=limit + 1
        )
    assert not DataValue.objects.filter(element=vol).exists()


def test_value_change_keeps_what_it_is_not_given_and_needs_the_version(cast, values):
    value = values["441900003002"]
    changed = services.value_change(
        actor=cast["alice"], value=value, expected_version=value.version, comment="已核对"
    )
    assert changed.value == value.value and changed.comment == "已核对"
    with pytest.raises(services.StaleVersionError):
        services.value_change(
            actor=cast["alice"], value=value, expected_version=value.version, new_value=Decimal(3)
        )


def test_value_review_checks_the_version_it_was_read_at(cast, values):
    value = values["441900003002"]
    with pytest.raises(services.StaleVersionError):
        services.value_review(
            actor=cast["bob"], value=value, decision="approve",
            expected_version=value.version + 1,
        )  # fmt: skip
    assert DataValue.objects.get(pk=value.pk).state == DataValue.SUBMITTED
    reviewed = services.value_review(
        actor=cast["bob"], value=value, decision="reject", comment="不符",
        expected_version=value.version,
    )  # fmt: skip
    assert reviewed.state == DataValue.REJECTED and reviewed.review_comment == "不符"


def test_the_api_module_does_no_domain_work():
    import inspect

    from districts import api

    source = inspect.getsource(api)
    for needle in ("select_for_update", "transaction", "_check_not_above", ".exists()"):
        assert needle not in source, needle
