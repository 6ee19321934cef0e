"""The one permission rule: a role on a unit covers its subtree and nothing else."""

from __future__ import annotations

import pytest

from districts import scopes
from districts.models import DataValue, OrgUnit
from tests import factories


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_official_reads_and_writes_only_their_subtree(cast, tree):
    alice = cast["alice"]
    assert codes(scopes.units_in_scope(alice, scopes.WRITE)) == {
        "441900003",
        "441900003001",
        "441900003002",
    }
    assert scopes.can(alice, scopes.WRITE, tree["441900003001"])
    assert not scopes.can(alice, scopes.WRITE, tree["441900101001"])  # another town
    assert not scopes.can(alice, scopes.WRITE, tree["441900"])  # the city above her
    assert not scopes.can(alice, scopes.REVIEW, tree["441900003001"])  # officials do not review


def test_reviewer_reviews_city_subtree_but_does_not_enter(cast, tree):
    bob = cast["bob"]
    assert scopes.can(bob, scopes.REVIEW, tree["441900101001"])
    assert not scopes.can(bob, scopes.WRITE, tree["441900101001"])
    assert not scopes.can(bob, scopes.READ, tree["442000001001"])  # Zhongshan


def test_leader_reads_only_their_city(cast, tree):
    erin = cast["erin"]
    assert codes(scopes.units_in_scope(erin)) == {"442000", "442000001", "442000001001"}
    assert not scopes.can(erin, scopes.READ, tree["441900"])


def test_admin_everywhere_and_user_without_role_nowhere(cast, tree):
    assert scopes.scope_paths(cast["admin"]) is None
    assert codes(scopes.units_in_scope(cast["admin"])) == set(tree)
    assert not scopes.units_in_scope(cast["zoe"]).exists()
    assert not scopes.can(cast["zoe"], scopes.READ, tree["441900"])


def test_similar_code_prefix_is_not_inside_scope(cast, tree):
    """Paths end with '/', so unit 4419000031 is not inside 441900003's subtree."""
    lookalike = OrgUnit.objects.create(
        code="4419000031",
        name_zh="相似代码",
        level="community",
        parent=tree["441900"],
        path="441900/4419000031/",
        depth=1,
    )
    assert not scopes.can(cast["alice"], scopes.READ, lookalike)


@pytest.mark.django_db
def test_filter_in_scope_filters_values_by_unit(cast, tree):
    from decimal import Decimal

    element = factories.element("x.count", name_zh="x")
    for code in ("441900003001", "441900101001", "442000001001"):
        DataValue.objects.create(
            element=element,
            org_unit=tree[code],
            period="2015",
            period_start="2015-01-01",
            period_end="2015-12-31",
            value=Decimal(1),
        )
    visible = scopes.filter_in_scope(DataValue.objects.all(), cast["alice"])
    assert set(visible.values_list("org_unit__code", flat=True)) == {"441900003001"}
    carol = scopes.filter_in_scope(DataValue.objects.all(), cast["carol"])
    assert set(carol.values_list("org_unit__code", flat=True)) == {"441900003001", "441900101001"}
