"""API fixtures: a small catalog on the shared tree, values and progress rows in every unit, and
token clients for the cast (see tests/conftest.py for who holds which role where)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests import factories

# Units of the shared tree, by the cast's view of them.
DONGGUAN = ["441900", "441900003", "441900003001", "441900003002", "441900101", "441900101001"]
DONGCHENG = ["441900003", "441900003001", "441900003002"]  # alice (official)
SHIJIE = ["441900101", "441900101001"]  # dave (official)
ZHONGSHAN = ["442000", "442000001", "442000001001"]  # erin (leader)
ALL_UNITS = DONGGUAN + ZHONGSHAN

# Which org units each of the cast may read (data values, progress).
READS = {
    "admin": set(ALL_UNITS),
    "alice": set(DONGCHENG),
    "dave": set(SHIJIE),
    "bob": set(DONGGUAN),
    "carol": set(DONGGUAN),
    "erin": set(ZHONGSHAN),
    "zoe": set(),
}


@pytest.fixture
def catalog(tree):
    """Two elements, a Dongguan plan with two indicators and a Zhongshan plan with one."""
    from targets.models import Goal, Indicator, Plan

    pop = factories.element("population.resident")
    vol = factories.element("volunteers.registered", not_above=pop)
    rate = factories.element("services.online_rate")
    plans = {}
    for code, city in (("dongguan-2012-14", "441900"), ("zhongshan-2014-1", "442000")):
        plan = Plan.objects.create(
            code=code, city=tree[city], title_zh=f"{tree[city].name_zh}社会建设意见",
            document_number="东委发〔2012〕14号", issued_on=date(2012, 5, 28),
        )  # fmt: skip
        goal = Goal.objects.create(plan=plan, code="19", title_zh="志愿服务", position=1)
        prefix = code.split("-")[0][:2]
        Indicator.objects.create(
            code=f"{prefix}.volunteers.share", plan=plan, goal=goal, position=1,
            name_zh="注册志愿者占常住人口比例", kind="ratio", numerator=vol, denominator=pop,
            factor=Decimal(100), unit="%", comparator=">=", target=Decimal(12),
            deadline=date(2015, 12, 31), baseline_value=Decimal("6.5"), baseline_period="2011",
            quote="力争到2015年全市注册志愿者占常住人口的12%以上",
        )  # fmt: skip
        if city == "441900":
            Indicator.objects.create(
                code=f"{prefix}.online", plan=plan, goal=goal, position=2, name_zh="网上办理率",
                kind="value", element=rate, unit="%", comparator=">=", target=Decimal(90),
                deadline=date(2015, 12, 31), quote="=HYPERLINK(\"http://x\")",
            )  # fmt: skip
        plans[code] = plan
    return {"elements": {e.code: e for e in (pop, vol, rate)}, "plans": plans}


@pytest.fixture
def values(cast, catalog, tree):
    """population.resident 2015 in every unit, entered by the administrator; the Dongguan
    communities' values submitted, 东城社区A's approved."""
    from core.periods import Period
    from districts.services import value_save, values_approve

    pop = catalog["elements"]["population.resident"]
    rows = {}
    for code in ALL_UNITS:
        rows[code] = value_save(
            actor=cast["admin"], element=pop, org_unit=tree[code], period=Period.parse("2015"),
            value=Decimal(1000 + len(rows)), submit=code.startswith("441900003"),
        )  # fmt: skip
    values_approve(actor=cast["bob"], values=[rows["441900003001"]])
    for row in rows.values():
        row.refresh_from_db()
    return rows


def make_progress(indicators, units, periods=("2014", "2015")) -> int:
    from reports.models import ProgressRow

    rows = []
    for indicator in indicators:
        for unit in units:
            for i, period in enumerate(periods):
                rows.append(
                    ProgressRow(
                        indicator=indicator, org_unit=unit, period=period,
                        period_end=date(int(period[:4]), 12, 31), value=Decimal("7.5") + i,
                        numerator=Decimal(75), denominator=Decimal(1000), target=Decimal(12),
                        comparator=">=", deadline=date(2015, 12, 31), expected=Decimal("9.25"),
                        percent_of_target=Decimal("62.5"), status="off_track" if i else "at_risk",
                        forecast=Decimal("10.1"), completeness=Decimal("0.5"), ratio=0.4,
                        score=float("nan") if i else None,
                    )
                )  # fmt: skip
    ProgressRow.objects.bulk_create(rows)
    return len(rows)


@pytest.fixture
def progress(catalog, tree):
    from targets.models import Indicator

    return make_progress(Indicator.objects.all(), tree.values())


@pytest.fixture
def tokens(cast):
    from rest_framework.authtoken.models import Token

    return {name: Token.objects.create(user=user).key for name, user in cast.items()}


@pytest.fixture
def client_for(tokens):
    """``client_for("alice")`` is an API client sending alice's token; ``client_for(None)``
    sends nothing."""
    from rest_framework.test import APIClient

    def make(name: str | None):
        client = APIClient()
        if name is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[name]}")
        return client

    return make
